"""The request lifecycle, every pair of statuses, table-driven."""

import itertools

import pytest

from server.core.errors import IllegalTransition, Rejected
from server.customer_requests import lifecycle

ALLOWED = {
    ("open", "in_progress"), ("open", "ready"), ("open", "fulfilled"), ("open", "cancelled"),
    ("open", "expired"),
    ("in_progress", "open"), ("in_progress", "ready"), ("in_progress", "fulfilled"),
    ("in_progress", "cancelled"), ("in_progress", "expired"),
    ("ready", "in_progress"), ("ready", "fulfilled"), ("ready", "cancelled"),
    ("ready", "expired"),
}
A_REASON = {"fulfilled": "collected", "cancelled": "customer_cancelled", "expired": "past_due"}


@pytest.mark.parametrize("current, target", list(itertools.product(lifecycle.STATUSES,
                                                                   repeat=2)))
def test_every_pair_of_statuses(current, target):
    reason = A_REASON.get(target)
    if (current, target) in ALLOWED:
        lifecycle.check(current, target, reason)
    else:
        with pytest.raises(IllegalTransition) as raised:
            lifecycle.check(current, target, reason)
        assert raised.value.extra["allowed"] == list(lifecycle.TRANSITIONS[current])


@pytest.mark.parametrize("target", sorted(lifecycle.REASON_REQUIRED))
def test_closing_needs_a_known_reason(target):
    for reason in (None, "because", "collected" if target != "fulfilled" else "duplicate"):
        with pytest.raises(Rejected):
            lifecycle.check("open", target, reason)


@pytest.mark.parametrize("target", ["in_progress", "ready"])
def test_open_statuses_take_no_reason(target):
    with pytest.raises(Rejected):
        lifecycle.check("open", target, "collected")


def test_closed_statuses_are_final():
    for status in lifecycle.CLOSED:
        assert lifecycle.TRANSITIONS[status] == ()
