"""Rasa input channels of the assistant, registered in credentials.yml by module path.

* ``loginhelp.channels.socketio.SocketIOInput``: the website widget (web/).
* ``loginhelp.channels.telegram.TelegramInput``: Telegram, configured from TELEGRAM_* variables.
* ``loginhelp.channels.rest.RestInput``: Rasa's REST channel with input validation.

All of them hand the same ``UserMessage`` to the same Rasa agent: the conversation
logic is the domain's, the rules' and the actions'; a channel only renders.
During a live handoff socket.io and Telegram hand the customer's messages to the
support agent instead, and deliver the agent's (``live.py``); REST cannot push, so
it is never routed to an agent.
"""
