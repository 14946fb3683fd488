"""Blend DIET's intent ranking with a logistic regression on the same sparse features.

Why: cross-validation (bench/results/nlu.md) showed DIET and a linear model
making different mistakes on this data. DIET, without its transformer for the
sake of training time, is strong on varied wording but shaky on short and rare
phrasings ("ya", "certainly", a bare device name), where a linear model over the
same word and character n-grams is steadier; of DIET's out-of-fold errors, a
plain TF-IDF + logistic regression got about half right. Averaging the two
probability distributions keeps what each does well for a few seconds of
training and well under a millisecond per message.

This is Rasa's own ``LogisticRegressionClassifier`` (features, training and its
skops persistence unchanged) placed after DIET: instead of overwriting DIET's
prediction it mixes its probabilities into DIET's ranking with ``weight``. It
must come after DIETClassifier and before FallbackClassifier, which then judges
the blended confidence. DIET should report its whole ranking (``ranking_length:
0``) so that the blend sees every intent.
"""
from __future__ import annotations

import logging
from typing import Any, Dict, List, Text

import scipy.sparse

from rasa.engine.graph import ExecutionContext
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.logistic_regression_classifier import LogisticRegressionClassifier
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData
from rasa.utils.tensorflow.constants import RANKING_LENGTH

log = logging.getLogger(__name__)


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True)
class LinearBlendClassifier(LogisticRegressionClassifier):
    """Logistic regression whose probabilities are averaged into the previous classifier's ranking."""

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {
            **LogisticRegressionClassifier.get_default_config(),
            "max_iter": 1000,  # Rasa's 100 stops lbfgs before it converges on this data
            "C": 1.0,
            "weight": 0.5,  # share of the linear model in the blended confidence
        }

    def __init__(self, config: Dict[Text, Any], name: Text, model_storage: ModelStorage,
                 resource: Resource) -> None:
        super().__init__(config, name, model_storage, resource)
        self.clf.C = float(self.config["C"])
        self.weight = float(self.config["weight"])
        if not 0.0 <= self.weight <= 1.0:
            raise ValueError(f"{name}: weight must be between 0 and 1, not {self.weight}")

    @classmethod
    def create(cls, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource,
               execution_context: ExecutionContext) -> "LinearBlendClassifier":
        return cls(config, execution_context.node_name, model_storage, resource)

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        """Training examples keep their labels (Rasa's version would overwrite them with predictions)."""
        return training_data

    def process(self, messages: List[Message]) -> List[Message]:
        if not hasattr(self.clf, "classes_"):  # trained on no data: leave DIET's answer alone
            return messages
        # An empty or blank message has no sentence features (DIET copes, a linear
        # model cannot): its ranking stays DIET's.
        # (Rasa's _create_X would combine each message's features a second time.)
        sentences = [(m, m.get_sparse_features(attribute=TEXT)[1]) for m in messages]
        featured = [(m, f.features) for m, f in sentences if f is not None]
        if not featured:
            return messages
        probabilities = self.clf.predict_proba(scipy.sparse.vstack([f for _, f in featured]))
        classes = [str(name) for name in self.clf.classes_]
        for (message, _), row in zip(featured, probabilities):
            blended = blend(message.get(INTENT_RANKING_KEY) or [], dict(zip(classes, row)), self.weight)
            if not blended:
                continue
            ranking = blended[: self.config[RANKING_LENGTH]] if self.config[RANKING_LENGTH] > 0 else blended
            message.set(INTENT, dict(ranking[0]), add_to_output=True)
            message.set(INTENT_RANKING_KEY, ranking, add_to_output=True)
        return messages


def blend(ranking: List[Dict[str, Any]], linear: Dict[str, float], weight: float) -> List[Dict[str, Any]]:
    """(1 - weight) * the ranking's confidences + weight * the linear model's, best first.

    An intent missing from one side counts as 0 there; with no ranking at all
    (no previous classifier) the linear model decides alone.
    """
    previous = {entry["name"]: float(entry.get("confidence") or 0.0) for entry in ranking if entry.get("name")}
    if not previous:
        weight = 1.0
    names = set(previous) | set(linear)
    scores = {name: (1.0 - weight) * previous.get(name, 0.0) + weight * float(linear.get(name, 0.0))
              for name in names}
    return [{"name": name, "confidence": score}
            for name, score in sorted(scores.items(), key=lambda item: (-item[1], item[0]))]
