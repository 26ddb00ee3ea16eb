"""Contact points stored one way only: lower-cased email, E.164 phone, folded names."""

from __future__ import annotations

import unicodedata

import phonenumbers
from email_validator import EmailNotValidError, validate_email

from server.core.errors import Rejected


def email(value: str, field: str = "email") -> str:
    try:
        # No DNS lookup: tablets capture offline and stores run on closed networks.
        result = validate_email(value, check_deliverability=False)
    except EmailNotValidError as error:
        raise Rejected(errors={field: [str(error)]}) from None
    return result.normalized.lower()


def phone(value: str, region: str | None, field: str = "phone") -> str:
    """Any written form of a number, read with the store's country as default region."""
    try:
        number = phonenumbers.parse(value, region)
    except phonenumbers.NumberParseException:
        number = None
    if number is None or not phonenumbers.is_valid_number(number):
        hint = f" (read as a {region} number)" if region else " (use +country format)"
        raise Rejected(errors={field: [f"Not a valid phone number{hint}."]})
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def digits_reversed(e164: str | None) -> str | None:
    """Reversed digits, so "ends with 4567" is an indexable prefix search."""
    return e164[1:][::-1] if e164 else None


def fold(text: str) -> str:
    """Case- and accent-insensitive search key: "Zoë" and "zoe" both find "ZOE"."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return " ".join("".join(c for c in decomposed if not unicodedata.combining(c)).split())


def name_key(given: str, family: str | None) -> str:
    return fold(f"{given} {family or ''}")
