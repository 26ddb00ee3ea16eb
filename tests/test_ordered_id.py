"""core.types.ordered_id: UUID version 7, whose order is the order of its times."""

from __future__ import annotations

import uuid

from hypothesis import given
from hypothesis import strategies as st

from server.core.types import ordered_id

MS = st.integers(min_value=0, max_value=2**48 - 1)


@given(MS)
def test_the_time_version_and_variant_are_where_rfc_9562_puts_them(at_ms):
    made = ordered_id(at_ms)
    assert made.version == 7 and made.variant == uuid.RFC_4122
    assert made.int >> 80 == at_ms
    assert made.hex.startswith(f"{at_ms:012x}7")


@given(MS, MS)
def test_a_later_time_sorts_later(first, second):
    if first != second:
        assert (ordered_id(first) < ordered_id(second)) == (first < second)


def test_ids_of_the_same_millisecond_differ():
    made = {ordered_id(1_764_633_600_000) for _ in range(1000)}
    assert len(made) == 1000
