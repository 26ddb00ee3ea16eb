"""The shop's words that several domains share."""

from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

CHANNELS = ("email", "sms", "post", "phone", "push")


def valid_timezone(name: str) -> bool:
    """An IANA time zone this machine knows (a store's, a customer's quiet hours)."""
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True
