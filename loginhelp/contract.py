"""The conversation's contract: the names the channels, the actions and the console share.

A channel turns its wire format into a message with metadata; Rasa keeps slots;
the action server reads both and writes slots back; the console and the
transcripts read them from the tracker store. They meet only in JSON, so a name
spelled differently in two places fails silently (a slot nobody sets, metadata
nobody reads). Every such name is spelled here once.

Every value is a plain ``str`` (not an ``Enum`` member): it goes into a slot, a
metadata dict or a JSON event unchanged, and compares and hashes like the string
Rasa hands back. The ``Literal`` and ``TypedDict`` types say which values and
shapes are allowed. ``tests/test_contract.py`` checks the names against
``domain.yml`` and against the code that writes and reads them.
"""
from __future__ import annotations

from typing import Final, List, Literal, Optional, Tuple, TypedDict, Union, get_args


def names_in(namespace: type) -> Tuple[str, ...]:
    """The string constants of a namespace class, in definition order."""
    return tuple(v for k, v in vars(namespace).items() if k.isupper() and isinstance(v, str))


# --- Slots ---------------------------------------------------------------------------


class Slot:
    """The slots of ``domain.yml`` (every one of them, so code never spells a slot)."""

    # Where the diagnosis stands: the branch of the guide, its steps, the step shown.
    BRANCH: Final = "branch"
    PLAN: Final = "plan"
    STEP: Final = "step"
    STEPS_TRIED: Final = "steps_tried"
    #: The question the assistant waits on (one of ``Pending``); the rules branch on it.
    PENDING: Final = "pending"
    # What the customer told us about their set-up and themselves.
    BROWSER: Final = "browser"
    PLATFORM: Final = "platform"
    DEVICE: Final = "device"
    EMAIL: Final = "email"
    PHONE: Final = "phone"
    URL: Final = "url"
    #: authenticator, sms or email, once the customer's words name how they get 2FA codes.
    TWOFA_METHOD: Final = "twofa_method"
    TICKET_REF: Final = "ticket_ref"
    #: The language the customer first wrote in that is not English (they were told the replies are in English).
    LANGUAGE: Final = "language"
    #: The most alarming verdict on an address the customer showed (one of ``AddressVerdict``).
    ADDRESS_VERDICT: Final = "address_verdict"
    # The triage of a vague "I can't log in".
    TRIAGE_SYMPTOM: Final = "triage_symptom"
    USES_2FA: Final = "uses_2fa"
    # The ticket form (actions/ticket_fields.yml lists the fields it asks).
    TICKET_CONTACT: Final = "ticket_contact"
    TICKET_CONTACT_ATTEMPTS: Final = "ticket_contact_attempts"
    TICKET_DESCRIPTION: Final = "ticket_description"
    TICKET_ERROR_MESSAGE: Final = "ticket_error_message"
    TICKET_STEPS_TRIED: Final = "ticket_steps_tried"
    TICKET_DEVICE: Final = "ticket_device"
    TICKET_BROWSER_VERSION: Final = "ticket_browser_version"
    TICKET_SCREENSHOTS: Final = "ticket_screenshots"
    TICKET_FIELD: Final = "ticket_field"
    TICKET_DUPLICATE_REF: Final = "ticket_duplicate_ref"
    TICKET_LAST_REF: Final = "ticket_last_ref"


class RasaSlot:
    """Slots Rasa adds to every domain (``rasa.shared.core.constants``)."""

    REQUESTED_SLOT: Final = "requested_slot"
    SESSION_STARTED_METADATA: Final = "session_started_metadata"


SLOT_NAMES: Final = names_in(Slot)


# --- Verdicts on addresses the customer shows ------------------------------------------------


class AddressVerdict:
    """What an address the customer showed is (loginhelp.phishing), most alarming last."""

    OFFICIAL: Final = "official"
    NOT_COINEX: Final = "not_coinex"
    LOOKALIKE: Final = "lookalike"


ADDRESS_VERDICTS: Final = names_in(AddressVerdict)


def worse_verdict(current: Optional[str], new: Optional[str]) -> Optional[str]:
    """The more alarming of two verdicts (a conversation keeps its worst)."""
    rank = {v: i for i, v in enumerate(ADDRESS_VERDICTS)}
    if new not in rank:
        return current
    if current not in rank:
        return new
    return new if rank[new] > rank[current] else current


# --- The pending question --------------------------------------------------------------

#: The values of the categorical ``pending`` slot.
PendingValue = Literal[
    "step_feedback",
    "browser_choice",
    "ticket_offer",
    "ticket_confirm",
    "ticket_duplicate",
    "ticket_change_field",
    "ticket_editing",
    "ticket_ref_needed",
]


class Pending:
    """The question the assistant waits on (the ``pending`` slot; None: nothing asked)."""

    STEP_FEEDBACK: Final = "step_feedback"  # "Did that help?" after a step
    BROWSER_CHOICE: Final = "browser_choice"  # which browser, for a browser-specific step
    TICKET_OFFER: Final = "ticket_offer"  # "Shall I open a ticket?" past the last step
    TICKET_CONFIRM: Final = "ticket_confirm"  # the ticket's summary: send, change or cancel
    TICKET_DUPLICATE: Final = "ticket_duplicate"  # add to the contact's open ticket?
    TICKET_CHANGE_FIELD: Final = "ticket_change_field"  # which field to change
    TICKET_EDITING: Final = "ticket_editing"  # a field cleared, the form asks it again
    TICKET_REF_NEEDED: Final = "ticket_ref_needed"  # "which ticket?" for a status question


PENDING_VALUES: Final[Tuple[PendingValue, ...]] = names_in(Pending)  # type: ignore[assignment]
assert PENDING_VALUES == get_args(PendingValue), "Pending and PendingValue disagree"

#: The questions of a branch of the guide under way: its answers are about the step.
BRANCH_QUESTIONS: Final = frozenset({Pending.STEP_FEEDBACK, Pending.BROWSER_CHOICE, Pending.TICKET_OFFER})


# --- Messages the channels send for the customer -------------------------------------------


class ChannelMessage:
    """Messages a channel sends on the customer's behalf (intents of domain.yml)."""

    SHARE_SCREENSHOT: Final = "/share_screenshot"  # the customer sent a photo or a file
    GREET: Final = "/greet"  # Telegram's /start
    CAPABILITIES: Final = "/capabilities"  # Telegram's /help
    RESTART: Final = "/restart"  # Rasa's own: start the conversation over


#: Telegram's limit on a button's callback_data, the strictest of the channels: every
#: button payload the domain and the actions send must fit in it (UTF-8 bytes).
MAX_PAYLOAD_BYTES: Final = 64


# --- Message metadata ------------------------------------------------------------------------


class Metadata:
    """Keys of a customer message's metadata (Rasa's ``UserMessage.metadata``)."""

    # The website widget's custom data (socket.io ``metadata_key``, see web/README.md).
    USER_AGENT: Final = "user_agent"
    LANGUAGE: Final = "language"
    TIMEZONE: Final = "timezone"
    CLIENT_TIME: Final = "client_time"  # epoch milliseconds when the message was sent
    # Telegram.
    CHANNEL_USER: Final = "channel_user"
    ATTACHMENTS: Final = "attachments"
    CAPTION: Final = "caption"


#: The browser's own spelling of ``user_agent``: no channel of ours writes it, but a
#: REST client passes its metadata through as it is, and the actions accept it.
REST_USER_AGENT_ALIAS: Final = "userAgent"


class WidgetMetadata(TypedDict, total=False):
    """What the widget sends with every message (only these keys reach the tracker)."""

    user_agent: str
    language: str
    timezone: str
    client_time: Union[int, float]


AttachmentSource = Literal["telegram", "url", "chat"]


class _AttachmentPlace(TypedDict):
    source: str  # an AttachmentSource: telegram (a file id), url (a link), chat
    location: str  # the Telegram file id, or the URL


class Attachment(_AttachmentPlace, total=False):
    """A file the customer sent or linked, as the ticket keeps it (not the file itself).

    Telegram sends every key (``None`` when unknown); a link is only ``source`` and
    ``location``. ``loginhelp.tickets.ScreenshotDraft`` is the ticket's copy of it.
    """

    file_name: Optional[str]
    mime_type: Optional[str]
    size_bytes: Optional[int]


ATTACHMENT_KEYS: Final = ("source", "location", "file_name", "mime_type", "size_bytes")
assert ATTACHMENT_KEYS == tuple(Attachment.__annotations__), "Attachment and ATTACHMENT_KEYS disagree"


class ChannelUser(TypedDict):
    """Who wrote, as the channel knows them (Telegram)."""

    id: Optional[int]
    language_code: Optional[str]


class TelegramMetadata(TypedDict, total=False):
    """What the Telegram channel sends with a message (``channel_user`` always)."""

    channel_user: ChannelUser
    attachments: List[Attachment]
    caption: str


# --- What the NLU adds to a parsed message ------------------------------------------------

#: The top intent of each sentence of a message of several sentences, as
#: ``[{"text", "name", "confidence"}]``: "Good morning. I've tried since yesterday.
#: The page just reloads." names its problem in one sentence, which the whole
#: message's ranking dilutes (loginhelp/nlu/intent_classifier.py).
SENTENCE_INTENTS_KEY: Final = "sentence_intents"

#: The language a message is surely written in when it is not English ("es", "tr",
#: "other" for another script), else absent (loginhelp/nlu/language_detector.py).
LANGUAGE_KEY: Final = "language"


# --- What the actions write into a conversation for others to read -----------------------

#: Set on a customer message that ``action_read_in_context`` handed back with the
#: meaning its question gave it: the same turn as the unclear message before it.
READ_IN_CONTEXT_KEY: Final = "read_in_context"

#: Rasa's key, in a bot message's metadata, for the domain response it was rendered
#: from: how an action tells which question the assistant asked last.
RESPONSE_KEY: Final = "utter_action"
