"""Which messages are surely not English: no English chat message flagged, other languages noticed."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from loginhelp.nlp.language import OTHER_SCRIPT, foreign_language

REPO = Path(__file__).resolve().parents[1]
# Turns of the conversation tests written in another language on purpose.
FOREIGN_TURNS = {
    "Buenos dias, no puedo iniciar sesion. Me sale contraseña incorrecta.",
    "si ya lo revise", "ya lo hice tambien", "en el movil", "登录不了",
    "hola, no puedo entrar a mi cuenta", "ya lo hice",
}


def _training_examples() -> list[str]:
    found = []
    for path in (REPO / "data" / "nlu").glob("*.yml"):
        for item in yaml.safe_load(path.read_text()).get("nlu") or []:
            for line in (item.get("examples") or "").splitlines() if "intent" in item else []:
                if line.strip().startswith("- "):
                    found.append(re.sub(r"\[([^\]]+)\]\([^)]+\)", r"\1", line.strip()[2:]))
    return found


def _conversation_turns() -> list[str]:
    turns = []
    for path in (REPO / "tests" / "dialogue").glob("*.yml"):
        for conversation in yaml.safe_load(path.read_text()).get("conversations") or []:
            turns += [str(t["user"]) for t in conversation["turns"] if not str(t.get("user", "/")).startswith("/")]
    return turns


def test_no_english_training_example_is_taken_for_another_language():
    flagged = [m for m in _training_examples() if foreign_language(m)]
    assert flagged == []


def test_no_english_turn_of_the_conversation_tests_is_taken_for_another_language():
    flagged = {m for m in _conversation_turns() if foreign_language(m)}
    assert flagged == FOREIGN_TURNS & set(_conversation_turns())


@pytest.mark.parametrize("text, language", [
    ("hola, no puedo entrar a mi cuenta", "es"),
    ("dice contraseña incorrecta, pero estoy seguro", "es"),
    ("não consigo entrar na minha conta", "pt"),
    ("je ne peux pas me connecter à mon compte", "fr"),
    ("ich kann mich nicht anmelden", "de"),
    ("non riesco ad accedere al mio account", "it"),
    ("tôi không đăng nhập được", "vi"),
    ("saya tidak bisa masuk ke akun saya", "id"),
    ("nie mogę się zalogować", "pl"),
    ("не могу войти в аккаунт", OTHER_SCRIPT),
    ("登录不了", OTHER_SCRIPT),
    ("لا أستطيع تسجيل الدخول", OTHER_SCRIPT),
])
def test_other_languages_are_noticed(text, language):
    assert foreign_language(text) == language


@pytest.mark.parametrize("text", [
    "r u a bot", "hi cant login, some weird message i dont understand", "ines.m@example.pt",
    "hola", "ok", "chrome 120 on windows 11",
    "my email is jose.garcia@example.es", "coinex.com.br is it real?",
])
def test_english_mixed_short_or_details_are_not(text):
    assert foreign_language(text) is None
