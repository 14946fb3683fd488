"""Rasa's REST channel with input validation.

Registered in credentials.yml as ``loginhelp.channels.rest.RestInput``; its name
stays ``rest`` and its route ``/webhooks/rest/webhook``, so every client of the
stock channel works unchanged. The stock channel answers a JSON body that is not
an object with 500, and passes any type on as the message text; here a bad body
is a 400 with a description, and text is cleaned and capped like on every other
channel (``common.clean_text``).

The stock channel also answers 200 with an empty reply list, the message lost,
when the tracker store cannot store what it was given: text or metadata with a
lone surrogate escape ("\\ud800", not text) or metadata nested hundreds of levels
deep. Here a lone surrogate in the text or the metadata becomes U+FFFD and the
message is answered as usual; metadata nested more than
``common.MAX_JSON_DEPTH`` levels, or a sender or input channel that is not
valid text, is a 400.

Live handoff: never. A REST client only gets replies to its own request, so an
agent's message could not be pushed to it; REST customers are offered a
support ticket, not a live agent, and this channel never asks the live chat
(``loginhelp.channels.live``) about a conversation.
"""
from __future__ import annotations

from typing import Any, Dict, Optional, Text

from rasa.core.channels.rest import RestInput as StockRestInput
from sanic.exceptions import InvalidUsage as BadRequest  # 400
from sanic.request import Request

from loginhelp.channels.common import MAX_JSON_DEPTH, TooDeep, clean_json, clean_text, replace_lone_surrogates


def _body(request: Request) -> Dict[str, Any]:
    body = request.json  # malformed JSON is already a 400 in Sanic
    if not isinstance(body, dict):
        raise BadRequest("The body must be a JSON object such as "
                         '{"sender": "...", "message": "..."}.')
    return body


def _valid_text(field: str, value: str) -> None:
    """Identifiers are not repaired: two different ids must not become one."""
    if replace_lone_surrogates(value) != value:
        raise BadRequest(f'"{field}" contains a lone surrogate escape (such as "\\ud800"), which is not text.')


class RestInput(StockRestInput):
    @classmethod
    def name(cls) -> Text:
        return "rest"

    async def _extract_sender(self, req: Request) -> Optional[Text]:
        sender = _body(req).get("sender")
        if sender is None:
            return None
        if isinstance(sender, bool) or not isinstance(sender, (str, int)):
            raise BadRequest('"sender" must be a string.')
        sender = str(sender).strip()
        if not sender or len(sender) > 128:
            raise BadRequest('"sender" must be 1 to 128 characters long.')
        _valid_text("sender", sender)
        return sender

    def _extract_message(self, req: Request) -> Optional[Text]:
        message = _body(req).get("message")
        if not isinstance(message, str):
            raise BadRequest('"message" is required and must be a string.')
        return clean_text(message)

    def _extract_input_channel(self, req: Request) -> Text:
        channel = _body(req).get("input_channel")
        if channel is None:
            return self.name()
        if not isinstance(channel, str) or not channel.strip() or len(channel) > 64:
            raise BadRequest('"input_channel" must be a short string.')
        _valid_text("input_channel", channel)
        return channel

    def get_metadata(self, request: Request) -> Optional[Dict[Text, Any]]:
        metadata = _body(request).get("metadata")
        if metadata is None:
            return None
        if not isinstance(metadata, dict):
            raise BadRequest('"metadata" must be a JSON object.')
        try:
            return clean_json(metadata)
        except TooDeep as exc:
            raise BadRequest(f'"metadata" is nested too deeply (at most {MAX_JSON_DEPTH} levels).') from exc
