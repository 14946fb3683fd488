"""The intent classifier and its concept lexicon, through Rasa's component API."""
from __future__ import annotations

import logging
from pathlib import Path

import pytest
import yaml
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.nlu.utils.spacy_utils import SpacyNLP
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from loginhelp.contract import SENTENCE_INTENTS_KEY
from loginhelp.nlu import concepts as concept_module
from loginhelp.nlu.concepts import Concepts, fold
from loginhelp.nlu.intent_classifier import NO_CONCEPT, ConceptIntentClassifier, words_view

REPO = Path(__file__).resolve().parents[1]
SPACY_MODEL = REPO / "build" / "spacy" / "loginhelp_en"

TRAINING = {
    "contact_support": ["i want to talk to a human", "connect me with an agent", "can a person help me",
                        "i need customer support", "put me through to your staff"],
    "account_locked": ["my account is locked", "account frozen", "they blocked my account",
                       "my account got suspended", "locked out of my account"],
    "wrong_credentials": ["it says wrong password", "password incorrect", "incorrect password error",
                          "the password is not accepted", "wrong password but it is right"],
    "greet": ["hi", "hello", "hey there", "good morning", "hello coinex"],
    "inform": ["my email is anna@example.com", "a@b.co", "iphone 13", "samsung galaxy s22", "bob@mail.com"],
}


@pytest.fixture(scope="module")
def lexicon() -> Concepts:
    return Concepts.from_file()


@pytest.fixture(scope="module")
def spacy_nlp():
    if not SPACY_MODEL.exists():
        pytest.skip("the spaCy pipeline is built by `make spacy`")
    return SpacyNLP.load_model(str(SPACY_MODEL))


def featurised(spacy_nlp, texts, intents=None):
    messages = [Message.build(text=t, intent=i) for t, i in zip(texts, intents or [None] * len(texts))]
    nlp = SpacyNLP.create({**SpacyNLP.get_default_config(), "model": str(SPACY_MODEL)}, None, None, None)
    if intents:
        nlp.process_training_data(TrainingData(messages), spacy_nlp)
    else:
        nlp.process(messages, spacy_nlp)
    return messages


@pytest.fixture()
def storage(tmp_path):
    return LocalModelStorage(tmp_path)


def trained(storage, spacy_nlp, config=None) -> ConceptIntentClassifier:
    texts = [t for ts in TRAINING.values() for t in ts]
    intents = [i for i, ts in TRAINING.items() for _ in ts]
    resource = Resource("intent_classifier")
    classifier = ConceptIntentClassifier.create(
        {**ConceptIntentClassifier.get_default_config(), **(config or {})}, storage, resource,
        ExecutionContext(GraphSchema({}), "test"),
    )
    classifier.train(TrainingData(featurised(spacy_nlp, texts, intents)))
    return classifier


# -- concepts ----------------------------------------------------------------------

def test_folding_ignores_case_and_accents():
    assert fold("Şifre YANLIŞ") == "sifre yanlis"
    assert fold("Tài khoản bị khóa") == "tai khoan bi khoa"
    assert fold("mot de passe oublié") == "mot de passe oublie"


@pytest.mark.parametrize(
    "text, expected",
    [
        ("can I speak to an operator", {"human", "contact"}),
        ("my account was deactivated", {"account", "locked"}),
        ("senha incorreta", {"password", "wrong"}),
        ("şifremi unuttum", {"forgot"}),
        ("is this page genuine?", {"genuine"}),
        ("gracias", {"thanks"}),
    ],
)
def test_the_lexicon_finds_customers_words(lexicon, text, expected):
    assert expected <= set(lexicon.find(text))


@pytest.mark.parametrize("text, absent", [("cooperator", "human"), ("reopen", "open_ticket"), ("shipment", "help")])
def test_concepts_match_whole_words_only(lexicon, text, absent):
    assert absent not in lexicon.find(text)


def test_every_concept_lists_phrases_once():
    raw = yaml.safe_load(concept_module.LEXICON.read_text(encoding="utf-8"))
    for name, phrases in raw.items():
        assert phrases, name
        folded = [fold(str(p)) for p in phrases]
        assert len(folded) == len(set(folded)), f"{name} lists a phrase twice"


def test_a_concept_without_phrases_is_refused():
    with pytest.raises(ValueError, match="lists no phrases"):
        Concepts({"empty": []})


# -- the words view ---------------------------------------------------------------

def test_words_view_reads_entity_shapes_and_concepts(spacy_nlp, lexicon):
    doc = spacy_nlp.model("my email is anna@example.com and my account is blocked")
    view = words_view(doc, lexicon).split()
    assert "anna@example.com" not in view and view.count("ENT_email") == 2  # in place, and once more as a shape
    assert {"Caccount", "Clocked"} <= set(view)


def test_words_view_marks_a_message_without_concepts(spacy_nlp, lexicon):
    assert words_view(spacy_nlp.model("purple elephants"), lexicon).split()[-1] == NO_CONCEPT


# -- the classifier ---------------------------------------------------------------

def test_phrasings_missing_from_the_examples_are_understood(storage, spacy_nlp):
    classifier = trained(storage, spacy_nlp)
    texts = ["is there an operator i can chat with", "my account was deactivated", "senha incorreta",
             "my mail is zed@example.org"]
    messages = classifier.process(featurised(spacy_nlp, texts))
    assert [m.get("intent")["name"] for m in messages] == [
        "contact_support", "account_locked", "wrong_credentials", "inform"]
    ranking = messages[0].get("intent_ranking")
    assert [r["name"] for r in ranking][0] == "contact_support" and len(ranking) == len(TRAINING)
    assert abs(sum(r["confidence"] for r in ranking) - 1.0) < 1e-6


def test_the_trained_model_loads_back_with_the_same_predictions(storage, spacy_nlp):
    texts = ["hello there", "account blocked", "talk to a person please"]
    before = [m.get("intent_ranking") for m in trained(storage, spacy_nlp).process(featurised(spacy_nlp, texts))]
    loaded = ConceptIntentClassifier.load(ConceptIntentClassifier.get_default_config(), storage,
                                          Resource("intent_classifier"), ExecutionContext(GraphSchema({}), "test"))
    after = [m.get("intent_ranking") for m in loaded.process(featurised(spacy_nlp, texts))]
    assert after == before


def test_a_model_file_with_foreign_types_is_not_loaded(storage, spacy_nlp, caplog):
    import skops.io as sio

    trained(storage, spacy_nlp)
    resource = Resource("intent_classifier")
    with storage.write_to(resource) as directory:
        sio.dump({"classifier": logging.Logger("x")}, directory / "intent_classifier.skops")
    with caplog.at_level(logging.WARNING):
        loaded = ConceptIntentClassifier.load(ConceptIntentClassifier.get_default_config(), storage, resource,
                                              ExecutionContext(GraphSchema({}), "test"))
    assert "not scikit-learn's" in caplog.text
    message = loaded.process(featurised(spacy_nlp, ["hello"]))[0]
    assert message.get("intent") == {"name": None, "confidence": 0.0}  # untrained: the fallback decides


def test_blank_messages_get_no_intent_for_the_fallback(storage, spacy_nlp):
    classifier = trained(storage, spacy_nlp)
    messages = classifier.process(featurised(spacy_nlp, ["   ", "hello"]))
    assert messages[0].get("intent") == {"name": None, "confidence": 0.0}
    assert messages[0].get("intent_ranking") == [] and messages[1].get("intent")["name"] == "greet"


def test_letter_runs_are_squeezed_in_the_words_view(spacy_nlp, lexicon):
    assert words_view(spacy_nlp.model("hiii"), lexicon).split()[0] == "hi"
    assert words_view(spacy_nlp.model("heyyy there"), lexicon).split()[:2] == ["hey", "there"]


def test_the_model_keeps_the_lexicon_it_was_trained_with(tmp_path, storage, spacy_nlp):
    lexicon = tmp_path / "concepts.yml"
    lexicon.write_text("human: [human, person, agent, specialist]\n", encoding="utf-8")
    config = {"concepts": str(lexicon)}
    fingerprint = ConceptIntentClassifier.fingerprint_addon(config)
    trained(storage, spacy_nlp, config)
    lexicon.write_text("human: [human]\n", encoding="utf-8")  # edited after training
    assert ConceptIntentClassifier.fingerprint_addon(config) != fingerprint  # `rasa train` trains again
    loaded = ConceptIntentClassifier.load({**ConceptIntentClassifier.get_default_config(), **config}, storage,
                                          Resource("intent_classifier"), ExecutionContext(GraphSchema({}), "test"))
    assert "human" in loaded.concepts.find("a specialist please")


def test_each_sentence_of_a_long_message_is_classified_too(storage, spacy_nlp):
    classifier = trained(storage, spacy_nlp)
    texts = ["Good morning there. My account was blocked yesterday, but i need to talk to a person please.",
             "hello coinex", "hi. ok"]
    long, short, tiny = classifier.process(featurised(spacy_nlp, texts))
    found = long.get(SENTENCE_INTENTS_KEY)
    assert [(s["text"], s["name"]) for s in found] == [
        ("good morning there", "greet"), ("my account was blocked yesterday,", "account_locked"),
        ("i need to talk to a person please", "contact_support")]
    assert all(0.0 < s["confidence"] <= 1.0 for s in found)
    # One sentence, or sentences too short to say anything alone: nothing beside the whole.
    assert short.get(SENTENCE_INTENTS_KEY) is None and tiny.get(SENTENCE_INTENTS_KEY) is None
