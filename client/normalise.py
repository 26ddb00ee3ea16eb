"""Search keys for the local customer lookup, made the way the server makes them.

The server stores contact points normalised (server/customers/normalise.py):
lower-cased email, E.164 phone read with the store's country, names folded
case- and accent-blind. A tablet embeds this package without the server, so the
same few rules are restated here; a customer captured offline, whose contact
points the server has not normalised yet, is found the same way.
"""

from __future__ import annotations

import unicodedata

import phonenumbers


def email(value: str) -> str:
    return unicodedata.normalize("NFC", value.strip()).lower()


def phone(value: str, region: str | None) -> str | None:
    """E.164 for a number written in any form (read in `region`); None if not valid."""
    if value.startswith("+") and value[1:].isdigit():
        return value  # already E.164, as everything the server sends is: skip the parse
    try:
        number = phonenumbers.parse(value, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def digits(value: str) -> str:
    return "".join(c for c in value if c.isdigit())


def digits_reversed(value: str) -> str:
    """Reversed digits, so "ends with 4567" is an indexable prefix search."""
    return digits(value)[::-1]


def fold(text: str) -> str:
    """Case- and accent-insensitive: "Zoë" and "zoe" both find "ZOE"."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return " ".join("".join(c for c in decomposed if not unicodedata.combining(c)).split())


def name_key(given: str | None, family: str | None) -> str:
    return fold(f"{given or ''} {family or ''}")
