"""Verdicts on the addresses customers paste, driven by tests/phishing/addresses.yml.

The table says what a customer types and what they must be told; these tests
also hold the library to its promises: no false alarms in ordinary messages,
nothing downloaded, bounded time on huge input, no exception on any string.
"""
from __future__ import annotations

import logging
import random
import re
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest
import yaml

from loginhelp.phishing import (
    LOOKALIKE,
    NOT_COINEX,
    OFFICIAL,
    Address,
    OfficialNames,
    addresses_in,
    hosts,
    judge,
    verdict,
    verdicts_in,
)
from loginhelp.phishing.addresses import MAX_ADDRESSES, SCAN_LIMIT
from loginhelp.phishing.explain import TRICKS
from loginhelp.phishing.typos import FUZZERS

ROOT = Path(__file__).resolve().parents[1]
TABLE = yaml.safe_load((Path(__file__).parent / "phishing" / "addresses.yml").read_text(encoding="utf-8"))
CASES = TABLE["cases"]
OFFICIAL_NAMES = OfficialNames.load()


def _id(case: dict) -> str:
    return case["text"][:60]


# ------------------------------------------------------------------ the table


def test_the_table_is_large_and_covers_every_trick():
    assert len(CASES) >= 200
    tricks = {case.get("trick") for case in CASES}
    assert set(FUZZERS) <= tricks, set(FUZZERS) - tricks
    assert set(TRICKS) <= tricks, set(TRICKS) - tricks
    assert {case["kind"] for case in CASES} == {OFFICIAL, LOOKALIKE, NOT_COINEX}
    for case in CASES:
        assert (case["kind"] == LOOKALIKE) == ("trick" in case), case
        assert case.get("trick") is None or case["trick"] in TRICKS, case


@pytest.mark.parametrize("case", CASES, ids=_id)
def test_verdict(case: dict):
    found = addresses_in(case["text"])
    assert len(found) == 1, found
    address = found[0]
    if "host" in case:
        assert address.host == case["host"]
    result = judge(address, OFFICIAL_NAMES)
    assert result.address == address
    assert (result.kind, result.trick) == (case["kind"], case.get("trick")), result.explanation
    if "registrable" in case:
        assert result.registrable == case["registrable"]
    if "says" in case:
        assert case["says"] in result.explanation
    assert result.explanation and "\n" not in result.explanation
    assert not result.explanation.endswith(".")


@pytest.mark.parametrize("text", TABLE["no_address"])
def test_no_false_alarm(text: str):
    assert addresses_in(text) == []


@pytest.mark.parametrize("sentence", TABLE["sentences"], ids=lambda s: s["text"][:60])
def test_every_address_in_a_sentence(sentence: dict):
    found = [[a.kind, a.host] for a in addresses_in(sentence["text"])]
    assert found == sentence["found"]


# ------------------------------------------------------------------ addresses_in details


def test_address_keeps_the_text_as_written_without_trailing_punctuation():
    assert addresses_in("Is this real? HTTPS://CoinEx-Login.net/Verify?id=1).") == [
        Address("url", "HTTPS://CoinEx-Login.net/Verify?id=1", "coinex-login.net")
    ]
    assert addresses_in("see (https://en.wikipedia.org/wiki/Foo_(bar)).") == [
        Address("url", "https://en.wikipedia.org/wiki/Foo_(bar)", "en.wikipedia.org")
    ]


def test_kinds():
    kinds = [a.kind for a in addresses_in("coinex.com, coinex.com/login, a@coinex.com, @coinexsupport, t.me/coinex_official")]
    assert kinds == ["domain", "url", "email", "telegram", "telegram"]


def test_address_is_frozen():
    address = addresses_in("coinex.com")[0]
    with pytest.raises(AttributeError):
        address.host = "evil.io"  # type: ignore[misc]


def test_very_long_input_is_cut_and_quick():
    for text in ("a" * 1_000_000, "a." * 500_000, "1." * 500_000, "@" * 500_000, "a-" * 500_000, ("x" * 62 + ".") * 20_000,
                 "https://" + "a" * 1_000_000, "coinex.com " * 100_000, "a@" * 500_000, "x1.y2." * 200_000):
        start = time.perf_counter()
        found = addresses_in(text)
        assert time.perf_counter() - start < 1.0
        assert len(found) <= MAX_ADDRESSES


def test_long_message_address_inside_the_limit_is_found_and_beyond_it_is_not():
    padding = "my login fails again and again " * 200
    assert len(padding) < SCAN_LIMIT - 40
    text = padding + "they sent https://coinex-login.net/verify " + "blah " * 5000 + " coinex-verify.io"
    assert [a.host for a in addresses_in(text)] == ["coinex-login.net"]


def test_many_addresses_are_capped():
    text = " ".join(f"site{i}.com" for i in range(100))
    assert len(addresses_in(text)) == MAX_ADDRESSES


# ------------------------------------------------------------------ never raises, never lies "official"


def _random_strings(count: int):
    rng = random.Random(7)
    alphabet = "coinex.COM/:@_-+%[]\\ 0123456789xn--оеіх。．é\u0301\u200b?#=&t.me\n\t\"'<>()"
    alphabet += "".join(map(chr, range(0x2000, 0x2010)))
    for _ in range(count):
        yield "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 60)))
    for _ in range(count):
        yield "".join(chr(rng.randint(0, 0x10FFFF)) for _ in range(rng.randint(0, 30)))


def test_garbage_never_raises(caplog):
    caplog.set_level(logging.ERROR, logger=verdict.__name__)
    for text in _random_strings(400):
        for result in verdicts_in(text):
            assert result.kind in (OFFICIAL, LOOKALIKE, NOT_COINEX)
    assert addresses_in(None) == []  # type: ignore[arg-type]
    odd = [Address("url", "", ""), Address("url", "http://", "..."), Address("domain", "x", "\ud800.com"),
           Address("email", "@", "@"), Address("telegram", "@", ""), Address("telegram", "t.me/+", "+"),
           Address("domain", "xn--", "xn--zz--.com"),
           Address("url", "https://[::1", "[::1"), Address("nonsense", "?", "coinex.com.evil.io")]
    for address in odd:
        assert judge(address, OFFICIAL_NAMES).kind in (LOOKALIKE, NOT_COINEX)
    assert not caplog.records, [r.getMessage() for r in caplog.records]


def test_judge_safety_net_answers_not_coinex(monkeypatch):
    def broken(*_):
        raise RuntimeError("boom")

    monkeypatch.setattr(verdict, "_judge_host", broken)
    result = judge(Address("domain", "coinex.com", "coinex.com"), OFFICIAL_NAMES)
    assert (result.kind, result.trick) == (NOT_COINEX, None)


def test_official_only_when_the_link_really_goes_to_coinex():
    rng = random.Random(11)
    pieces = ["coinex", ".com", ".", "evil", ".io", "@", "/", ":", "\\", "#", "?", "%2e", "www", "-", "0", "о", "https://", " "]
    judged = 0
    for _ in range(3000):
        text = "".join(rng.choice(pieces) for _ in range(rng.randint(1, 12)))
        for result in verdicts_in(text):
            judged += 1
            if result.kind != OFFICIAL:
                continue
            assert result.registrable == "coinex.com"
            assert result.address.host == "coinex.com" or result.address.host.endswith(".coinex.com")
            if result.address.kind == "url":
                written = result.address.text.replace("\\", "/")
                written = written if re.match(r"^[a-z]+://", written, re.IGNORECASE) else "http://" + written
                assert unquote(urlsplit(written).hostname or "").strip(".") == result.address.host
    assert judged > 400


# ------------------------------------------------------------------ official names


def test_official_names_come_from_the_yaml_file():
    assert OFFICIAL_NAMES.domains == ("coinex.com",)
    assert "coinexsupport" in OFFICIAL_NAMES.telegram
    assert OFFICIAL_NAMES.name == "CoinEx"
    assert "must match" in (ROOT / "loginhelp" / "phishing" / "official.yml").read_text(encoding="utf-8").lower()


def test_other_official_names(tmp_path):
    path = tmp_path / "official.yml"
    path.write_text("name: Example\ndomains: [Example.org]\ntelegram: ['@Example_Help']\n", encoding="utf-8")
    names = OfficialNames.load(path)
    assert names.domains == ("example.org",) and names.telegram == ("example_help",)
    assert [v.kind for v in verdicts_in("www.example.org coinex.com @example_help", names)] == [OFFICIAL, NOT_COINEX, OFFICIAL]
    result = verdicts_in("examp1e.org", names)[0]
    assert (result.kind, result.trick) == (LOOKALIKE, "homoglyph") and "Example's name" in result.explanation


@pytest.mark.parametrize("content", ["telegram: [a]\n", "- coinex.com\n", "domains: [www.coinex.com]\n", "domains: [com]\n"])
def test_bad_official_file_is_refused(tmp_path, content):
    path = tmp_path / "official.yml"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(ValueError):
        OfficialNames.load(path)


def test_verdicts_are_deterministic_and_tables_built_once():
    names = OfficialNames(domains=("coinex.com",), telegram=("coinexsupport",))
    verdict._targets.cache_clear()
    first = [judge(a, names) for a in addresses_in("c0inex.com coinex-login.net @coinex_help")]
    second = [judge(a, names) for a in addresses_in("c0inex.com coinex-login.net @coinex_help")]
    assert first == second
    assert verdict._targets.cache_info().misses == 1
    start = time.perf_counter()
    for _ in range(200):
        verdicts_in("is https://cоinex-login.net/verify real? or @coinex_support_bot", names)
    assert time.perf_counter() - start < 2.0


# ------------------------------------------------------------------ nothing downloaded


def test_suffix_list_comes_from_the_bundled_snapshot(monkeypatch):
    attempts = []

    def no_network(*args, **_kwargs):
        attempts.append(args)
        raise OSError("network is off in this test")

    # tldextract falls back to its snapshot quietly when a download fails, so the
    # test counts attempts instead of waiting for an error.
    for name in ("getaddrinfo", "create_connection"):
        monkeypatch.setattr(socket, name, no_network)
    monkeypatch.setattr(socket.socket, "connect", no_network)
    hosts.extractor.cache_clear()
    try:
        parts = hosts.split_host("login.coinex-verify.co.uk")
    finally:
        hosts.extractor.cache_clear()
    assert parts == hosts.HostParts("login.coinex-verify.co.uk", "login", "coinex-verify", "co.uk")
    assert attempts == []


def test_import_and_first_verdict_work_with_the_network_off():
    script = (
        "import socket\n"
        "attempts = []\n"
        "def off(*a, **k):\n"
        "    attempts.append(a)\n"
        "    raise OSError('network is off')\n"
        "socket.getaddrinfo = socket.create_connection = socket.socket.connect = off\n"
        "import loginhelp.phishing as p\n"
        "v = p.verdicts_in('is https://coinex.com.secure-login.io/login real?')[0]\n"
        "print(v.kind, v.trick, v.registrable, len(attempts))\n"
    )
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["lookalike", "official-subdomain", "secure-login.io", "0"]
