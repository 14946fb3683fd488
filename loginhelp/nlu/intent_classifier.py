"""Intent classifier: TF-IDF word and character n-grams, entity shapes and concepts, logistic regression.

Why this and not DIET: on messages written apart from the training data a plain
TF-IDF + logistic regression matched DIET blended with a linear model, for a
fraction of the training time and memory (bench/results/nlu.md). What it adds
to that baseline is what the baseline cannot learn from the examples alone:

* the spaCy pipeline's lemmas (typos mapped to one lemma, spacy_pipeline/lemmas.yml),
  with runs of a letter squeezed ("hiii", "heyy");
* entity shapes instead of their text: an email, URL, phone number, ticket
  reference or device model reads as ``ENT_email`` and so on, so "my email is
  x@y.z" looks like every other email answer;
* concepts from the lexicon (``concepts.yml``): ``Chuman`` for "operator",
  "specialist" or "atendente", so phrasings missing from the examples still
  share features with them.

Character n-grams of the raw text keep it robust to typos the lemma table lacks.
Training adds variants of the examples (loginhelp/nlu/augment.py): other phrases
of the concepts they mention, a typo, a word left out, read by the same spaCy
pipeline (the component takes it from SpacyNLP, as SpacyEntityExtractor does).
The vectorisers, the model and the lexicon it was trained with are stored with
skops, like Rasa's own LogisticRegressionClassifier, and loaded only if they
hold trusted types: a trained model reads messages with its own lexicon, and an
edited lexicon changes the fingerprint, so `rasa train` trains again.
"""
from __future__ import annotations

import hashlib
import json
import logging
import re
from pathlib import Path
from typing import Any, Dict, List, Optional, Text, Tuple

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.constants import SPACY_DOCS
from rasa.nlu.utils.spacy_utils import SpacyModel, SpacyNLP
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from loginhelp.contract import SENTENCE_INTENTS_KEY
from loginhelp.nlu import augment as augment_module
from loginhelp.nlu import concepts as concepts_module
from loginhelp.nlu.augment import Augmentation, augment
from loginhelp.nlu.concepts import LEXICON, Concepts, read_lexicon

log = logging.getLogger(__name__)

# Where a message splits into sentences: end punctuation, and "but" ("..., but the page reloads").
_SENTENCE_ENDS = frozenset({".", "!", "?", ";", "but"})
# A sentence shorter than this says too little to be classified on its own ("Hi there.").
MIN_SENTENCE_TOKENS = 3
# Entities whose text says nothing about the intent, only their kind does.
SHAPE_ENTITIES = frozenset({"email", "url", "phone", "ticket_ref", "device"})
NO_CONCEPT = "CNONE"
TRUSTED_PREFIXES = ("sklearn.", "numpy.", "scipy.")
_REPEATS = re.compile(r"(\w)\1+")


def squeeze(word: str) -> str:
    """Runs of one letter as one: "hiii", "heyy" and "hellooo" read as "hi", "hey", "helo"."""
    return _REPEATS.sub(r"\1", word)


def sentences(doc: Any) -> List[Any]:
    """The sentences of a spaCy Doc (as Spans) of at least MIN_SENTENCE_TOKENS words."""
    spans, start = [], 0
    for token in doc:
        if token.lower_ in _SENTENCE_ENDS:
            spans.append(doc[start:token.i])
            start = token.i + 1
    spans.append(doc[start:len(doc)])
    return [s for s in spans if sum(1 for t in s if not t.is_punct) >= MIN_SENTENCE_TOKENS]


def words_view(doc: Any, concepts: Concepts) -> str:
    """Lemmas (letter runs squeezed), entity shapes for shape entities, then the concepts mentioned.

    ``doc`` is the spaCy Doc that SpacyNLP attached to the message.
    """
    words: List[str] = []
    for token in doc:
        if token.ent_type_ in SHAPE_ENTITIES:
            if token.ent_iob_ == "B":
                words.append(f"ENT_{token.ent_type_}")
            continue
        words.append((token.lemma_ or token.text).lower())
    lemmas = " ".join(words)
    squeezed = " ".join(squeeze(word) for word in words)
    shapes = " ".join(f"ENT_{ent.label_}" for ent in doc.ents)
    found = concepts.find(doc.text, lemmas, squeezed)
    tags = " ".join("C" + name.replace("_", "") for name in found) or NO_CONCEPT
    return f"{squeezed} {shapes} {tags}"


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True,
                          model_from="SpacyNLP")
class ConceptIntentClassifier(GraphComponent):
    """Logistic regression over TF-IDF of the words view and of character n-grams."""

    @classmethod
    def required_components(cls) -> List[type]:
        return [SpacyNLP]

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {
            "C": 30.0,
            "max_iter": 3000,
            "char_ngrams": [2, 5],
            "word_ngrams": [1, 2],
            "concepts": None,  # a lexicon file instead of loginhelp/nlu/concepts.yml
            "random_state": 42,
            # Every intent weighs the same in training, however many examples it
            # has: rare intents (support_wait_time) are not drowned by big ones.
            "class_weight": "balanced",
            # Variants of each example made at training time (loginhelp/nlu/augment.py):
            # other phrases of the concepts it mentions, a typo, a word left out.
            "augment": {"concept_swaps": 2, "typos": 1, "word_drops": 1},
        }

    def __init__(self, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource,
                 parts: Optional[Dict[str, Any]] = None) -> None:
        self.config = {**self.get_default_config(), **config}
        self._storage = model_storage
        self._resource = resource
        self.parts = parts or {}
        if "lexicon" not in self.parts:
            self.parts["lexicon"] = read_lexicon(self._lexicon_path(self.config))
        self.concepts = Concepts(self.parts["lexicon"])

    @staticmethod
    def _lexicon_path(config: Dict[Text, Any]) -> Path:
        return Path(config.get("concepts") or LEXICON)

    @classmethod
    def fingerprint_addon(cls, config: Dict[str, Any]) -> Optional[str]:
        """The lexicon and the code that reads it: Rasa's training cache must not reuse a model built otherwise."""
        lexicon = read_lexicon(cls._lexicon_path({**cls.get_default_config(), **config}))
        digest = hashlib.sha256(json.dumps(lexicon, sort_keys=True).encode("utf-8"))
        for module in (__file__, augment_module.__file__, concepts_module.__file__):
            digest.update(Path(module).read_bytes())
        return digest.hexdigest()

    @classmethod
    def create(cls, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource,
               execution_context: ExecutionContext) -> "ConceptIntentClassifier":
        return cls(config, model_storage, resource)

    # -- features ------------------------------------------------------------------

    def _views(self, texts: List[str], docs: List[Any]) -> Tuple[List[str], List[str]]:
        words = [words_view(doc, self.concepts) if doc is not None else text.lower()
                 for text, doc in zip(texts, docs)]
        return words, [text.lower() for text in texts]

    def _features(self, texts: List[str], docs: List[Any]) -> Any:
        return self._features_of(*self._views(texts, docs))

    def _features_of(self, words: List[str], chars: List[str]) -> Any:
        import scipy.sparse

        return scipy.sparse.hstack(
            [self.parts["words"].transform(words), self.parts["chars"].transform(chars)]
        ).tocsr()

    # -- training ------------------------------------------------------------------

    @staticmethod
    def _texts_and_docs(messages: List[Message]) -> Tuple[List[str], List[Any]]:
        return [m.get(TEXT) or "" for m in messages], [m.get(SPACY_DOCS[TEXT]) for m in messages]

    def train(self, training_data: TrainingData, model: Optional[SpacyModel] = None) -> Resource:
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.linear_model import LogisticRegression

        # In a fixed order: the files of data/ are read in the order the file
        # system lists them, and augmentation's random draws follow the examples.
        examples = sorted((e for e in training_data.intent_examples if e.get(INTENT) and e.get(TEXT)),
                          key=lambda e: (e.get(INTENT), e.get(TEXT)))
        if not examples:
            log.debug("%s: no intent examples, nothing to train", type(self).__name__)
            return self._resource
        self.parts = {
            "lexicon": self.parts["lexicon"],
            "words": TfidfVectorizer(ngram_range=tuple(self.config["word_ngrams"]), sublinear_tf=True,
                                     token_pattern=r"(?u)\b\w+\b", lowercase=False),
            "chars": TfidfVectorizer(analyzer="char_wb", ngram_range=tuple(self.config["char_ngrams"]),
                                     sublinear_tf=True, lowercase=False),
        }
        texts, docs = self._texts_and_docs(examples)
        intents = [e.get(INTENT) for e in examples]
        if model is not None and self.config.get("augment"):
            settings = Augmentation(**{"seed": int(self.config["random_state"]), **self.config["augment"]})
            variants, variant_intents = augment(texts, intents, self.concepts, settings)
            # Read as SpacyNLP reads a message (lower case, its case_sensitive default).
            texts += variants
            docs += list(model.model.pipe(v.lower() for v in variants))
            intents += variant_intents
        words, chars = self._views(texts, docs)
        self.parts["words"].fit(words)
        self.parts["chars"].fit(chars)
        self.parts["classifier"] = LogisticRegression(
            C=float(self.config["C"]), max_iter=int(self.config["max_iter"]),
            random_state=int(self.config["random_state"]), class_weight=self.config["class_weight"],
        ).fit(self._features(texts, docs), intents)
        self.persist()
        return self._resource

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        return training_data

    # -- prediction ----------------------------------------------------------------

    def process(self, messages: List[Message], model: Optional[SpacyModel] = None) -> List[Message]:
        classifier = self.parts.get("classifier")
        texts = [m for m in messages if (m.get(TEXT) or "").strip()]
        for message in messages:
            if classifier is None or not (message.get(TEXT) or "").strip():
                # Nothing to read (or no model): no intent, confidence 0, which
                # FallbackClassifier turns into nlu_fallback, as Rasa's classifiers do.
                message.set(INTENT, {"name": None, "confidence": 0.0}, add_to_output=True)
                message.set(INTENT_RANKING_KEY, [], add_to_output=True)
        if classifier is None or not texts:
            return messages
        raw, docs = self._texts_and_docs(texts)
        words, chars = self._views(raw, docs)
        probabilities = classifier.predict_proba(self._features_of(words, chars))
        names = [str(name) for name in classifier.classes_]
        for message, row, text, doc, view in zip(texts, probabilities, raw, docs, words):
            if doc is not None and not self._knows_something(text, view):
                # "asdfgh", "😡😡😡", a script it never saw: nothing to rank, so the fallback
                # says it did not understand rather than calling it off-topic.
                message.set(INTENT, {"name": None, "confidence": 0.0}, add_to_output=True)
                message.set(INTENT_RANKING_KEY, [], add_to_output=True)
                continue
            ranking = [{"name": n, "confidence": c}
                       for c, n in sorted(((float(p), n) for n, p in zip(names, row)), key=lambda e: (-e[0], e[1]))]
            message.set(INTENT, dict(ranking[0]), add_to_output=True)
            message.set(INTENT_RANKING_KEY, ranking, add_to_output=True)
            if doc is not None:
                self._classify_sentences(message, doc, classifier, names)
        return messages

    def _classify_sentences(self, message: Message, doc: Any, classifier: Any, names: List[str]) -> None:
        """The top intent of each sentence, for a message of several (SENTENCE_INTENTS_KEY)."""
        parts = sentences(doc)
        if len(parts) < 2:
            return
        words = [words_view(span, self.concepts) for span in parts]
        rows = classifier.predict_proba(self._features_of(words, [span.text.lower() for span in parts]))
        found = []
        for span, row in zip(parts, rows):
            best = int(row.argmax())
            found.append({"text": span.text, "name": names[best], "confidence": float(row[best])})
        message.set(SENTENCE_INTENTS_KEY, found, add_to_output=True)

    def _knows_something(self, text: str, words: str) -> bool:
        """Whether the message (``words``: its words view) holds anything the classifier
        learnt from: a known word or lemma, a concept, an entity, or a digit (an error
        code, a version)."""
        if any(ch.isdigit() for ch in text):
            return True
        vocabulary = self.parts["words"].vocabulary_
        return any(w.startswith(("ENT_", "C")) or w in vocabulary for w in words.split() if w != NO_CONCEPT)

    # -- storage -------------------------------------------------------------------

    def persist(self) -> None:
        import skops.io as sio

        with self._storage.write_to(self._resource) as directory:
            sio.dump(self.parts, directory / "intent_classifier.skops")

    @classmethod
    def load(cls, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource,
             execution_context: ExecutionContext, **kwargs: Any) -> "ConceptIntentClassifier":
        import skops.io as sio

        try:
            with model_storage.read_from(resource) as directory:
                path = directory / "intent_classifier.skops"
                untrusted = sio.get_untrusted_types(file=path)
                foreign = [t for t in untrusted if not t.startswith(TRUSTED_PREFIXES)]
                if foreign:
                    raise ValueError(f"{path} holds types that are not scikit-learn's: {foreign}")
                parts = sio.load(path, trusted=untrusted)
        except ValueError as error:
            log.warning("%s: no trained model loaded (%s)", cls.__name__, error)
            parts = None
        return cls(config, model_storage, resource, parts)
