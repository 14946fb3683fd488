"""NLU component that recognises volunteered secrets before any branch runs.

A customer who pastes a password, 2FA code, seed phrase or private key must be
warned whatever the classifier thought the message meant, so this component
overrides the intent with ``share_secret`` (confidence 1.0) and records which
kinds of secret it saw under ``secret_kinds`` for the action to tailor its advice,
and the classifier's own reading under ``intent_before_secret``, so that a
message holding a secret *and* a problem is warned about and then helped.
"""
from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from loginhelp.secret_detection import (
    INTENT_BEFORE_SECRET_KEY,
    SECRET_KINDS_KEY,
    SHARE_SECRET_INTENT,
    secret_kinds,
)


@DefaultV1Recipe.register(
    [DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=False
)
class SecretGuard(GraphComponent):
    """Force the ``share_secret`` intent when a message contains a secret."""

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {"intent": SHARE_SECRET_INTENT}

    def __init__(self, config: Dict[Text, Any]) -> None:
        self._intent = config.get("intent", SHARE_SECRET_INTENT)

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> "SecretGuard":
        return cls(config)

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        return training_data

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            kinds = secret_kinds(message.get(TEXT) or "")
            if not kinds:
                continue
            before = message.get(INTENT) or {}
            top = {"name": self._intent, "confidence": 1.0}
            ranking = [top] + [
                entry
                for entry in (message.get(INTENT_RANKING_KEY) or [])
                if entry.get("name") != self._intent
            ]
            message.set(INTENT, top, add_to_output=True)
            message.set(INTENT_RANKING_KEY, ranking, add_to_output=True)
            message.set(SECRET_KINDS_KEY, kinds, add_to_output=True)
            if before.get("name") != self._intent:
                message.set(INTENT_BEFORE_SECRET_KEY, before, add_to_output=True)
        return messages
