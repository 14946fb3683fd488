"""Names that the actions write into a conversation and other parts read back.

One place for the keys shared by the action server and the agent console, so
that neither spells them on its own.
"""

#: Set on a customer message that ``action_read_in_context`` handed back with the
#: meaning its question gave it: the same turn as the unclear message before it.
READ_IN_CONTEXT_KEY = "read_in_context"

#: Rasa's key, in a bot message's metadata, for the domain response it was rendered
#: from: how an action tells which question the assistant asked last.
RESPONSE_KEY = "utter_action"
