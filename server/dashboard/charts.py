"""The dashboard's charts: SVG strings to inline in a page, each with a plain table of the
same figures beside it (for screen readers, for copying, and for the tests).

Drawn server-side by pygal, then made inert and self-contained: no script (pygal's
tooltips load theirs from a CDN, and its inline config script would need a CSP
exception), no comments (they carry pygal's URLs), no XML declaration (the SVG goes
inside an HTML page). Text from the database — store names, SKUs, categories — is
escaped by the XML serialiser like any other text. With no data, the chart says
"Nothing yet" instead of drawing empty axes.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date
from functools import partial

import pygal
from pygal.style import DefaultStyle

from server.dashboard.analytics import (
    AGE_BUCKETS,
    Ageing,
    ConsentWeek,
    Demand,
    Fulfilment,
    StoreWeek,
    Tally,
    weeks,
)

NOTHING_YET = "Nothing yet"
MAX_STORES = 10  # more stacked series than this is noise: the rest become "Other stores"
STYLE = DefaultStyle(font_family="system-ui, -apple-system, 'Segoe UI', sans-serif",
                     no_data_font_size=24)
# What consent actions are called on a chart: denials and objections are both refusals.
CONSENT_KINDS = {"grant": "grants", "withdraw": "withdrawals", "deny": "refusals",
                 "object": "refusals"}


@dataclass(frozen=True)
class Table:
    """A chart's figures for an HTML table: a caption, the column headers, the rows."""

    caption: str
    headers: tuple[str, ...]
    rows: list[tuple]


def _inert_and_labelled(root, title: str):
    """An xml filter: drop scripts and comments; name the image for assistive tech."""
    for parent in list(root.iter()):
        for child in list(parent):
            # Comments' (and processing instructions') tags are functions, not names.
            if callable(child.tag) or str(child.tag).rsplit("}", 1)[-1] == "script":
                parent.remove(child)
    root.set("role", "img")
    root.set("aria-label", title)
    return root


def _chart(kind: type, title: str, x_title: str, y_title: str, **options):
    chart = kind(js=[], disable_xml_declaration=True, title=title, x_title=x_title,
                 y_title=y_title, no_data_text=NOTHING_YET, style=STYLE, height=420,
                 legend_at_bottom=True, truncate_legend=40, **options)
    chart.add_xml_filter(partial(_inert_and_labelled, title=title))
    return chart


# With no data: the title and "Nothing yet" only — empty axes would read as zeros.
_NOTHING_YET = {"show_x_labels": False, "show_y_labels": False, "show_x_guides": False,
                "show_y_guides": False, "show_legend": False, "x_title": None,
                "y_title": None, "height": 200}


def _render(chart) -> str:
    return chart.render(is_unicode=True, **({} if chart.raw_series else _NOTHING_YET))


def _whole_ticks(chart, top: int | float) -> None:
    """Counts: ticks on whole numbers (pygal would draw 0.2, 0.4… for small counts)."""
    step = max(1, math.ceil(top / 8))
    chart.y_labels = list(range(0, int(top) + step + 1, step))


def _words(code: str) -> str:
    return code.replace("_", " ")


def _week(day: date) -> str:
    return f"{day.day} {day:%b %Y}"


# -- requests per store per week ---------------------------------------------------------

def requests_per_week_chart(rows: list[StoreWeek], since: date | None = None,
                            until: date | None = None, title: str = "Requests per week") -> str:
    """Stacked bars: one bar per week of the window (by default, of the data), one band
    per store (the biggest MAX_STORES)."""
    chart = _chart(pygal.StackedBar, title, "Week starting", "Requests")
    if rows:
        span = weeks(since or rows[0].week, until or rows[-1].week)
        chart.x_labels = [_week(w) for w in span]
        series = _per_store(rows)
        for store, counts in series.items():
            chart.add(store, [counts.get(w, 0) for w in span])
        _whole_ticks(chart, max(sum(c.get(w, 0) for c in series.values()) for w in span))
    return _render(chart)


def _per_store(rows: list[StoreWeek]) -> dict[str, dict[date, int]]:
    found: dict[str, dict[date, int]] = {}
    for row in rows:
        found.setdefault(f"{row.store_name} ({row.store_code})", {})[row.week] = row.requests
    biggest = sorted(found, key=lambda store: -sum(found[store].values()))
    kept = {store: found[store] for store in biggest[:MAX_STORES]}
    rest: dict[date, int] = {}
    for store in biggest[MAX_STORES:]:
        for week, count in found[store].items():
            rest[week] = rest.get(week, 0) + count
    return kept | ({"Other stores": rest} if rest else {})


def requests_per_week_table(rows: list[StoreWeek]) -> Table:
    return Table("Requests per store and week", ("Week starting", "Store", "Code", "Requests"),
                 [(_week(r.week), r.store_name, r.store_code, r.requests) for r in rows])


# -- fulfilment --------------------------------------------------------------------------

def fulfilment_rate_chart(rows: list[Fulfilment], title: str = "Fulfilment rate") -> str:
    """Bars: the share of closed requests that were fulfilled, per type or store."""
    chart = _chart(pygal.Bar, title, "", "Fulfilled, % of closed", range=(0, 100),
                   show_legend=False)
    if rows:
        chart.x_labels = [r.label for r in rows]
        chart.add("Fulfilled %", [_percent(r.rate) for r in rows])
    return _render(chart)


def time_to_fulfil_chart(rows: list[Fulfilment], title: str = "Days to fulfil") -> str:
    """Bars: median and mean days from capture to fulfilment, per type or store."""
    chart = _chart(pygal.Bar, title, "", "Days")
    if any(r.fulfilled for r in rows):
        chart.x_labels = [r.label for r in rows]
        chart.add("Median days", [r.median_days for r in rows])
        chart.add("Mean days", [r.mean_days for r in rows])
    return _render(chart)


def _percent(rate: float | None) -> float | None:
    return None if rate is None else round(rate * 100, 1)


def fulfilment_table(rows: list[Fulfilment], by: str = "Type") -> Table:
    return Table("Fulfilment of closed requests",
                 (by, "Closed", "Fulfilled", "Fulfilled %", "Median days", "Mean days"),
                 [(r.label, r.closed, r.fulfilled, _percent(r.rate), r.median_days,
                   r.mean_days) for r in rows])


# -- ageing ------------------------------------------------------------------------------

def ageing_chart(rows: list[Ageing], title: str = "Open requests by age") -> str:
    """Stacked bars: one bar per store, one band per age bucket (days since capture)."""
    chart = _chart(pygal.StackedBar, title, "Store", "Open requests", x_label_rotation=20)
    if rows:
        chart.x_labels = [r.store_name for r in rows]
        for bucket in AGE_BUCKETS:
            chart.add(f"{bucket} days", [r.counts[bucket] for r in rows])
        _whole_ticks(chart, max(r.total for r in rows))
    return _render(chart)


def ageing_table(rows: list[Ageing]) -> Table:
    return Table("Open requests by store and age (days)",
                 ("Store", "Code", *AGE_BUCKETS, "Total"),
                 [(r.store_name, r.store_code, *r.counts.values(), r.total) for r in rows])


# -- unmet demand ------------------------------------------------------------------------

def unmet_demand_chart(rows: list[Demand], dimension: str = "sku",
                       title: str | None = None) -> str:
    """Horizontal bars, most asked-for first: asks, and the distinct customers asking."""
    name = "SKU" if dimension == "sku" else dimension.capitalize()
    # Horizontal: the x title names the value axis (at the bottom), the y title the bars.
    chart = _chart(pygal.HorizontalBar, title or f"Unmet demand by {name}", "Asks", name)
    if rows:
        ordered = list(reversed(rows))  # pygal draws the first label at the bottom
        chart.x_labels = [r.value for r in ordered]
        chart.add("Asks", [r.asks for r in ordered])
        chart.add("Customers", [r.customers for r in ordered])
        _whole_ticks(chart, max(r.asks for r in rows))
    return _render(chart)


def unmet_demand_table(rows: list[Demand], dimension: str = "sku") -> Table:
    name = "SKU" if dimension == "sku" else dimension.capitalize()
    return Table(f"Unmet demand by {name}", (name, "Asks", "Customers", "Units"),
                 [(r.value, r.asks, r.customers, r.units) for r in rows])


# -- consent -----------------------------------------------------------------------------

def consent_chart(rows: list[ConsentWeek], by: str = "purpose", since: date | None = None,
                  until: date | None = None, title: str | None = None) -> str:
    """Lines per week: grants, withdrawals and refusals, by top-level purpose or channel."""
    key = _consent_key(by)
    chart = _chart(pygal.Line, title or f"Consent by {by}", "Week starting", "Events")
    if rows:
        span = weeks(since or rows[0].week, until or rows[-1].week)
        chart.x_labels = [_week(w) for w in span]
        series = _consent_series(rows, key)
        for name, counts in series.items():
            chart.add(name, [counts.get(w, 0) for w in span])
        _whole_ticks(chart, max(max(counts.values()) for counts in series.values()))
    return _render(chart)


def _consent_key(by: str) -> Callable[[ConsentWeek], str]:
    if by == "purpose":
        return lambda row: row.purpose.split(".")[0]  # a child speaks for its parent
    if by == "channel":
        return lambda row: row.channel
    raise ValueError("consent is charted by purpose or by channel")


def _consent_series(rows: Iterable[ConsentWeek], key) -> dict[str, dict[date, int]]:
    found: dict[str, dict[date, int]] = {}
    for row in rows:
        counts = found.setdefault(f"{key(row)}: {CONSENT_KINDS[row.action]}", {})
        counts[row.week] = counts.get(row.week, 0) + row.events
    return dict(sorted(found.items()))


def consent_table(rows: list[ConsentWeek]) -> Table:
    return Table("Consent events per week", ("Week starting", "Purpose", "Channel",
                                             "Action", "Events"),
                 [(_week(r.week), r.purpose, r.channel, r.action, r.events) for r in rows])


# -- follow-ups --------------------------------------------------------------------------

def follow_up_chart(statuses: list[Tally], title: str = "Follow-ups") -> str:
    """Bars: follow-ups sent, suppressed, and in every other state."""
    chart = _chart(pygal.Bar, title, "Status", "Follow-ups", show_legend=False)
    if statuses:
        chart.x_labels = [_words(t.key) for t in statuses]
        chart.add("Follow-ups", [t.tasks for t in statuses])
        _whole_ticks(chart, max(t.tasks for t in statuses))
    return _render(chart)


def suppression_chart(reasons: list[Tally], title: str = "Why follow-ups were suppressed"
                      ) -> str:
    """Horizontal bars: suppressed follow-ups per blocking reason, most first."""
    chart = _chart(pygal.HorizontalBar, title, "Suppressed follow-ups", "Reason",
                   show_legend=False)
    if reasons:
        ordered = list(reversed(reasons))
        chart.x_labels = [_words(t.key) for t in ordered]
        chart.add("Suppressed", [t.tasks for t in ordered])
        _whole_ticks(chart, max(t.tasks for t in reasons))
    return _render(chart)


def tally_table(rows: list[Tally], caption: str, key: str) -> Table:
    """A follow-up status or suppression reason table."""
    return Table(caption, (key, "Follow-ups"), [(_words(t.key), t.tasks) for t in rows])
