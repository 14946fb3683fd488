"""Note the language of a message surely not written in English (``LANGUAGE_KEY``).

The assistant replies in English only; the action server tells such a customer
once (actions/slot_mappings.py). Detection runs here, in the NLU, where spaCy and
its stop-word lists are loaded anyway (loginhelp/nlp/language.py).
"""
from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from loginhelp.contract import LANGUAGE_KEY
from loginhelp.nlp.language import foreign_language


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=False)
class LanguageDetector(GraphComponent):
    """Adds ``LANGUAGE_KEY`` to the parse of a message surely in another language."""

    @classmethod
    def create(cls, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource,
               execution_context: ExecutionContext) -> "LanguageDetector":
        return cls()

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        return training_data

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            language = foreign_language(message.get(TEXT) or "")
            if language is not None:
                message.set(LANGUAGE_KEY, language, add_to_output=True)
        return messages
