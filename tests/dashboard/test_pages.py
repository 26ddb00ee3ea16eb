"""The dashboard's pages in process: the request list and its filters, a request with
its notes and contact options, status changes, who to call today, the CSV export."""

from __future__ import annotations

import csv
import io
import re
from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from server.audit.models import AccessEntry
from server.contact.models import FollowUp
from server.customer_requests import service as customer_requests
from server.dashboard import search_index
from tests.dashboard.conftest import csrf_of
from tests.factories import ADMIN, make_customer, make_note, make_request


@pytest.fixture
def shop(session, world):
    """Requests in two stores: boots and a coat in A, a dress in B."""
    a, b = world.tablet_a.actor, world.tablet_b.actor
    ada = make_customer(session, a, given_name="Ada", phone="+447911123456")
    zoe = make_customer(session, b, given_name="Zoé")
    today = date.today()
    boots = make_request(session, a, ada, sku="BT-3801", category="shoes",
                         due_date=today - timedelta(days=3), captured_by="A-117")
    coat = make_request(session, a, ada, type="special_order", sku="CT-2210",
                        description="Wool overcoat", category="coats", due_date=today,
                        captured_by="A-118")
    dress = make_request(session, b, zoe, type="hold", sku="DR-0912",
                         description="=HYPERLINK(\"http://x\")", category="dresses")
    return {"ada": ada, "zoe": zoe, "boots": boots, "coat": coat, "dress": dress}


def page_text(client, url: str, status: int = 200) -> str:
    response = client.get(url)
    assert response.status_code == status, response.get_data(as_text=True)[:500]
    return response.get_data(as_text=True)


@pytest.mark.parametrize("query, shown, hidden", [
    ("", ["BT-3801", "CT-2210", "DR-0912"], []),
    ("?store=B-01", ["DR-0912"], ["BT-3801", "CT-2210"]),
    ("?region=North", ["BT-3801", "CT-2210"], ["DR-0912"]),
    ("?type=special_order&type=hold", ["CT-2210", "DR-0912"], ["BT-3801"]),
    ("?due=overdue", ["BT-3801"], ["CT-2210", "DR-0912"]),
    ("?due=today", ["CT-2210"], ["BT-3801", "DR-0912"]),
    ("?due=none", ["DR-0912"], ["BT-3801", "CT-2210"]),
    ("?associate=A-118", ["CT-2210"], ["BT-3801", "DR-0912"]),
    ("?q=overcoat", ["CT-2210"], ["BT-3801", "DR-0912"]),
    ("?q=SHOES", ["BT-3801"], ["CT-2210", "DR-0912"]),
    ("?q=bt-38", ["BT-3801"], ["CT-2210", "DR-0912"]),
    ("?q=%25", [], ["BT-3801", "CT-2210", "DR-0912"]),
    ("?min_age=1", [], ["BT-3801", "CT-2210", "DR-0912"]),
    ("?max_age=0", ["BT-3801", "CT-2210", "DR-0912"], []),
    ("?status=fulfilled", [], ["BT-3801", "CT-2210", "DR-0912"]),
    ("?store=&region=&due=&q=", ["BT-3801", "CT-2210", "DR-0912"], []),
])
def test_the_list_filters(signed_in, shop, query, shown, hidden):
    html = page_text(signed_in("viewer"), f"/dashboard/requests{query}")
    for sku in shown:
        assert sku in html
    for sku in hidden:
        assert sku not in html


@pytest.mark.parametrize("query", ["endpoint=x", "_anchor=x", "_method=DELETE",
                                   "_scheme=javascript&_external=1", "after=&sort=due"])
def test_stray_parameters_never_reach_the_page_links(signed_in, shop, query):
    html = page_text(signed_in("viewer"), f"/dashboard/requests?{query}")
    assert "javascript" not in html and "_anchor" not in html and "endpoint=" not in html
    [csv_link] = re.findall(r'href="(/dashboard/requests\.csv[^"]*)"', html)
    assert csv_link in ("/dashboard/requests.csv?sort=newest", "/dashboard/requests.csv?sort=due")


@pytest.mark.parametrize("url, status", [
    ("/dashboard/today?store=%00", 422), ("/dashboard/charts?store=%00", 422),
    ("/dashboard/charts?weeks=13", 422), ("/dashboard/charts?weeks=x", 422),
    ("/dashboard/charts?store=NOPE", 422), ("/dashboard/today?store=NOPE", 404),
    ("/dashboard/today?store=" + "x" * 40, 422),
])
def test_bad_page_parameters_are_refused_clearly(signed_in, shop, url, status):
    assert signed_in("viewer").get(url).status_code == status


def test_the_list_names_no_customer(signed_in, shop):
    html = page_text(signed_in("viewer"), "/dashboard/requests")
    assert "Ada" not in html and "Zoé" not in html and "7911123456" not in html


@pytest.mark.parametrize("query, field", [
    ("?type=nonsense", "type"), ("?min_age=-1", "min_age"), ("?min_age=abc", "min_age"),
    ("?sort=random", "sort"), ("?due=yesterday", "due"), ("?q=" + "x" * 65, "q"),
    ("?after=not-a-cursor", "after"), ("?q=%00", "q"), ("?min_age=99999999999999999999", "min_age"),
])
def test_bad_filters_say_which_field_and_never_fail(signed_in, shop, query, field):
    html = page_text(signed_in("viewer"), f"/dashboard/requests{query}", 422)
    assert f"<strong>{field}</strong>" in html


@pytest.mark.parametrize("indexed", [0, 70, 5000])  # change-log entries the search index read
def test_pages_follow_in_order_with_no_row_twice(signed_in, session, world, shop, indexed):
    for n in range(120):
        make_request(session, world.tablet_a.actor, shop["ada"], sku=f"P-{n:03d}",
                     due_date=date.today() + timedelta(days=n % 7) if n % 3 else None)
    if indexed:  # 70: the oldest indexed, the rest matched on their own text
        search_index.catch_up(session, most=indexed)
    client = signed_in("viewer")
    for sort in ("newest", "oldest", "due"):
        seen, url = [], f"/dashboard/requests?sort={sort}&q=P-"
        for _ in range(10):
            html = page_text(client, url)
            seen += [line.split("P-")[1][:3] for line in html.splitlines() if "P-" in line
                     and "request_detail" not in line and "/dashboard/requests/" in line]
            if 'rel="next"' not in html:
                break
            url = html.split('rel="next" href="')[1].split('"')[0].replace("&amp;", "&")
        assert sorted(seen) == [f"{n:03d}" for n in range(120)], sort


def test_a_store_manager_sees_only_their_store(signed_in, shop):
    client = signed_in("manager_a")
    html = page_text(client, "/dashboard/requests?store=B-01")
    assert "DR-0912" not in html
    assert "BT-3801" not in html  # the filter still applies: nothing is both A and B
    assert "DR-0912" not in page_text(client, "/dashboard/requests")
    page_text(client, f"/dashboard/requests/{shop['dress'].id}", 404)
    assert "DR-0912" not in page_text(client, "/dashboard/requests.csv")
    assert "B-01" not in page_text(client, "/dashboard/today?store=B-01").split("<main>")[1]


def test_a_request_shows_history_notes_and_contact_options_and_logs_the_read(
        signed_in, session, world, shop):
    a = world.tablet_a.actor
    make_note(session, a, shop["ada"], body="Wants the boots for a wedding",
              request_id=shop["boots"].id)
    make_note(session, a, shop["ada"], body="Recovering from knee surgery, needs low heels")
    html = page_text(signed_in("viewer"), f"/dashboard/requests/{shop['boots'].id}")
    assert "Wants the boots for a wedding" in html
    assert "knee surgery" not in html and "Withheld: a note flagged sensitive" in html
    assert "How we may tell them about this request" in html and "sms" in html
    [entry] = session.scalars(sa.select(AccessEntry).where(
        AccessEntry.customer_id == shop["ada"].id, AccessEntry.what == "dashboard request"))
    assert entry.scope == "user" and entry.action == "read"


def test_the_privacy_officer_may_read_a_sensitive_note(signed_in, session, world, shop):
    make_note(session, world.tablet_a.actor, shop["ada"],
              body="Recovering from knee surgery, needs low heels")
    assert "knee surgery" in page_text(signed_in("privacy"),
                                       f"/dashboard/requests/{shop['boots'].id}")


def change(client, request_id, **form):
    html = page_text(client, f"/dashboard/requests/{request_id}")
    version = html.split('name="version" value="')[1].split('"')[0]
    data = {"csrf_token": csrf_of(html), "version": version} | form
    return client.post(f"/dashboard/requests/{request_id}/status", data=data)


def test_a_manager_marks_a_request_ready_and_the_follow_up_fires(signed_in, session, shop):
    client = signed_in("manager_a")
    response = change(client, shop["coat"].id, status="ready", reason="")  # as a browser
    assert response.status_code == 303
    html = page_text(client, response.headers["Location"])
    assert "Status changed to ready" in html and "Mo Manager" in html
    session.close()
    [task] = session.scalars(sa.select(FollowUp).where(FollowUp.request_id == shop["coat"].id))
    assert task.trigger == "request_ready"


@pytest.mark.parametrize("form, status, message", [
    ({"status": "fulfilled"}, 422, "reason"),
    ({"status": "fulfilled", "reason": "not_a_reason"}, 422, "reason"),
    ({"status": "teleported"}, 422, "status"),
    ({"status": "ready", "version": "7"}, 409, "changed this request meanwhile"),
    ({"status": "ready", "version": "x"}, 422, "version"),
])
def test_a_bad_status_change_is_explained_and_changes_nothing(signed_in, session, shop,
                                                             form, status, message):
    response = change(signed_in("admin"), shop["coat"].id, **form)
    assert response.status_code == status
    assert message in response.get_data(as_text=True)
    session.close()
    assert customer_requests.get(session, ADMIN, shop["coat"].id).status == "open"


def test_a_closed_request_cannot_be_reopened_from_the_page(signed_in, session, shop):
    client = signed_in("admin")
    assert change(client, shop["coat"].id, status="cancelled",
                  reason="not_available").status_code == 303
    html = page_text(client, f"/dashboard/requests/{shop['coat'].id}")
    assert "Change status" not in html  # no form is offered for a closed request
    forced = client.post(f"/dashboard/requests/{shop['coat'].id}/status",
                         data={"csrf_token": csrf_of(html), "status": "open",
                               "version": str(shop["coat"].version + 1)})
    assert forced.status_code == 409
    assert "cannot become open" in forced.get_data(as_text=True)


@pytest.mark.parametrize("role", ["viewer", "privacy"])
def test_read_only_roles_cannot_change_a_status(signed_in, session, shop, role):
    client = signed_in(role)
    html = page_text(client, f"/dashboard/requests/{shop['coat'].id}")
    assert "Change status" not in html
    response = client.post(f"/dashboard/requests/{shop['coat'].id}/status",
                           data={"csrf_token": csrf_of(html), "status": "ready",
                                 "version": "1"})
    assert response.status_code == 403


def sections(html: str) -> list[str]:
    return [html.split(f'aria-label="{title}')[1].split("</section>")[0]
            for title in ("Due today", "Overdue", "Ready")]


def test_who_to_call_today(signed_in, session, world, shop):
    client = signed_in("admin")
    change(client, shop["boots"].id, status="ready")
    html = page_text(client, "/dashboard/today?store=A-01")
    due_today, overdue, ready = sections(html)
    assert "CT-2210" in due_today and "BT-3801" not in due_today
    assert "BT-3801" in overdue
    assert "BT-3801" in ready and "Ada" in ready
    session.close()
    task = session.scalar(sa.select(FollowUp).where(FollowUp.request_id == shop["boots"].id))
    task.status = "sent"
    session.commit()
    ready = sections(page_text(client, "/dashboard/today?store=A-01"))[2]
    assert "BT-3801" not in ready
    logged = [customer for entry in session.scalars(sa.select(AccessEntry).where(
        AccessEntry.what == "dashboard today")) for customer in entry.customers]
    assert shop["ada"].id in logged and shop["zoe"].id not in logged


def test_the_csv_export_follows_the_filters_and_defuses_formulas(signed_in, shop):
    response = signed_in("viewer").get("/dashboard/requests.csv?type=hold&type=back_in_stock")
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/csv")
    assert response.is_streamed
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert {row["sku"] for row in rows} == {"BT-3801", "DR-0912"}
    [dress] = [row for row in rows if row["sku"] == "DR-0912"]
    assert dress["description"].startswith("'=HYPERLINK")


def test_pages_carry_security_headers(signed_in, shop):
    response = signed_in("viewer").get("/dashboard/requests")
    assert "default-src 'none'" in response.headers["Content-Security-Policy"]
    assert response.headers["Cache-Control"] == "no-store"


def test_due_today_follows_each_stores_own_calendar(session, world):
    """At 23:30 UTC it is already tomorrow in Paris (store B) but still today in London."""
    from datetime import UTC, datetime

    from server.dashboard import listing
    now = datetime(2026, 11, 23, 23, 30, tzinfo=UTC)
    a, b = world.tablet_a.actor, world.tablet_b.actor
    london = make_request(session, a, make_customer(session, a), sku="LDN",
                          due_date=date(2026, 11, 23))
    paris = make_request(session, b, make_customer(session, b), sku="PAR",
                         due_date=date(2026, 11, 24))
    make_request(session, b, make_customer(session, b), sku="PAR-LATE",
                 due_date=date(2026, 11, 23))
    rows, _ = listing.page(session, None, {"due": "today"}, now=now)
    assert {row.id for row in rows} == {london.id, paris.id}
    overdue, _ = listing.page(session, None, {"due": "overdue"}, now=now)
    assert [row.sku for row in overdue] == ["PAR-LATE"]


def test_the_charts_page_draws_every_figure_for_the_users_stores(signed_in, shop):
    html = page_text(signed_in("manager_a"), "/dashboard/charts?weeks=4")
    assert html.count("<figure") == 12
    assert "Store B" not in html and "B-01" not in html  # a manager's figures are theirs
    assert "<script" not in html


def test_drawn_figures_are_kept_for_a_while_then_counted_again(session, world, shop):
    from server.dashboard import figures
    first = figures.all_figures(session, None, 12, keep_seconds=60)
    assert figures.all_figures(session, None, 12, keep_seconds=60) is first
    assert figures.all_figures(session, [world.store_a.id], 12, keep_seconds=60) is not first
    figures.forget()
    assert figures.all_figures(session, None, 12) is not first
