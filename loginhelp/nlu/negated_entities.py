"""Drop entities the customer names only to deny them ("not chrome, firefox").

Slots fill from entities wherever they appear, so "it's the app, not the
website" would otherwise note the website. Runs after EntitySynonymMapper;
which entities it looks at is configuration (``entities``).
"""
from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import ENTITIES, TEXT
from rasa.shared.nlu.training_data.message import Message

from loginhelp.negation import denied_at


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR, is_trainable=False)
class NegatedEntityFilter(GraphComponent):
    """Removes the configured entities that a denial comes just before."""

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {"entities": ["platform", "browser", "device"]}

    def __init__(self, config: Dict[Text, Any]) -> None:
        self.entities = frozenset(config.get("entities") or ())

    @classmethod
    def create(cls, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource,
               execution_context: ExecutionContext) -> "NegatedEntityFilter":
        return cls({**cls.get_default_config(), **config})

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            text = message.get(TEXT) or ""
            entities = message.get(ENTITIES) or []
            kept = [e for e in entities
                    if e.get("entity") not in self.entities or not denied_at(text, int(e.get("start", 0)))]
            if len(kept) != len(entities):
                message.set(ENTITIES, kept, add_to_output=True)
        return messages
