"""Rasa's REST channel with input validation.

Registered in credentials.yml as ``loginhelp.channels.rest.RestInput``; its name
stays ``rest`` and its route ``/webhooks/rest/webhook``, so every client of the
stock channel works unchanged. The stock channel answers a JSON body that is not
an object with 500, and passes any type on as the message text; here a bad body
is a 400 with a description, and text is cleaned and capped like on every other
channel (``common.clean_text``).
"""
from __future__ import annotations

from typing import Any, Dict, Optional, Text

from rasa.core.channels.rest import RestInput as StockRestInput
from sanic.exceptions import InvalidUsage as BadRequest  # 400
from sanic.request import Request

from loginhelp.channels.common import clean_text


def _body(request: Request) -> Dict[str, Any]:
    body = request.json  # malformed JSON is already a 400 in Sanic
    if not isinstance(body, dict):
        raise BadRequest("The body must be a JSON object such as "
                         '{"sender": "...", "message": "..."}.')
    return body


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
        return channel

    def get_metadata(self, request: Request) -> Optional[Dict[Text, Any]]:
        metadata = _body(request).get("metadata")
        if metadata is not None and not isinstance(metadata, dict):
            raise BadRequest('"metadata" must be a JSON object.')
        return metadata
