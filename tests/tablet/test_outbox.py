"""The tablet app's outbox on its own, in Chromium (no server answers: they are made
up here, as tests/client/test_outbox.py does for the Python client): on which base
version each mutation goes, what a conflict leaves for the associate, and what every
resolution sends again."""

from __future__ import annotations

import itertools

import pytest
from playwright.sync_api import Page

pytestmark = pytest.mark.e2e

_databases = itertools.count()

# A fresh IndexedDB per test, and helpers named as in tests/client/test_outbox.py.
HARNESS = """async (name) => {
  const origin = location.origin + "/tablet/js/";
  const outbox = await import(origin + "outbox.js");
  const { Local } = await import(origin + "local.js");
  const { Capture } = await import(origin + "capture.js");
  const local = await Local.open(name);
  const pulled = async (entity, version, fields) => {
    const id = crypto.randomUUID();
    await local.write((tx, changes) => local.putServerCopy(tx, changes, entity, id, version,
      { id, ...fields }));
    return id;
  };
  const sent = async () => (await outbox.nextBatch(local, 500)).map((item) => {
    const wire = outbox.wire(item);
    return [wire.op, wire.fields, wire.base_version];
  });
  const answerAll = async (status = "applied", result = {}) => {
    const batch = await outbox.nextBatch(local, 500);
    return outbox.settle(local, batch, batch.map(({ row, base }) => (
      { mutation_id: row.mutation_id, status, version: (base || 0) + 1, ...result })));
  };
  const ada = () => pulled("customer", 1, { given_name: "Ada", family_name: "Byron" });
  const counts = async () => { await local.recount(); return local.counts; };
  window.t = { outbox, local, pulled, ada, sent, answerAll, counts,
               capture: new Capture(local, null) };
}"""


@pytest.fixture
def page(context, live_server) -> Page:
    page = context.new_page()
    page.goto(f"{live_server}/tablet/")
    page.evaluate(HARNESS, f"outbox-test-{next(_databases)}")
    return page


def js(page: Page, body: str, arg=None):
    """Runs `body` (the statements of an async function of `arg`, with `t` the harness)."""
    return page.evaluate(f"async (arg) => {{ const t = window.t; {body} }}", arg)


def sent(page: Page) -> list[list]:
    return js(page, "return t.sent();")


def counts(page: Page) -> dict:
    return js(page, "return t.counts();")


def test_a_new_record_goes_alone_then_its_edits_on_the_version_it_was_applied_at(page):
    js(page, """const id = await t.pulled("customer", 1, { given_name: "Ada" });
        const created = await t.capture.note(id, "Likes navy");
        await t.capture.editNote(created, "Likes teal");""")
    assert sent(page)[0][0::2] == ["upsert", None]
    assert len(sent(page)) == 1
    js(page, "return t.answerAll();")  # applied at version 1
    assert sent(page) == [["upsert", {"body": "Likes teal"}, 1]]


def test_an_edit_captured_after_its_creation_went_stands_on_the_creations_version(page):
    js(page, """const id = await t.pulled("customer", 1, { given_name: "Ada" });
        window.note = await t.capture.note(id, "Likes navy");
        await t.answerAll("applied", { version: 4 });
        await t.capture.editNote(window.note, "Likes teal");""")
    assert sent(page) == [["upsert", {"body": "Likes teal"}, 4]]


def test_an_edit_keeps_the_base_its_associate_saw_whatever_is_pulled_later(page):
    """The lost update of issue 25: B edits a name twice offline; the first goes; A
    corrects it; B's second edit must go on the version B saw, not on A's."""
    js(page, """const id = await t.ada();
        window.customer = id;
        await t.capture.editCustomer(id, { family_name: "B-first" });
        await t.capture.editCustomer(id, { family_name: "B-second" });""")
    assert sent(page) == [["upsert", {"family_name": "B-first"}, 1]]
    js(page, """await t.answerAll();  // applied at 2: nobody wrote in between
        const id = window.customer;  // A's correction arrives in a pull
        await t.local.write((tx, changes) => t.local.putServerCopy(tx, changes, "customer", id,
          3, { id, given_name: "Ada", family_name: "A-fix" }));""")
    assert sent(page) == [["upsert", {"family_name": "B-second"}, 2]]


def test_an_edit_applied_over_other_writers_leaves_the_next_on_the_base_seen(page):
    js(page, """const id = await t.ada();
        await t.capture.editCustomer(id, { family_name: "B-first" });
        await t.capture.editCustomer(id, { family_name: "B-second" });
        await t.answerAll("applied", { version: 5 });  /* others wrote 2 to 4 */""")
    assert sent(page) == [["upsert", {"family_name": "B-second"}, 1]]


def test_a_conflict_with_our_own_earlier_value_is_sent_again_without_asking(page):
    js(page, """const id = await t.ada();
        await t.capture.editCustomer(id, { family_name: "B-first" });
        await t.capture.editCustomer(id, { family_name: "B-second" });
        await t.answerAll("applied", { version: 5 });
        await t.answerAll("conflict", { conflicts: ["family_name"], record:
          { id, given_name: "Ada", family_name: "B-first", version: 5 } });""")
    assert counts(page)["conflict"] == 0  # B saw "B-first": nobody else's value is lost
    assert sent(page) == [["upsert", {"family_name": "B-second"}, 5]]


def test_a_conflict_with_someone_elses_value_waits_for_the_associate(page):
    js(page, """const id = await t.ada();
        await t.capture.editCustomer(id, { family_name: "B-first" });
        await t.answerAll("conflict", { conflicts: ["family_name"], record:
          { id, given_name: "Ada", family_name: "A-fix", version: 3 } });""")
    assert counts(page)["conflict"] == 1
    assert sent(page) == []


def test_edits_of_different_fields_share_a_push_edits_of_one_field_do_not(page):
    js(page, """const id = await t.pulled("request", 4, { status: "open", size: "38",
                                                         colour: "tan" });
        await t.capture.editRequest(id, { size: "40" });
        await t.capture.editRequest(id, { colour: "red" });
        await t.capture.editRequest(id, { size: "41" });""")
    assert sent(page) == [["upsert", {"size": "40"}, 4], ["upsert", {"colour": "red"}, 4]]


def test_a_refused_creation_sent_again_is_still_a_creation_with_its_edits_after_it(page):
    js(page, """const id = await t.ada();
        const note = await t.capture.note(id, "Likes navy");
        await t.capture.editNote(note, "Likes teal");
        await t.answerAll("rejected", { errors: { body: ["Too long."] } });
        const [row] = await t.outbox.rows(t.local, "attention");
        await t.outbox.requeue(t.local, row.mutation_id, { body: "Likes navy!" });""")
    batch = sent(page)
    assert [(op, fields.get("body"), base) for op, fields, base in batch] == [
        ("upsert", "Likes navy!", None)]  # its edit waits until it is applied
    js(page, "return t.answerAll('applied', { version: 3 });")
    assert sent(page) == [["upsert", {"body": "Likes teal"}, 3]]


def test_a_rejection_marked_retry_stays_pending(page):
    js(page, """const id = await t.pulled("note", 2, { body: "Likes navy" });
        await t.capture.editNote(id, "Likes grey");
        await t.answerAll("rejected", { errors: { id: ["Written concurrently."] },
                                        retry: true });""")
    assert counts(page) == {"pending": 1, "attention": 0, "conflict": 0}
    assert sent(page) == [["upsert", {"body": "Likes grey"}, 2]]


def test_a_refused_delete_sent_again_is_still_a_delete(page):
    new_id = js(page, """const id = await t.pulled("note", 2, { body: "Likes navy" });
        const deleted = await t.capture.deleteNote(id);
        await t.answerAll("rejected", { errors: { id: ["Try again."] } });
        const [row] = await t.outbox.rows(t.local, "attention");
        return t.outbox.requeue(t.local, row.mutation_id);""")
    assert new_id is not None
    assert sent(page) == [["delete", {}, 2]]


# -- resolutions: every choice for every operation that can conflict --------------------
# A creation cannot conflict (its id is new to the server) and a consent event is only
# ever appended: neither has a resolution to choose. Both go on beside a conflict.

IN_CONFLICT = """const [entity, op, mine, theirs, conflicts] = arg;
  const id = await t.pulled(entity, 2, { body: "Likes navy", status: "open", size: "38",
                                         colour: "tan", customer_id: null });
  if (op === "delete") await t.capture.deleteNote(id);
  else if ("status" in mine) await t.capture.requestStatus(id, mine.status, mine.reason || null);
  else if (entity === "note") await t.capture.editNote(id, mine.body);
  else await t.capture.editRequest(id, mine);
  await t.answerAll("conflict", { conflicts, record: { id, version: 7, ...theirs } });
  const [row] = await t.outbox.rows(t.local, "conflict");
  return [id, row.mutation_id];"""

STATUS_MINE = {"status": "in_progress", "reason": None, "changed_by": None}
RESOLUTIONS = [
    # entity, op, mine, theirs, conflicts, keep, merged values, what is sent again
    ("note", "upsert", {"body": "Likes grey"}, {"body": "Likes teal"}, ["body"],
     "mine", None, ["upsert", {"body": "Likes grey"}, 7]),
    ("note", "upsert", {"body": "Likes grey"}, {"body": "Likes teal"}, ["body"],
     "theirs", None, None),
    ("note", "upsert", {"body": "Likes grey"}, {"body": "Likes teal"}, ["body"],
     "merge", {"body": "Likes grey and teal"}, ["upsert", {"body": "Likes grey and teal"}, 7]),
    ("note", "delete", {}, {"body": "Likes teal"}, ["body"],
     "mine", None, ["delete", {}, 7]),
    ("note", "delete", {}, {"body": "Likes teal"}, ["body"], "theirs", None, None),
    ("request", "upsert", {"size": "40", "colour": "red"}, {"size": "39"}, ["size"],
     "mine", None, ["upsert", {"size": "40", "colour": "red"}, 7]),
    ("request", "upsert", {"size": "40", "colour": "red"}, {"size": "39"}, ["size"],
     "theirs", None, ["upsert", {"colour": "red"}, 7]),
    ("request", "upsert", {"size": "40", "colour": "red"}, {"size": "39"}, ["size"],
     "merge", {"size": "39.5"}, ["upsert", {"colour": "red", "size": "39.5"}, 7]),
    ("request", "upsert", {"status": "in_progress"}, {"status": "ready"}, ["status"],
     "mine", None, ["upsert", STATUS_MINE, 7]),
    ("request", "upsert", {"status": "in_progress"}, {"status": "ready"}, ["status"],
     "theirs", None, None),
    ("request", "upsert", {"status": "in_progress"}, {"status": "ready"}, ["status"],
     "merge", {"status": "open"}, ["upsert", {"status": "open"}, 7]),
]


@pytest.mark.parametrize(("entity", "op", "mine", "theirs", "conflicts", "keep", "values",
                          "expected"), RESOLUTIONS)
def test_every_resolution_sends_what_the_associate_chose(page, entity, op, mine, theirs,
                                                         conflicts, keep, values, expected):
    record_id, mutation_id = js(page, IN_CONFLICT, [entity, op, mine, theirs, conflicts])
    new_id = js(page, "return t.outbox.resolve(t.local, arg[0], arg[1], arg[2]);",
                [mutation_id, keep, values])
    assert sent(page) == ([] if expected is None else [expected])
    assert (new_id is None) == (expected is None)
    assert counts(page) == {"pending": int(expected is not None), "attention": 0,
                            "conflict": 0}
    shown = js(page, "return t.local.get(arg[0], arg[1]);", [entity, record_id])
    if op == "delete" and keep == "mine":
        assert shown is None  # the delete stays chosen: the note does not come back
    elif keep == "theirs":
        assert all(shown[name] == theirs[name] for name in conflicts)
    elif keep == "merge":
        assert all(shown[name] == values[name] for name in conflicts)


def test_a_resolved_mutation_has_seen_their_values(page):
    record_id, mutation_id = js(page, IN_CONFLICT, ["request", "upsert", {"size": "40"},
                                                    {"size": "39"}, ["size"]])
    js(page, "return t.outbox.resolve(t.local, arg, 'mine');", mutation_id)
    [row] = js(page, "return t.outbox.rows(t.local);")
    assert row["seen"] == {"size": "39"} and row["base_version"] == 7


def test_a_delete_has_nothing_to_merge_and_stays_in_conflict(page):
    _, mutation_id = js(page, IN_CONFLICT, ["note", "delete", {}, {"body": "Likes teal"},
                                            ["body"]])
    error = js(page, """try { await t.outbox.resolve(t.local, arg, "merge", { body: "x" }); }
        catch (error) { return error.message; }""", mutation_id)
    assert "nothing to merge" in error
    assert counts(page)["conflict"] == 1


@pytest.mark.parametrize("values", [{"colour": "red"}, {}, None])
def test_a_merge_names_only_fields_in_conflict(page, values):
    _, mutation_id = js(page, IN_CONFLICT, ["request", "upsert", {"size": "40"}, {"size": "39"},
                                            ["size"]])
    error = js(page, """try { await t.outbox.resolve(t.local, arg[0], "merge", arg[1]); }
        catch (error) { return error.message; }""", [mutation_id, values])
    assert error and "fields in conflict only (size)" in error
    assert counts(page)["conflict"] == 1


def test_a_consent_event_goes_on_beside_a_conflict_of_its_customer(page):
    js(page, """const id = await t.ada();
        await t.capture.editCustomer(id, { family_name: "B1" });
        await t.answerAll("conflict", { conflicts: ["family_name"], record:
          { id, given_name: "Ada", family_name: "A1", version: 2 } });
        await t.capture.consent(id, { purpose: "marketing", channel: "email",
                                      action: "withdraw", method: "associate_entry" });""")
    [[op, fields, base]] = sent(page)
    assert (op, fields["action"], base) == ("append", "withdraw", None)
    assert counts(page)["conflict"] == 1


# -- the IndexedDB of a tablet on the first layout -----------------------------------

OLD_LAYOUT = """async (name) => {
  const open = indexedDB.open(name, 1);
  open.onupgradeneeded = () => {
    const db = open.result;
    const records = db.createObjectStore("records", { keyPath: ["entity", "id"] });
    records.createIndex("entity", "entity");
    const outbox = db.createObjectStore("outbox", { keyPath: "seq", autoIncrement: true });
    outbox.createIndex("record", ["entity", "record_id"]);
    outbox.createIndex("mutation_id", "mutation_id", { unique: true });
    db.createObjectStore("state", { keyPath: "key" });
    db.createObjectStore("options", { keyPath: "customer_id" });
    records.put({ entity: "note", id: "n1", version: 4, server: { id: "n1", body: "a" },
                  body: { id: "n1", body: "x" }, awaiting_pull: false, stale: false });
    const row = { entity: "note", op: "upsert", fields: {}, captured_at: "now",
                  captured_by: null, state: "pending", base_version: null, errors: null,
                  conflicts: null, theirs: null };
    outbox.add({ ...row, mutation_id: "m1", record_id: "n1", fields: { body: "x" },
                 creates: false });
    outbox.add({ ...row, mutation_id: "m2", record_id: "n2", fields: { body: "new" },
                 creates: true });
  };
  await new Promise((resolve, reject) => {
    open.onsuccess = () => { open.result.close(); resolve(); };
    open.onerror = () => reject(open.error);
  });
}"""


def test_a_tablet_of_the_first_layout_keeps_its_queued_edits_on_the_version_cached(page):
    page.evaluate(OLD_LAYOUT, "outbox-old-layout")
    page.evaluate(HARNESS, "outbox-old-layout")
    assert sorted(sent(page), key=str) == sorted([["upsert", {"body": "x"}, 4],
                                                  ["upsert", {"body": "new"}, None]], key=str)
    assert js(page, "return t.local.db.version;") == 2


def test_an_edit_over_our_own_queued_value_stands_on_that_ones_base(page):
    js(page, """const id = await t.pulled("request", 2, { status: "open", size: "38" });
        window.request = id;
        await t.capture.requestStatus(id, "ready");
        /* a pull brings version 5 (someone moved it on) under our queued step */
        await t.local.write((tx, changes) => t.local.putServerCopy(tx, changes, "request", id,
          5, { id, status: "in_progress", size: "38" }));
        await t.capture.requestStatus(id, "in_progress");
        await t.capture.editRequest(id, { size: "40" });""")
    rows = js(page, "return (await t.outbox.rows(t.local)).map((r) => r.base_version);")
    assert rows == [2, 2, 5]  # the second step saw our "ready", not their version 5's


def test_an_unchanged_answer_moves_no_later_base(page):
    js(page, """const id = await t.ada();
        await t.capture.editCustomer(id, { family_name: "King" });
        await t.capture.editCustomer(id, { family_name: "B-second" });
        /* someone else wrote "King" at version 2 already */
        await t.answerAll("applied", { version: 2, unchanged: true });""")
    assert sent(page) == [["upsert", {"family_name": "B-second"}, 1]]


NOTE_GONE = """const customer = await t.ada();
    const note = await t.pulled("note", 2, { body: "Likes navy", customer_id: customer });
    window.ids = { customer, note };
    await t.capture.editNote(note, "Likes grey");
    await t.answerAll("conflict", { conflicts: [], record: null, version: null });
    const [row] = await t.outbox.rows(t.local, "conflict");
    return row ? row.mutation_id : null;"""


def test_keeping_theirs_lets_a_note_deleted_meanwhile_go(page):
    mutation_id = js(page, NOTE_GONE)
    assert mutation_id is not None and counts(page)["conflict"] == 1
    js(page, "return t.outbox.resolve(t.local, arg, 'theirs');", mutation_id)
    assert sent(page) == [] and js(page, "return t.local.get('note', ids.note) ?? null;") is None


def test_keeping_mine_brings_a_note_deleted_meanwhile_back_as_a_new_note(page):
    mutation_id = js(page, NOTE_GONE)
    with pytest.raises(Exception, match="nothing to merge"):
        js(page, "return t.outbox.resolve(t.local, arg, 'merge', { body: 'x' });", mutation_id)
    js(page, "return t.outbox.resolve(t.local, arg, 'mine');", mutation_id)
    [row] = js(page, "return t.outbox.rows(t.local);")
    ids = js(page, "return window.ids;")
    assert row["creates"] and row["record_id"] != ids["note"]
    assert row["fields"] == {"customer_id": ids["customer"], "body": "Likes grey"}
    assert js(page, "return t.local.get('note', ids.note) ?? null;") is None


def test_a_pulled_erasure_takes_every_queued_mutation_of_the_customer(page):
    js(page, """const customer = await t.ada();
        const note = await t.pulled("note", 2, { body: "Likes navy", customer_id: customer });
        await t.capture.editCustomer(customer, { family_name: "King" });
        await t.capture.editNote(note, "Likes grey");
        await t.local.write((tx, changes) => t.outbox.forgetErased(t.local, tx, changes,
          "customer", customer));""")
    assert js(page, "return (await t.outbox.rows(t.local)).length;") == 0
