"""Two and three tablets of one store editing the same records: one table of
interleavings, run against both clients (the Python client in tests/client, the tablet
app in Chromium in tests/tablet), with one oracle.

Each scenario starts from a customer, a request and a note the server holds and every
tablet has pulled. Its steps are (tablet, action, ...). After a `sync`, the tablet
holds exactly the conflicts and "needs attention" items the step names (none unless
named): that is the oracle's first half, "no value is replaced without a conflict shown
to someone who had not seen it". At the end every tablet syncs until its outbox is
empty, and the oracle's second half holds: each tablet shows what the server holds
(they converge), and the server holds the values the scenario expects — what the
associates chose, so no edit or delete they chose is lost.

Actions:
    edit ENTITY FIELDS      an edit of the customer, the request or the note
    status STATUS [REASON]  a step of the request's lifecycle
    delete                  the note deleted
    withdraw                a consent event (marketing by email withdrawn) for the customer
    new_note BODY           a new note for the customer
    sync [EXPECT]           push and pull; EXPECT: {"conflict": (ENTITY, [FIELDS])} and/or
                            {"attention": ENTITY}
    push, pull              one half of a sync (what a sync cut short does, or another
                            tablet's sync landing between the two halves)
    resolve KEEP [VALUES]   the one conflict waiting: "mine", "theirs" or "merge" (VALUES)
    discard                 the one item needing attention given up
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

ENTITIES = ("customer", "request", "note")
# The fields a tablet shows and the scenarios touch: compared for convergence.
FIELDS = {"customer": ("given_name", "family_name", "email"),
          "request": ("size", "colour", "status"),
          "note": ("body",)}
START = {"customer": {"given_name": "Ada", "family_name": "Byron"},
         "request": {"size": "38", "colour": "tan", "status": "open"},
         "note": {"body": "Likes navy"}}


class Driver(Protocol):
    """One tablet, as a scenario drives it. `conflicts` and `attention` list what waits
    for the associate: dicts with mutation_id, entity, and (conflicts) fields."""

    def edit(self, entity: str, record_id: str, fields: dict[str, Any]) -> None: ...
    def status(self, request_id: str, status: str, reason: str | None) -> None: ...
    def delete_note(self, note_id: str) -> None: ...
    def withdraw(self, customer_id: str) -> None: ...
    def new_note(self, customer_id: str, body: str) -> None: ...
    def sync(self) -> None: ...
    def push(self) -> None: ...
    def pull(self) -> None: ...
    def conflicts(self) -> list[dict[str, Any]]: ...
    def attention(self) -> list[dict[str, Any]]: ...
    def resolve(self, mutation_id: str, keep: str, values: dict | None) -> None: ...
    def discard(self, mutation_id: str) -> None: ...
    def pending(self) -> int: ...
    def shown(self, entity: str, record_id: str) -> dict[str, Any] | None: ...


@dataclass(frozen=True)
class Scenario:
    name: str
    steps: list[tuple]
    expect: dict[str, Any]  # "entity.field": value; "note": None when deleted
    consents: int = 0       # consent events the server holds at the end
    tablets: int = 2
    # The bodies of the customer's notes on the server at the end; None: not checked.
    notes: list[str] | None = None


def _s(name, steps, expect, **more) -> Scenario:
    return Scenario(name, steps, expect, **more)


FAMILY_CONFLICT = {"conflict": ("customer", ["family_name"])}
NOTE_CONFLICT = {"conflict": ("note", ["body"])}
SIZE_CONFLICT = {"conflict": ("request", ["size"])}
STATUS_CONFLICT = {"conflict": ("request", ["status"])}
GONE = {"conflict": ("note", [])}  # deleted by someone else: no field to compare

SCENARIOS = [
    # -- edit / edit, the same field ---------------------------------------------------------
    _s("edit_edit_same_field_second_keeps_theirs", [
        ("A", "edit", "customer", {"family_name": "A1"}), ("B", "edit", "customer",
                                                           {"family_name": "B1"}),
        ("A", "sync"), ("B", "sync", FAMILY_CONFLICT), ("B", "resolve", "theirs")],
       {"customer.family_name": "A1"}),
    _s("edit_edit_same_field_second_keeps_mine", [
        ("A", "edit", "customer", {"family_name": "A1"}), ("B", "edit", "customer",
                                                           {"family_name": "B1"}),
        ("A", "sync"), ("B", "sync", FAMILY_CONFLICT), ("B", "resolve", "mine")],
       {"customer.family_name": "B1"}),
    _s("edit_edit_same_field_second_merges", [
        ("A", "edit", "customer", {"family_name": "A1"}), ("B", "edit", "customer",
                                                           {"family_name": "B1"}),
        ("A", "sync"), ("B", "sync", FAMILY_CONFLICT),
        ("B", "resolve", "merge", {"family_name": "A1-B1"})],
       {"customer.family_name": "A1-B1"}),
    _s("edit_edit_same_value_is_no_conflict", [
        ("A", "edit", "request", {"size": "40"}), ("B", "edit", "request", {"size": "40"}),
        ("A", "sync"), ("B", "sync")],
       {"request.size": "40"}),
    _s("edit_after_seeing_the_other_edit_is_no_conflict", [
        ("A", "edit", "note", {"body": "A1"}), ("A", "sync"), ("B", "sync"),
        ("B", "edit", "note", {"body": "B1"}), ("B", "sync")],
       {"note.body": "B1"}),
    _s("note_edit_edit_mine_over_theirs", [
        ("A", "edit", "note", {"body": "A1"}), ("B", "edit", "note", {"body": "B1"}),
        ("B", "sync"), ("A", "sync", NOTE_CONFLICT), ("A", "resolve", "mine")],
       {"note.body": "A1"}),
    _s("note_edit_edit_merge", [
        ("A", "edit", "note", {"body": "A1"}), ("B", "edit", "note", {"body": "B1"}),
        ("B", "sync"), ("A", "sync", NOTE_CONFLICT),
        ("A", "resolve", "merge", {"body": "A1 and B1"})],
       {"note.body": "A1 and B1"}),
    # -- edit / edit, other fields: merged without asking ------------------------------------
    _s("edit_edit_other_fields_merge", [
        ("A", "edit", "customer", {"family_name": "A1"}),
        ("B", "edit", "customer", {"email": "b1@example.com"}),
        ("A", "sync"), ("B", "sync")],
       {"customer.family_name": "A1", "customer.email": "b1@example.com"}),
    _s("edit_edit_other_fields_of_a_request", [
        ("A", "edit", "request", {"size": "41"}), ("B", "edit", "request", {"colour": "red"}),
        ("B", "sync"), ("A", "sync")],
       {"request.size": "41", "request.colour": "red"}),
    _s("mine_keeps_my_other_fields_too", [
        ("A", "edit", "request", {"size": "41"}),
        ("B", "edit", "request", {"size": "42", "colour": "red"}),
        ("A", "sync"), ("B", "sync", SIZE_CONFLICT), ("B", "resolve", "theirs")],
       {"request.size": "41", "request.colour": "red"}),
    # -- queued double edits --------------------------------------------------------------------
    _s("queued_double_edit_alone_lands_the_last", [
        ("B", "edit", "customer", {"family_name": "B-first"}),
        ("B", "edit", "customer", {"family_name": "B-second"}), ("B", "sync"), ("A", "sync")],
       {"customer.family_name": "B-second"}),
    _s("second_edit_after_a_correction_conflicts", [
        ("B", "edit", "customer", {"family_name": "B-first"}), ("B", "sync"),
        ("B", "edit", "customer", {"family_name": "B-second"}),
        ("A", "sync"), ("A", "edit", "customer", {"family_name": "A-fix"}), ("A", "sync"),
        ("B", "sync", FAMILY_CONFLICT), ("B", "resolve", "theirs")],
       {"customer.family_name": "A-fix"}),
    _s("queued_double_edit_against_an_earlier_correction", [
        ("B", "edit", "customer", {"family_name": "B-first"}),
        ("B", "edit", "customer", {"family_name": "B-second"}),
        ("A", "edit", "customer", {"family_name": "A-fix"}), ("A", "sync"),
        ("B", "sync", FAMILY_CONFLICT), ("B", "resolve", "mine"), ("B", "sync")],
       {"customer.family_name": "B-second"}),
    _s("queued_double_edit_then_a_correction_between_push_and_pull", [
        ("B", "edit", "customer", {"family_name": "B-first"}),
        ("B", "edit", "customer", {"family_name": "B-second"}), ("B", "push"),
        ("A", "sync"), ("A", "edit", "customer", {"family_name": "A-fix"}), ("A", "sync"),
        ("B", "pull"), ("B", "sync")],
       {"customer.family_name": "A-fix"}),
    _s("edit_queued_before_a_pull_of_a_correction_conflicts", [
        ("B", "edit", "customer", {"family_name": "B-first"}), ("B", "push"),
        ("B", "edit", "customer", {"family_name": "B-second"}),
        ("A", "sync"), ("A", "edit", "customer", {"family_name": "A-fix"}), ("A", "sync"),
        ("B", "pull"), ("B", "sync", FAMILY_CONFLICT), ("B", "resolve", "theirs")],
       {"customer.family_name": "A-fix"}),
    _s("status_step_queued_before_a_pull_of_a_closing", [
        ("B", "status", "ready"), ("B", "push"), ("B", "status", "in_progress"),
        ("A", "sync"), ("A", "status", "fulfilled", "collected"), ("A", "sync"),
        ("B", "pull"), ("B", "sync")],
       {"request.status": "fulfilled"}),
    _s("queued_double_edit_beside_another_field", [
        ("B", "edit", "request", {"size": "39"}), ("B", "edit", "request", {"size": "40"}),
        ("A", "edit", "request", {"colour": "navy"}), ("A", "sync"), ("B", "sync")],
       {"request.size": "40", "request.colour": "navy"}),
    _s("edit_then_delete_on_one_tablet", [
        ("A", "edit", "note", {"body": "A1"}), ("A", "delete"), ("A", "sync"), ("B", "sync")],
       {"note": None}),
    # -- edit / delete and delete / edit ------------------------------------------------------
    _s("delete_after_an_unseen_edit_keep_mine", [
        ("A", "edit", "note", {"body": "A1"}), ("B", "delete"), ("A", "sync"),
        ("B", "sync", NOTE_CONFLICT), ("B", "resolve", "mine")],
       {"note": None}),
    _s("delete_after_an_unseen_edit_keep_theirs", [
        ("A", "edit", "note", {"body": "A1"}), ("B", "delete"), ("A", "sync"),
        ("B", "sync", NOTE_CONFLICT), ("B", "resolve", "theirs")],
       {"note.body": "A1"}),
    _s("delete_after_a_seen_edit_is_no_conflict", [
        ("A", "edit", "note", {"body": "A1"}), ("A", "sync"), ("B", "sync"), ("B", "delete"),
        ("B", "sync")],
       {"note": None}),
    _s("edit_of_a_note_deleted_meanwhile_keep_theirs", [
        ("A", "delete"), ("A", "sync"), ("B", "edit", "note", {"body": "B1"}),
        ("B", "sync", GONE), ("B", "resolve", "theirs")],
       {"note": None}),
    _s("edit_of_a_note_deleted_meanwhile_keep_mine", [
        ("A", "delete"), ("B", "edit", "note", {"body": "B1"}), ("A", "sync"),
        ("B", "sync", GONE), ("B", "resolve", "mine")],
       {"note": None}, notes=["B1"]),
    _s("delete_delete_is_no_conflict", [
        ("A", "delete"), ("B", "delete"), ("A", "sync"), ("B", "sync")],
       {"note": None}),
    _s("delete_after_my_own_queued_edit_went", [
        ("B", "edit", "note", {"body": "B1"}), ("B", "sync"), ("B", "delete"), ("B", "sync"),
        ("A", "sync")],
       {"note": None}),
    # -- status / status and status / edit ------------------------------------------------
    _s("status_status_same_closing_step_is_a_no_op", [
        ("A", "status", "cancelled", "customer_cancelled"),
        ("B", "status", "cancelled", "customer_cancelled"), ("A", "sync"), ("B", "sync")],
       {"request.status": "cancelled"}),
    _s("status_on_an_old_view_gives_way_to_a_closed_request", [
        ("A", "status", "fulfilled", "collected"), ("B", "status", "in_progress"),
        ("A", "sync"), ("B", "sync")],
       {"request.status": "fulfilled"}),
    _s("status_status_open_steps_conflict_keep_theirs", [
        ("A", "status", "ready"), ("B", "status", "in_progress"), ("A", "sync"),
        ("B", "sync", STATUS_CONFLICT), ("B", "resolve", "theirs")],
       {"request.status": "ready"}),
    _s("status_status_open_steps_conflict_keep_mine", [
        ("A", "status", "ready"), ("B", "status", "in_progress"), ("A", "sync"),
        ("B", "sync", STATUS_CONFLICT), ("B", "resolve", "mine")],
       {"request.status": "in_progress"}),
    _s("status_and_edit_merge", [
        ("A", "status", "ready"), ("B", "edit", "request", {"size": "44"}), ("B", "sync"),
        ("A", "sync")],
       {"request.status": "ready", "request.size": "44"}),
    _s("edit_of_a_request_closed_meanwhile_needs_attention", [
        ("A", "status", "cancelled", "not_available"), ("B", "edit", "request", {"size": "45"}),
        ("A", "sync"), ("B", "sync", {"attention": "request"}), ("B", "discard")],
       {"request.status": "cancelled", "request.size": "38"}),
    # -- consent during edits -------------------------------------------------------------
    _s("consent_during_an_edit", [
        ("A", "edit", "customer", {"family_name": "A1"}), ("B", "withdraw"), ("B", "sync"),
        ("A", "sync")],
       {"customer.family_name": "A1"}, consents=1),
    _s("consent_from_both_tablets_during_a_conflict", [
        ("A", "edit", "customer", {"family_name": "A1"}), ("A", "withdraw"),
        ("B", "edit", "customer", {"family_name": "B1"}), ("B", "withdraw"), ("A", "sync"),
        ("B", "sync", FAMILY_CONFLICT), ("B", "resolve", "theirs")],
       {"customer.family_name": "A1"}, consents=2),
    _s("creations_never_conflict", [
        ("A", "new_note", "A's note"), ("B", "new_note", "B's note"),
        ("A", "edit", "customer", {"family_name": "A1"}),
        ("B", "edit", "customer", {"family_name": "B1"}), ("A", "sync"),
        ("B", "sync", FAMILY_CONFLICT), ("B", "resolve", "merge", {"family_name": "A1 B1"})],
       {"customer.family_name": "A1 B1"}, notes=["A's note", "B's note", "Likes navy"]),
    # -- three tablets --------------------------------------------------------------------
    _s("three_tablets_three_fields", [
        ("A", "edit", "customer", {"family_name": "A1"}),
        ("B", "edit", "customer", {"email": "b1@example.com"}),
        ("C", "edit", "customer", {"given_name": "Augusta"}),
        ("C", "sync"), ("B", "sync"), ("A", "sync")],
       {"customer.family_name": "A1", "customer.email": "b1@example.com",
        "customer.given_name": "Augusta"}, tablets=3),
    _s("three_tablets_one_field_mine_then_theirs", [
        ("A", "edit", "note", {"body": "A1"}), ("B", "edit", "note", {"body": "B1"}),
        ("C", "edit", "note", {"body": "C1"}), ("A", "sync"),
        ("B", "sync", NOTE_CONFLICT), ("B", "resolve", "mine"), ("B", "sync"),
        ("C", "sync", NOTE_CONFLICT), ("C", "resolve", "theirs")],
       {"note.body": "B1"}, tablets=3),
    _s("three_tablets_mine_meets_a_newer_edit", [
        ("A", "edit", "request", {"size": "40"}), ("B", "edit", "request", {"size": "41"}),
        ("A", "sync"), ("B", "sync", SIZE_CONFLICT), ("C", "sync"),
        ("C", "edit", "request", {"size": "42"}), ("C", "sync"), ("B", "resolve", "mine"),
        ("B", "sync", SIZE_CONFLICT), ("B", "resolve", "merge", {"size": "41.5"})],
       {"request.size": "41.5"}, tablets=3),
    _s("three_tablets_edit_delete_edit", [
        ("A", "edit", "note", {"body": "A1"}), ("B", "delete"), ("A", "sync"),
        ("B", "sync", NOTE_CONFLICT), ("C", "sync"), ("C", "edit", "note", {"body": "C1"}),
        ("C", "sync"), ("B", "resolve", "mine"), ("B", "sync", NOTE_CONFLICT),
        ("B", "resolve", "theirs")],
       {"note.body": "C1"}, tablets=3),
    _s("three_tablets_status_race", [
        ("A", "status", "ready"), ("B", "status", "fulfilled", "collected"),
        ("C", "status", "cancelled", "customer_cancelled"), ("B", "sync"), ("A", "sync"),
        ("C", "sync")],
       {"request.status": "fulfilled"}, tablets=3),
]


def run(scenario: Scenario, tablets: dict[str, Driver], ids: dict[str, str],
        server: Any) -> None:
    """Play the scenario and check the oracle. `server(entity, id)` answers the record as
    the server holds it now (None if it has none); `server("consents", customer_id)` the
    number of consent events, `server("note_bodies", customer_id)` their notes' texts,
    sorted."""
    for step in scenario.steps:
        _play(tablets[step[0]], step, ids, scenario.name)
    for _ in range(2):  # the second round brings each tablet what the others sent last
        for tablet in tablets.values():
            tablet.sync()
    for name, tablet in tablets.items():
        _expect_waiting(tablet, {}, f"{scenario.name}: {name} at the end")
        assert tablet.pending() == 0, f"{scenario.name}: {name} still has pending mutations"
    _check_server(scenario, ids, server)
    for name, tablet in tablets.items():
        for entity in ENTITIES:
            held = server(entity, ids[entity])
            shown = tablet.shown(entity, ids[entity])
            assert _fields(entity, shown) == _fields(entity, held), (
                f"{scenario.name}: {name} shows {shown} for the {entity}, the server {held}")


def _play(tablet: Driver, step: tuple, ids: dict[str, str], name: str) -> None:
    action, args = step[1], step[2:]
    if action == "edit":
        tablet.edit(args[0], ids[args[0]], args[1])
    elif action == "status":
        tablet.status(ids["request"], args[0], args[1] if len(args) > 1 else None)
    elif action == "delete":
        tablet.delete_note(ids["note"])
    elif action == "withdraw":
        tablet.withdraw(ids["customer"])
    elif action == "new_note":
        tablet.new_note(ids["customer"], args[0])
    elif action == "sync":
        tablet.sync()
        _expect_waiting(tablet, args[0] if args else {}, f"{name}: after {step}")
    elif action in ("push", "pull"):
        getattr(tablet, action)()
    elif action == "resolve":
        [waiting] = tablet.conflicts()
        tablet.resolve(waiting["mutation_id"], args[0], args[1] if len(args) > 1 else None)
    elif action == "discard":
        [waiting] = tablet.attention()
        tablet.discard(waiting["mutation_id"])
    else:
        raise ValueError(f"unknown action {action!r}")


def _expect_waiting(tablet: Driver, expect: dict, where: str) -> None:
    conflicts = [(c["entity"], sorted(c["conflicts"])) for c in tablet.conflicts()]
    wanted = [(expect["conflict"][0], sorted(expect["conflict"][1]))] if "conflict" in expect \
        else []
    assert conflicts == wanted, f"{where}: conflicts {conflicts}, expected {wanted}"
    attention = [a["entity"] for a in tablet.attention()]
    wanted_attention = [expect["attention"]] if "attention" in expect else []
    assert attention == wanted_attention, f"{where}: needs attention {attention}"


def _check_server(scenario: Scenario, ids: dict[str, str], server: Any) -> None:
    for key, value in scenario.expect.items():
        entity, _, name = key.partition(".")
        held = server(entity, ids[entity])
        if not name:
            assert held is value, f"{scenario.name}: the server holds {held} for the {entity}"
        else:
            assert held is not None and held[name] == value, (
                f"{scenario.name}: the server holds {held} for {key}, expected {value!r}")
    assert server("consents", ids["customer"]) == scenario.consents, scenario.name
    if scenario.notes is not None:
        assert server("note_bodies", ids["customer"]) == sorted(scenario.notes), scenario.name


def _fields(entity: str, record: dict[str, Any] | None) -> dict[str, Any] | None:
    return None if record is None else {name: record.get(name) for name in FIELDS[entity]}
