"""Turn what a customer typed as "how can we reach you" into a validated email or E.164 phone number.

Reasons in InvalidContact are written for the customer: the assistant shows
them verbatim so the customer can correct the typo themselves.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

import phonenumbers
from email_validator import EmailNotValidError, validate_email
from phonenumbers import NumberParseException, PhoneNumberFormat, ValidationResult

EXAMPLE_PHONE = "+44 7911 123456"

#: Characters a typed phone number may contain besides digits.
_PHONE_CHARS = re.compile(r"[\d\s()+\-./]+")


class InvalidContact(ValueError):
    """The text is not a usable email address or phone number; ``reason`` says why, for the customer."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Contact:
    """Exactly one of ``email`` / ``phone`` is set."""

    email: str | None = None
    phone: str | None = None


def normalise_contact(text: str, default_region: str | None = None) -> Contact:
    """Validate an email address or phone number and return it normalised.

    Emails come back in email_validator's normalised form (domain lower-cased),
    phone numbers in E.164. A national number (no country code) is accepted only
    when ``default_region`` (e.g. "GB") says which country it belongs to.
    """
    text = (text or "").strip()
    if not text:
        raise InvalidContact("Please type an email address or a phone number.")
    if "@" in text:
        return Contact(email=normalise_email(text))
    if _PHONE_CHARS.fullmatch(text) and any(c.isdigit() for c in text):
        return Contact(phone=normalise_phone(text, default_region))
    raise InvalidContact(
        "That doesn't look like an email address (it has no @) or a phone number."
    )


def normalise_email(text: str) -> str:
    """Validated, normalised email (no DNS lookup: the customer may be offline from their mail)."""
    text = text.strip()
    local, _, domain = text.partition("@")
    if not local:
        raise InvalidContact("That email address is missing the part before @")
    if not domain:
        raise InvalidContact("That email address is missing the part after @")
    if "@" in domain:
        raise InvalidContact("That email address has more than one @")
    if any(c.isspace() for c in text):
        raise InvalidContact("That email address contains a space")
    if "." not in domain:
        raise InvalidContact(
            "That email address is missing the end of its domain, e.g. @gmail.com"
        )
    try:
        return validate_email(text, check_deliverability=False).normalized
    except EmailNotValidError as exc:
        raise InvalidContact(f"That email address doesn't look right: {exc}") from None


def _international(text: str) -> str:
    """Treat a leading 00 as the international prefix used in most countries (0044... -> +44...)."""
    compact = text.strip()
    return "+" + compact[2:] if compact.startswith("00") else compact


def normalise_phone(text: str, default_region: str | None = None) -> str:
    """Validated phone number in E.164 form (e.g. "+447911123456")."""
    raw = _international(text)
    too_short = f"That phone number has too few digits — please include your country code, e.g. {EXAMPLE_PHONE}"
    try:
        number = phonenumbers.parse(raw, default_region)
    except NumberParseException as exc:
        if exc.error_type == NumberParseException.INVALID_COUNTRY_CODE:
            if raw.startswith("+"):
                raise InvalidContact(
                    "That phone number's country code isn't recognised — please check the digits after +"
                ) from None
            raise InvalidContact(
                f"Please include your country code in the phone number, e.g. {EXAMPLE_PHONE}"
            ) from None
        if exc.error_type in (NumberParseException.TOO_SHORT_NSN, NumberParseException.TOO_SHORT_AFTER_IDD):
            raise InvalidContact(too_short) from None
        if exc.error_type == NumberParseException.TOO_LONG:
            raise InvalidContact("That phone number has too many digits — please check it") from None
        raise InvalidContact(
            f"That doesn't look like a phone number — please type digits only, e.g. {EXAMPLE_PHONE}"
        ) from None

    possible = phonenumbers.is_possible_number_with_reason(number)
    if possible == ValidationResult.TOO_SHORT:
        raise InvalidContact(too_short)
    if possible == ValidationResult.TOO_LONG:
        raise InvalidContact("That phone number has too many digits — please check it")
    if possible == ValidationResult.INVALID_COUNTRY_CODE:
        raise InvalidContact(
            "That phone number's country code isn't recognised — please check the digits after +"
        )
    if possible == ValidationResult.INVALID_LENGTH or not phonenumbers.is_valid_number(number):
        raise InvalidContact(
            "That phone number doesn't exist — please check the digits and the country code"
        )
    return phonenumbers.format_number(number, PhoneNumberFormat.E164)


def _loose_e164(text: str, region: str | None) -> str | None:
    """E.164 form of anything phone-shaped, without the validity check (for comparisons only)."""
    try:
        number = phonenumbers.parse(_international(text), region)
    except NumberParseException:
        return None
    if not phonenumbers.is_possible_number(number):
        return None
    return phonenumbers.format_number(number, PhoneNumberFormat.E164)


def contact_matches(candidate: str, *, email: str | None, phone: str | None) -> bool:
    """True if ``candidate`` is the same email (any case) or the same phone number as the stored contact.

    A national number is read in the stored number's country, so "07911 123456"
    matches a ticket filed with "+44 7911 123456".
    """
    text = (candidate or "").strip()
    if not text:
        return False
    if "@" in text:
        if not email:
            return False
        if text.casefold() == email.strip().casefold():
            return True
        try:
            return normalise_email(text).casefold() == normalise_email(email).casefold()
        except InvalidContact:
            return False
    if not phone:
        return False
    stored = _loose_e164(phone, None)
    if stored is None:
        return False
    region = phonenumbers.region_code_for_number(phonenumbers.parse(stored))
    return _loose_e164(text, region) == stored
