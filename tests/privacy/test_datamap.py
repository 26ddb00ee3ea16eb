"""The data map covers every column of every table, once."""

from server.extensions import db
from server.privacy.datamap import NOT_PERSONAL, PERSONAL


def test_every_column_is_classified_once(app):
    columns = {(t.name, c.name) for t in db.metadata.sorted_tables for c in t.columns}
    not_personal = {(t, c) for t, names in NOT_PERSONAL.items() for c in names}
    personal = set(PERSONAL)
    assert not personal & not_personal, "classified both ways"
    unclassified = columns - personal - not_personal
    assert not unclassified, (
        f"columns missing from server/privacy/datamap.py: {sorted(unclassified)} — say "
        "whether each holds personal data, and how export and erasure treat it")
    stale = (personal | not_personal) - columns
    assert not stale, f"the map names columns that do not exist: {sorted(stale)}"


def test_customer_data_says_how_to_find_its_customer_and_what_erasure_does(app):
    for (table, column), entry in PERSONAL.items():
        if entry.subject == "customer" and entry.erasure != "keep":
            assert entry.owner, (table, column)
        assert entry.erasure in ("clear", "delete_row", "keep")
        if entry.erasure == "keep" and entry.subject == "customer":
            assert entry.why, f"{table}.{column} is kept: say why"
