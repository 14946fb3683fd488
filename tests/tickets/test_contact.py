from __future__ import annotations

import pytest

from loginhelp.contact import Contact, InvalidContact, contact_matches, normalise_contact


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("alice@gmail.com", "alice@gmail.com"),
        ("  Alice.Smith@GMAIL.com ", "Alice.Smith@gmail.com"),  # domain lower-cased, local part kept
        ("bob+coinex@example.org", "bob+coinex@example.org"),
        ("user@münchen.de", "user@münchen.de"),
    ],
)
def test_valid_emails_are_normalised(text: str, expected: str) -> None:
    assert normalise_contact(text) == Contact(email=expected, phone=None)


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("alice@", "That email address is missing the part after @"),
        ("@gmail.com", "That email address is missing the part before @"),
        ("alice@@gmail.com", "That email address has more than one @"),
        ("alice smith@gmail.com", "That email address contains a space"),
        ("alice@gmail", "That email address is missing the end of its domain, e.g. @gmail.com"),
    ],
)
def test_bad_emails_give_customer_readable_reason(text: str, reason: str) -> None:
    with pytest.raises(InvalidContact) as info:
        normalise_contact(text)
    assert info.value.reason == reason
    assert str(info.value) == reason


@pytest.mark.parametrize("text", ["alice..smith@gmail.com", "alice@-gmail.com", "alice@mail.test"])
def test_other_email_errors_explain_the_problem(text: str) -> None:
    with pytest.raises(InvalidContact) as info:
        normalise_contact(text)
    assert info.value.reason.startswith("That email address doesn't look right: ")
    assert len(info.value.reason) > len("That email address doesn't look right: ")


@pytest.mark.parametrize(
    ("text", "region", "expected"),
    [
        ("+44 7911 123456", None, "+447911123456"),
        ("0044 7911 123456", None, "+447911123456"),
        ("0044-7911-123456", None, "+447911123456"),
        ("07911 123456", "GB", "+447911123456"),
        ("+1 (202) 555-0143", None, "+12025550143"),
        ("(202) 555-0143", "US", "+12025550143"),
        ("+44 20 7946 0958", "US", "+442079460958"),  # explicit country code wins over the region
    ],
)
def test_valid_phones_become_e164(text: str, region: str | None, expected: str) -> None:
    assert normalise_contact(text, default_region=region) == Contact(email=None, phone=expected)


@pytest.mark.parametrize(
    ("text", "region", "reason"),
    [
        (
            "+44 791",
            None,
            "That phone number has too few digits — please include your country code, e.g. +44 7911 123456",
        ),
        (
            "07911 123456",
            None,
            "Please include your country code in the phone number, e.g. +44 7911 123456",
        ),
        ("+44 7911 123456 789012", None, "That phone number has too many digits — please check it"),
        (
            "+999 123456",
            None,
            "That phone number's country code isn't recognised — please check the digits after +",
        ),
        (
            "+44 9999 999999",
            None,
            "That phone number doesn't exist — please check the digits and the country code",
        ),
    ],
)
def test_bad_phones_give_customer_readable_reason(text: str, region: str | None, reason: str) -> None:
    with pytest.raises(InvalidContact) as info:
        normalise_contact(text, default_region=region)
    assert info.value.reason == reason


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "Please type an email address or a phone number."),
        ("   ", "Please type an email address or a phone number."),
        ("my name is alice", "That doesn't look like an email address (it has no @) or a phone number."),
    ],
)
def test_neither_email_nor_phone(text: str, reason: str) -> None:
    with pytest.raises(InvalidContact) as info:
        normalise_contact(text)
    assert info.value.reason == reason


def test_invalid_contact_is_a_value_error() -> None:
    with pytest.raises(ValueError):
        normalise_contact("nobody@")


@pytest.mark.parametrize(
    ("candidate", "expected"),
    [
        ("ALICE@Gmail.com", True),
        (" alice@gmail.com ", True),
        ("alice@gmail.co", False),
        ("+44 7911 123456", True),
        ("0044 7911 123456", True),
        ("07911 123456", True),  # national form read in the stored number's country
        ("+44 7911 123457", False),
        ("", False),
        ("not a contact", False),
    ],
)
def test_contact_matches(candidate: str, expected: bool) -> None:
    assert contact_matches(candidate, email="alice@gmail.com", phone="+447911123456") is expected


def test_contact_matches_needs_a_stored_value() -> None:
    assert not contact_matches("alice@gmail.com", email=None, phone="+447911123456")
    assert not contact_matches("+447911123456", email="alice@gmail.com", phone=None)
