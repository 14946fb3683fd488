"""The Telegram channel: Rasa's Telegram connector, fixed for production use.

Registered in credentials.yml as ``loginhelp.channels.telegram.TelegramInput``
and configured from the environment (a value under the credentials.yml key, if
given, wins over the environment):

=========================  ==================  ======================================
environment                credentials.yml     meaning
=========================  ==================  ======================================
TELEGRAM_TOKEN             access_token        the bot token from @BotFather
TELEGRAM_BOT_USERNAME      verify              the bot's @username (without the @)
TELEGRAM_WEBHOOK_URL       webhook_url         public HTTPS URL of .../webhooks/telegram/webhook
TELEGRAM_SECRET_TOKEN      secret_token        1-256 of A-Z a-z 0-9 _ - (derived from
                                               the bot token when unset)
TELEGRAM_API_BASE          api_base            default https://api.telegram.org
TELEGRAM_WEBHOOK_RETRY_SECONDS                 first retry delay of the webhook
                                               registration (default 5, doubles to 300)
REDIS_HOST, REDIS_PORT,                        the lock store's Redis (production mode):
REDIS_DB, REDIS_PASSWORD,                      when REDIS_HOST is set, the update ids below
REDIS_KEY_PREFIX                               are shared by every replica through it
=========================  ==================  ======================================

What it fixes in ``rasa.core.channels.telegram`` (Rasa 3.6.21, aiogram 2.15):

* The stock output channel registers the webhook with ``asyncio.run`` while the
  server is being configured, so the bot's aiohttp session belongs to a loop that
  is closed before the first update arrives (``Event loop is closed``), and a
  Telegram API that cannot be reached stops the whole server from starting.
  Here the bot keeps one HTTP session per event loop, and the webhook is
  registered after the server has started, in a background task that retries
  with back-off until Telegram answers. Without TELEGRAM_TOKEN the channel is
  off: nothing is registered and its webhook answers 503.
* The stock webhook calls ``getMe`` on every update to compare the bot's name.
  Here the webhook is registered with Telegram's ``secret_token``, and an update
  without the matching ``X-Telegram-Bot-Api-Secret-Token`` header is refused
  with 403 before anything is parsed. ``getMe`` is called once, at start-up.
* Buttons are inline keyboards laid out in rows that fit a phone; a pressed
  button's callback query is answered and the choice is shown under the
  question. Long replies are split below Telegram's 4096-character limit at
  paragraph, line, sentence or word boundaries.
* A photo or document becomes the message ``/share_screenshot`` with the file's
  reference in the metadata (``attachments``); every message carries
  ``channel_user`` (Telegram user id and language). Malformed updates get 400,
  update types the assistant does not handle are acknowledged and ignored, and
  content it cannot read (stickers, voice, ...) gets a clear reply.
* A body that is not JSON, or JSON nested more than ``common.MAX_JSON_DEPTH``
  levels (the stock json.loads raised RecursionError, a 500, at ~1000), is a 400.
  A lone surrogate escape ("\\ud800", not text) anywhere in an update becomes
  U+FFFD before the update is read, so the message is still answered.
* Telegram re-delivers an update it thinks was not received; each update_id is
  processed once. With several Rasa replicas behind a load balancer the
  re-delivery may reach another replica, so when REDIS_HOST is set the ids are
  taken in Redis (SET NX, kept a day), shared by the replicas; otherwise in this
  process. Redis being unreachable never loses a message: the process's own
  memory is used instead.
* A button's payload is its callback_data, which Telegram caps at 64 bytes; every
  payload the assistant sends fits (tests/test_contract.py). One that does not is
  logged as an error and shown as a line of text instead of a button.

The package, one concern a module:

=============  ==========================================================================
settings.py    TelegramSettings and RedisSettings from the environment
text.py        splitting long replies below 4096 UTF-16 units
loops.py       PerLoop: one aiohttp session / Redis client per event loop
state.py       the update-id re-delivery filter (this process, then Redis)
output.py      TelegramOutput: the bot client, keyboards, sending replies
updates.py     reading an update into text and the contract's metadata (pure)
input.py       TelegramInput: webhook registration, the webhook route, updates to messages
=============  ==========================================================================
"""
from __future__ import annotations

from .input import TelegramInput
from .output import TelegramOutput
from .settings import TelegramSettings

__all__ = ["TelegramInput", "TelegramOutput", "TelegramSettings"]
