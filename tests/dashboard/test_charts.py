"""The dashboard's charts: inert, self-contained SVG (no CDN, no script), named for
assistive tech, text from the database escaped, "Nothing yet" when empty, and a plain
table of the same figures beside each."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time
from xml.etree import ElementTree

import pytest
import sqlalchemy as sa

from server.customer_requests.models import CustomerRequest
from server.dashboard import analytics, charts
from server.dashboard.analytics import (
    Ageing,
    ConsentWeek,
    Demand,
    Fulfilment,
    StoreWeek,
    Tally,
)
from server.stores import service as stores
from tests.factories import make_customer, make_request, make_tablet

HOSTILE = '<script>alert(1)</script> & "Sons" &amp;'
W1, W2, W3 = date(2026, 1, 5), date(2026, 1, 12), date(2026, 1, 19)
NAMESPACES = {"http://www.w3.org/2000/svg", "http://www.w3.org/1999/xlink"}

WEEKLY = [StoreWeek(W1, "A-01", HOSTILE, 3), StoreWeek(W1, "B-01", "Store B", 1),
          StoreWeek(W3, "A-01", HOSTILE, 2)]
FULFILMENT = [Fulfilment("back_in_stock", "back in stock", 4, 3, 0.75, 4.0, 4.83),
              Fulfilment("hold", "hold", 2, 0, 0.0, None, None)]
AGEING = [Ageing("A-01", HOSTILE, dict(zip(analytics.AGE_BUCKETS, (2, 0, 1, 0, 3), strict=True)))]
DEMAND = [Demand(HOSTILE, 3, 1, 3), Demand("SC-1", 2, 2, 4)]
CONSENT = [ConsentWeek(W1, "marketing", "email", "grant", 3),
           ConsentWeek(W1, "marketing.newsletter", "sms", "grant", 2),
           ConsentWeek(W2, "marketing", "email", "withdraw", 1),
           ConsentWeek(W3, "research", "post", "deny", 1),
           ConsentWeek(W3, "research", "post", "object", 2)]
STATUSES = [Tally("suppressed", 2), Tally("sent", 1)]
REASONS = [Tally("no_contact_point", 2), Tally("channel_not_chosen", 1)]

CHARTS = {  # name: (draw from rows, rows, its title)
    "requests_per_week": (charts.requests_per_week_chart, WEEKLY, "Requests per week"),
    "fulfilment_rate": (charts.fulfilment_rate_chart, FULFILMENT, "Fulfilment rate"),
    "time_to_fulfil": (charts.time_to_fulfil_chart, FULFILMENT, "Days to fulfil"),
    "ageing": (charts.ageing_chart, AGEING, "Open requests by age"),
    "unmet_demand": (charts.unmet_demand_chart, DEMAND, "Unmet demand by SKU"),
    "consent": (charts.consent_chart, CONSENT, "Consent by purpose"),
    "follow_ups": (charts.follow_up_chart, STATUSES, "Follow-ups"),
    "suppression": (charts.suppression_chart, REASONS, "Why follow-ups were suppressed"),
}


def parse(svg: str) -> ElementTree.Element:
    # Our own charts' output, parsed to prove it is well-formed: not untrusted input.
    return ElementTree.fromstring(svg)  # noqa: S314


def texts(svg: str) -> list[str]:
    """Every piece of text in the SVG, as a browser would read it (entities decoded)."""
    return [t for element in parse(svg).iter()
            for t in (element.text, element.get("aria-label")) if t]


def urls(svg: str) -> set[str]:
    return set(re.findall(r"(?:[a-z]+:)?//[^\s\"'<>)]+", svg))


@pytest.fixture(params=sorted(CHARTS), ids=str)
def drawn(request):
    draw, rows, title = CHARTS[request.param]
    return draw(rows), draw([]), title


def test_a_chart_references_nothing_but_the_svg_namespace(drawn):
    for svg in drawn[:2]:
        assert urls(svg) <= NAMESPACES, urls(svg) - NAMESPACES
        assert "<script" not in svg and "<!--" not in svg and "kozea" not in svg.lower()


def test_a_chart_is_svg_to_inline_named_for_assistive_tech(drawn):
    for svg in drawn[:2]:
        assert svg.startswith("<svg ") and "<?xml" not in svg
        root = parse(svg)
        assert (root.get("role"), root.get("aria-label")) == ("img", drawn[2])
        assert root.find("{http://www.w3.org/2000/svg}title").text == drawn[2]


def test_with_no_data_a_chart_says_nothing_yet_and_draws_no_axes(drawn):
    full, empty, _ = drawn
    assert charts.NOTHING_YET in texts(empty) and charts.NOTHING_YET not in texts(full)
    assert 'class="axis' not in empty and 'class="axis' in full


@pytest.mark.parametrize("name", ["requests_per_week", "ageing", "unmet_demand"])
def test_text_from_the_database_is_escaped(name):
    draw, rows, _ = CHARTS[name]
    svg = draw(rows)
    assert "<script>" not in svg and "&lt;script&gt;" in svg
    assert "&amp;amp;" in svg  # the name's own "&amp;" is text, escaped again
    assert any(HOSTILE in text for text in texts(svg))  # and reads back exactly


def test_a_hostile_title_is_escaped_in_the_label_too():
    svg = charts.follow_up_chart(STATUSES, title=HOSTILE)
    assert parse(svg).get("aria-label") == HOSTILE
    assert "<script>" not in svg


def test_a_store_name_from_the_database_is_escaped_end_to_end(session, world):
    store = stores.create_store(session, "EV-1", HOSTILE, "GB", "Europe/London", None)
    session.commit()
    tablet = make_tablet(session, store)
    session.commit()
    make_request(session, tablet.actor, make_customer(session, tablet.actor))
    rows = analytics.requests_per_week(session, [store.id])
    assert [(r.store_name, r.requests) for r in rows] == [(HOSTILE, 1)]
    svg = charts.requests_per_week_chart(rows)
    assert "<script>" not in svg and any(HOSTILE in text for text in texts(svg))


def test_weeks_without_requests_are_drawn_as_empty_weeks():
    svg = charts.requests_per_week_chart(WEEKLY, until=date(2026, 1, 26))
    labels = [t for t in texts(svg) if t.endswith(" Jan 2026")]
    assert labels[:4] == ["5 Jan 2026", "12 Jan 2026", "19 Jan 2026", "26 Jan 2026"]


def test_past_ten_stores_the_smallest_are_drawn_as_other_stores():
    rows = [StoreWeek(W1, f"S-{n:02}", f"Shop {n:02}", 100 - n) for n in range(12)]
    found = texts(charts.requests_per_week_chart(rows))
    assert "Other stores" in found
    assert any("Shop 09" in t for t in found) and not any("Shop 10" in t for t in found)


def test_consent_lines_roll_children_up_and_refusals_together():
    found = set(texts(charts.consent_chart(CONSENT)))
    assert {"marketing: grants", "marketing: withdrawals", "research: refusals"} <= found
    assert not any("newsletter" in t or "research: grants" in t for t in found)
    by_channel = set(texts(charts.consent_chart(CONSENT, by="channel")))
    assert {"email: grants", "sms: grants", "post: refusals"} <= by_channel
    with pytest.raises(ValueError):
        charts.consent_chart(CONSENT, by="associate")


@pytest.mark.parametrize(("table", "expected"), [
    (charts.requests_per_week_table(WEEKLY),
     [("5 Jan 2026", HOSTILE, "A-01", 3), ("5 Jan 2026", "Store B", "B-01", 1),
      ("19 Jan 2026", HOSTILE, "A-01", 2)]),
    (charts.fulfilment_table(FULFILMENT),
     [("back in stock", 4, 3, 75.0, 4.0, 4.83), ("hold", 2, 0, 0.0, None, None)]),
    (charts.ageing_table(AGEING), [(HOSTILE, "A-01", 2, 0, 1, 0, 3, 6)]),
    (charts.unmet_demand_table(DEMAND, "colour"), [(HOSTILE, 3, 1, 3), ("SC-1", 2, 2, 4)]),
    (charts.consent_table(CONSENT[:1]), [("5 Jan 2026", "marketing", "email", "grant", 3)]),
    (charts.tally_table(REASONS, "Suppressed", "Reason"),
     [("no contact point", 2), ("channel not chosen", 1)]),
])
def test_each_chart_has_a_plain_table_of_its_figures(table, expected):
    assert table.rows == expected
    assert all(len(row) == len(table.headers) for row in table.rows)
    assert table.caption


def test_tables_and_charts_of_real_figures_agree(session, world):
    for day in (W1, W1, W2):
        record = make_request(session, world.tablet_a.actor,
                              make_customer(session, world.tablet_a.actor))
        session.execute(sa.update(CustomerRequest).where(CustomerRequest.id == record.id)
                        .values(created_at=datetime.combine(day, time(9), UTC)))
        session.commit()
    rows = analytics.requests_per_week(session, since=W1, until=W2)
    assert charts.requests_per_week_table(rows).rows == [
        ("5 Jan 2026", "Store A", "A-01", 2), ("12 Jan 2026", "Store A", "A-01", 1)]
    assert {"5 Jan 2026", "12 Jan 2026"} <= set(texts(charts.requests_per_week_chart(rows)))
