"""LinearBlendClassifier: DIET's ranking averaged with a logistic regression on the same sparse features."""
from __future__ import annotations

from pathlib import Path
from typing import List

import numpy as np
import pytest
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.nlu.constants import FEATURE_TYPE_SENTENCE, INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.features import Features
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData
from scipy.sparse import csr_matrix

from loginhelp.nlu.linear_blend import LinearBlendClassifier, blend

# Three "words" as sparse sentence features: 0 -> greet, 1 -> goodbye, 2 -> noise.
VOCAB = 3


def _message(word: int, intent: str = None, ranking: List[dict] = None, number: int = 0) -> Message:
    vector = np.zeros((1, VOCAB))
    vector[0, word] = 1.0
    data = {TEXT: f"w{word} #{number}"}
    if intent:
        data[INTENT] = intent
    message = Message(data=data)
    message.add_features(Features(csr_matrix(vector), FEATURE_TYPE_SENTENCE, TEXT, "CountVectorsFeaturizer"))
    if ranking:
        message.set(INTENT_RANKING_KEY, ranking)
        message.set(INTENT, ranking[0])
    return message


def _training() -> TrainingData:
    return TrainingData([_message(0, "greet", number=n) for n in range(10)]
                        + [_message(1, "goodbye", number=n) for n in range(10)])


@pytest.fixture()
def storage(tmp_path: Path) -> LocalModelStorage:
    return LocalModelStorage(tmp_path)


def _component(storage: LocalModelStorage, **config) -> LinearBlendClassifier:
    context = ExecutionContext(GraphSchema({}), node_name="blend")
    return LinearBlendClassifier.create({**LinearBlendClassifier.get_default_config(), **config},
                                        storage, Resource("blend"), context)


def test_blend_weights_and_missing_intents():
    ranking = [{"name": "a", "confidence": 0.8}, {"name": "b", "confidence": 0.2}]
    out = blend(ranking, {"b": 0.9, "c": 0.1}, 0.5)
    assert [e["name"] for e in out] == ["b", "a", "c"]
    assert out[0]["confidence"] == pytest.approx(0.55)
    assert out[1]["confidence"] == pytest.approx(0.4)
    assert out[2]["confidence"] == pytest.approx(0.05)
    assert blend(ranking, {"b": 1.0}, 0.0)[0] == {"name": "a", "confidence": pytest.approx(0.8)}
    assert blend([], {"b": 0.7, "c": 0.3}, 0.5)[0] == {"name": "b", "confidence": pytest.approx(0.7)}


def test_the_linear_model_outvotes_an_unsure_diet_but_not_a_sure_one(storage: LocalModelStorage):
    component = _component(storage, weight=0.5)
    component.train(_training())
    unsure = _message(1, ranking=[{"name": "greet", "confidence": 0.55}, {"name": "goodbye", "confidence": 0.45}])
    sure = _message(1, ranking=[{"name": "greet", "confidence": 1.0}, {"name": "goodbye", "confidence": 0.0}])
    component.process([unsure, sure])
    assert unsure.get(INTENT)["name"] == "goodbye"
    assert sum(e["confidence"] for e in unsure.get(INTENT_RANKING_KEY)) == pytest.approx(1.0)
    assert sure.get(INTENT)["name"] == "greet"


def test_training_labels_are_left_alone(storage: LocalModelStorage):
    component = _component(storage)
    data = _training()
    component.train(data)
    component.process_training_data(data)
    assert [m.get(INTENT) for m in data.training_examples] == ["greet"] * 10 + ["goodbye"] * 10


def test_persisted_model_loads_and_predicts_the_same(storage: LocalModelStorage):
    component = _component(storage)
    resource = component.train(_training())
    context = ExecutionContext(GraphSchema({}), node_name="blend")
    loaded = LinearBlendClassifier.load(LinearBlendClassifier.get_default_config(), storage, resource, context)
    first, second = _message(0, ranking=[]), _message(0, ranking=[])
    component.process([first])
    loaded.process([second])
    assert first.get(INTENT_RANKING_KEY) == second.get(INTENT_RANKING_KEY)
    assert second.get(INTENT)["name"] == "greet"


def test_weight_outside_0_1_is_refused(storage: LocalModelStorage):
    with pytest.raises(ValueError, match="weight"):
        _component(storage, weight=1.5)


def test_a_message_without_features_keeps_diets_answer(storage: LocalModelStorage):
    """An empty or blank message has no sentence features; it must not break the batch or lose DIET's answer."""
    component = _component(storage)
    component.train(_training())
    empty = Message(data={TEXT: ""})
    ranking = [{"name": "greet", "confidence": 0.6}, {"name": "goodbye", "confidence": 0.4}]
    empty.set(INTENT_RANKING_KEY, ranking)
    empty.set(INTENT, ranking[0])
    other = _message(1, ranking=[{"name": "greet", "confidence": 0.5}, {"name": "goodbye", "confidence": 0.5}])
    component.process([empty, other])
    assert empty.get(INTENT) == {"name": "greet", "confidence": 0.6}
    assert empty.get(INTENT_RANKING_KEY) == ranking
    assert other.get(INTENT)["name"] == "goodbye"
