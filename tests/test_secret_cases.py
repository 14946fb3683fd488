"""The secret detector on a table of ordinary messages and real secrets (issue #12).

A false alarm is as costly as a miss: the customer is told off for a secret they
never shared, their problem is dropped and their words are redacted.
"""
from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from loginhelp.secret_detection import secret_kinds

CASES = yaml.safe_load((Path(__file__).parent / "nlu" / "secret_cases.yml").read_text(encoding="utf-8"))


def test_the_table_is_large_enough():
    assert len(CASES["ordinary"]) >= 200 and len(CASES["secrets"]) >= 100


@pytest.mark.parametrize("text", CASES["ordinary"])
def test_ordinary_messages_are_not_secrets(text):
    assert secret_kinds(text) == []


@pytest.mark.parametrize("case", CASES["secrets"], ids=lambda c: c["text"][:40])
def test_real_secrets_are_caught_with_their_kind(case):
    assert case["kind"] in secret_kinds(case["text"])
