"""Benchmarks that empty their database run one at a time on it."""

from __future__ import annotations

import pytest

from tests.benchmarks.alone import Busy, alone
from tests.conftest import is_postgres


@pytest.mark.postgres_only
def test_a_second_benchmark_on_the_same_database_stops_at_once(database_url):
    if not is_postgres(database_url):
        pytest.skip("the benchmarks run on PostgreSQL only")
    with alone(database_url):  # noqa: SIM117 (held while the second one tries)
        with pytest.raises(Busy, match="Another benchmark is running"), alone(database_url):
            pass  # never entered
    with alone(database_url):  # the first one ended: the database is free again
        pass
