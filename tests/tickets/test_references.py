from __future__ import annotations

import re

import pytest

from loginhelp.tickets.references import ALPHABET, is_valid_reference, new_reference, normalise_reference


def test_alphabet_has_no_ambiguous_characters() -> None:
    assert not set("01OIL") & set(ALPHABET)
    assert len(ALPHABET) == len(set(ALPHABET)) == 31


def test_new_reference_shape_and_randomness() -> None:
    refs = {new_reference() for _ in range(2000)}
    assert all(re.fullmatch(r"LH-[23456789ABCDEFGHJKMNPQRSTUVWXYZ]{6}", r) for r in refs)
    assert len(refs) > 1990  # 31**6 possibilities: collisions in 2000 draws are very rare
    used = {c for r in refs for c in r[3:]}
    assert used == set(ALPHABET)  # every character is actually drawn


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (" lh-7kq2mx ", "LH-7KQ2MX"),
        ("LH-7KQ2MX", "LH-7KQ2MX"),
        ("\tLh-abcdef\n", "LH-ABCDEF"),
    ],
)
def test_normalise_accepts_case_and_spaces(text: str, expected: str) -> None:
    assert normalise_reference(text) == expected
    assert is_valid_reference(text)


@pytest.mark.parametrize(
    "text",
    [
        "LH-7KQ2M0",  # zero
        "LH-7KQ2MO",  # letter O
        "LH-7KQ2M1",  # one
        "LH-7KQ2MI",  # letter I
        "LH-7KQ2ML",  # letter L
        "LH-7KQ2M",  # too short
        "LH-7KQ2MXX",  # too long
        "LH7KQ2MX",  # no dash
        "XX-7KQ2MX",  # wrong prefix
        "LH-7KQ 2MX",  # inner space
        "",
        "   ",
    ],
)
def test_rejects_malformed_references(text: str) -> None:
    assert normalise_reference(text) is None
    assert not is_valid_reference(text)


def test_non_string_is_not_a_reference() -> None:
    assert normalise_reference(None) is None  # type: ignore[arg-type]
    assert not is_valid_reference(123456)  # type: ignore[arg-type]
