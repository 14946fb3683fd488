"""Conversation transcripts from Rasa's SQL tracker store: index, filters, search, reviews and exports."""
from __future__ import annotations

from .queries import ConversationFilters, ConversationPage, ConversationRow
from .service import TranscriptService
from .summary import OUTCOMES
from .transcript import Transcript

__all__ = [
    "OUTCOMES",
    "ConversationFilters",
    "ConversationPage",
    "ConversationRow",
    "Transcript",
    "TranscriptService",
]
