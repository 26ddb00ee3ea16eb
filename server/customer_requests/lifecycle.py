"""The request lifecycle: open → in progress → ready → fulfilled | cancelled | expired.

A closing status says why: the reason codes below are what head office counts
("cancelled because we could not source it" is unmet demand, "customer changed
their mind" is not).
"""

from __future__ import annotations

from server.core.errors import IllegalTransition, Rejected
from server.core.wording import spoken, with_article

TYPES = ("back_in_stock", "special_order", "hold", "alteration", "appointment",
         "call_back", "other")
STATUSES = ("open", "in_progress", "ready", "fulfilled", "cancelled", "expired")
CLOSED = frozenset({"fulfilled", "cancelled", "expired"})
OPEN = tuple(s for s in STATUSES if s not in CLOSED)  # still someone's to do

TRANSITIONS: dict[str, tuple[str, ...]] = {
    "open": ("in_progress", "ready", "fulfilled", "cancelled", "expired"),
    "in_progress": ("open", "ready", "fulfilled", "cancelled", "expired"),
    "ready": ("in_progress", "fulfilled", "cancelled", "expired"),
    "fulfilled": (),
    "cancelled": (),
    "expired": (),
}

REASONS: dict[str, tuple[str, ...]] = {
    "fulfilled": ("collected", "delivered", "customer_contacted", "appointment_held"),
    "cancelled": ("customer_cancelled", "not_available", "discontinued", "duplicate",
                  "captured_in_error", "customer_unreachable"),
    "expired": ("past_due", "no_response", "retention"),
}
# A closing status must give a reason; the others may carry none.
REASON_REQUIRED = frozenset(REASONS)


def check(current: str, target: str, reason: str | None) -> None:
    """Raise unless `current → target` is allowed with this reason."""
    allowed = TRANSITIONS[current]
    if target not in allowed:
        raise IllegalTransition(
            f"A request that is {spoken(current)} cannot become {spoken(target)}.",
            current=current, allowed=list(allowed))
    check_reason(target, reason)


def check_reason(target: str, reason: str | None) -> None:
    """Raise unless `reason` may go with a request becoming (or being) `target`."""
    if target in REASON_REQUIRED and reason not in REASONS[target]:
        raise Rejected(errors={"reason": [f"Give one of: {', '.join(REASONS[target])}."]})
    if target not in REASON_REQUIRED and reason is not None:
        raise Rejected(errors={"reason": [
            f"{with_article(spoken(target)).capitalize()} request takes no reason."]})
