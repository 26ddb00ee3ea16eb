// The outbox: every captured mutation, kept until the server has answered for it
// (the rules of client/outbox.py). A mutation leaves it only on `applied` or
// `duplicate`; `rejected` waits under "needs attention" with the server's errors
// (unless marked `retry`: sent again by itself); `conflict` waits with both versions.
//
// The base-version rule (what stops one tablet silently overwriting another): a
// mutation carries the version of the record its associate was looking at when they
// made it (`base_version`, taken at capture; a later pull never moves it), and the
// values of the fields it changes as they saw them (`seen`: the whole record shown,
// for a delete). The server answers `conflict` for a field someone else changed since
// that version; the tablet then sends it again by itself only where the server's value
// is the one the associate saw (their own earlier edit, already in their view), and
// otherwise asks the associate. An edit made on top of the tablet's own unsent creation
// has no server version yet: it waits, and takes the version the creation is applied
// at. When one of our mutations is applied at exactly the next version of its base,
// the later ones captured on the same view move on to that version (nobody else wrote
// in between).
//
// Mutations of one record go in capture order. Edits of different fields of one record
// may share a push; two edits of the same field may not, or the second would conflict
// with the first.

import * as idb from "./db.js";
import { asMutation } from "./local.js";
import * as overlay from "./overlay.js";

const CLOSED = new Set(["fulfilled", "cancelled", "expired"]);
const GOES_WITH = { status: ["reason", "changed_by"] };
const SETTLING = new Set(["applied", "duplicate", "conflict", "rejected"]);

export async function capture(local, entity, op, recordId, fields, capturedBy) {
  const [mutationId] = await captureAll(local, [{ entity, op, recordId, fields }], capturedBy);
  return mutationId;
}

// Several mutations in one transaction: all of them are kept, or none (a tab closed
// half-way through a customer's consent answers must not leave half of them).
export async function captureAll(local, mutations, capturedBy) {
  const ids = mutations.map(() => crypto.randomUUID());
  const capturedAt = new Date().toISOString();
  await local.write(async (tx, changes) => {
    for (const [i, { entity, op, recordId, fields }] of mutations.entries()) {
      const cached = await local.cached(tx, entity, recordId);
      const creates = op !== "delete" && !cached;
      const queued = creates || !cached ? [] : await local.outboxFor(tx, entity, recordId);
      await idb.req(tx.objectStore("outbox").add({
        mutation_id: ids[i], entity, op, record_id: recordId, fields,
        captured_at: capturedAt, captured_by: capturedBy || null, creates, state: "pending",
        base_version: creates || !cached ? null : baseSeen(cached.version, queued, op, fields),
        seen: seenOf(entity, op, fields, cached ? cached.body : null),
        errors: null, conflicts: null, theirs: null,
      }));
      await local.refreshView(tx, changes, entity, recordId);
    }
  });
  return ids;
}

// The version the associate's view stood on, for these fields: the copy's, or, where one
// of our queued mutations shows its own value of a field over the copy, the older version
// that one stood on (what the copy had there is unseen). null: not known yet.
function baseSeen(version, queued, op, fields) {
  const bases = [version, ...queued.filter((row) => op === "delete" || row.op === "delete"
    || Object.keys(row.fields).some((name) => name in fields)).map((row) => row.base_version)];
  return bases.some((base) => base == null) ? null : Math.min(...bases);
}

// What the associate was looking at: the record, for a delete; the fields they changed,
// for an edit (a creation or an event has nothing before it).
function seenOf(entity, op, fields, shown) {
  if (!shown || op === "append") return null;
  if (op === "delete") return { ...shown };
  return Object.fromEntries(Object.keys(fields).filter((name) => overlay.inRecord(entity, name))
    .map((name) => [name, shown[overlay.fieldName(entity, name)] ?? null]));
}

export function wire(item) {
  const { row, base } = item;
  return { mutation_id: row.mutation_id, entity: row.entity, op: row.op, id: row.record_id,
           base_version: base, fields: row.fields, captured_at: row.captured_at,
           captured_by: row.captured_by };
}

// -- what to send next -----------------------------------------------------------------

export async function nextBatch(local, limit, maxBytes = Infinity) {
  return choose(await rows(local), limit, maxBytes);
}

const encoder = new TextEncoder();
export function bytes(item) { return encoder.encode(JSON.stringify(wire(item))).length + 1; }

// At most `limit` mutations and `maxBytes` of them; one alone may be bigger (it goes
// alone, and if the server refuses its size it waits under "needs attention").
function choose(outbox, limit, maxBytes) {
  const held = new Set();
  const sent = new Map();  // record -> fields sent in this batch; null: nothing more may join
  const batch = [];
  let size = 0;
  for (const row of outbox) {
    const key = `${row.entity}/${row.record_id}`;
    if (held.has(key)) continue;
    const mayGo = sent.has(key) ? mayJoin(row, sent.get(key)) : mayLead(row);
    if (!mayGo) { held.add(key); continue; }
    const item = { row, base: row.creates ? null : row.base_version };
    size += bytes(item);
    if (batch.length && size > maxBytes) break;
    batch.push(item);
    const ends = row.creates || row.op !== "upsert";
    sent.set(key, ends ? null : new Set([...(sent.get(key) || []), ...Object.keys(row.fields)]));
    if (batch.length === limit) break;
  }
  return batch;
}

// The first mutation of its record in this push. One waiting for the associate holds back
// every later one of its record; one made on top of our own creation waits until the
// creation is applied (and gives it its version).
function mayLead(row) {
  return row.state === "pending" && (row.creates || row.base_version != null);
}

// A later mutation of a record already in this push: only an edit of other fields.
function mayJoin(row, fieldsSent) {
  return row.state === "pending" && fieldsSent !== null && row.op === "upsert" && !row.creates
    && Object.keys(row.fields).every((name) => !fieldsSent.has(name));
}

// -- what the server answered ----------------------------------------------------------

// Each answer is matched to its mutation by mutation_id (never by position); a mutation
// without a known answer stays pending. Resolves with how many were answered, and how
// many of those the server asks to send again (`retry`: written concurrently).
export function settle(local, batch, results) {
  const answers = new Map((Array.isArray(results) ? results : [])
    .filter((result) => result && result.mutation_id).map((r) => [String(r.mutation_id), r]));
  const strays = [...answers.keys()].filter((id) => !batch.some(({ row }) => row.mutation_id === id));
  if (strays.length) console.warn("The server answered for mutations not sent:", strays);
  return local.write(async (tx, changes) => {
    const outbox = tx.objectStore("outbox");
    const touched = new Map();
    const counts = { settled: 0, retry: 0 };
    for (const { row: sent } of batch) {
      const result = answers.get(sent.mutation_id);
      const row = await idb.req(outbox.index("mutation_id").get(sent.mutation_id));
      if (!row || !result || !SETTLING.has(result.status)) continue;
      if (result.status === "applied" || result.status === "duplicate") {
        // Unchanged: the version is not one this mutation made (see followOn).
        await applied(local, tx, changes, row, result.unchanged ? null : result.version);
      } else if (result.status === "conflict") {
        await conflict(local, tx, changes, row, result);
      } else if (result.retry) {
        counts.retry += 1;  // stays pending: sent again after a pull, never shown
      } else {
        await idb.req(outbox.put({ ...row, state: "attention", errors: result.errors || {} }));
      }
      touched.set(`${row.entity}/${row.record_id}`, row);
      counts.settled += 1;
    }
    for (const row of touched.values()) {
      await local.refreshView(tx, changes, row.entity, row.record_id);
    }
    return counts;
  });
}

// A mutation the server refuses to take even alone (413): it can never go as it is.
export function tooLarge(local, item) {
  return local.write(async (tx) => {
    const outbox = tx.objectStore("outbox");
    const row = await idb.req(outbox.index("mutation_id").get(item.row.mutation_id));
    const errors = { _size: ["Too big for the server to accept: it cannot be sent. "
      + "Copy what you need, then discard it."] };
    if (row) await idb.req(outbox.put({ ...row, state: "attention", errors }));
  });
}

async function applied(local, tx, changes, row, version) {
  await idb.req(tx.objectStore("outbox").delete(row.seq));
  await followOn(local, tx, row, version);
  const cached = await local.cached(tx, row.entity, row.record_id);
  const known = cached ? cached.version : null;
  if (row.op === "delete") {
    await local.putServerCopy(tx, changes, row.entity, row.record_id, known, null);
  } else if (version != null && (known == null || version > known)) {
    // On the server, not yet in our copy: laid on the copy until the pull brings the
    // server's own. Applied on our copy's version at the very next one, or as a creation
    // (a copy with no version), the copy is the server's at that version, as far as the
    // tablet edits it; else it keeps the version it had (what it shows beyond is ours,
    // not all of the server's).
    const exact = known == null
      || ((known ?? null) === (row.base_version ?? null) && version === known + 1);
    const server = overlay.apply(cached ? cached.server : null, asMutation(row));
    await local.putServerCopy(tx, changes, row.entity, row.record_id, exact ? version : known,
      server, { awaiting_pull: true });
  }
}

// The later mutations of the record captured on the view this one was part of now stand
// on the version it was applied at: those made on our unsent creation, and, when nobody
// else wrote in between (applied at exactly the next version), those captured on the
// same base.
async function followOn(local, tx, row, version) {
  if (version == null) return;
  const exact = row.base_version != null && version === row.base_version + 1;
  for (const later of await local.outboxFor(tx, row.entity, row.record_id)) {
    if (later.seq < row.seq || later.creates) continue;
    if (later.base_version == null || (exact && later.base_version === row.base_version)) {
      await idb.req(tx.objectStore("outbox").put({ ...later, base_version: version }));
    }
  }
}

// Decided without asking (client/outbox.py): the server no longer has the record → a
// note another associate deleted waits for this one (theirs: let it go; mine: it comes
// back as a new note), anything else goes with every later edit of it (never bring back
// an erased customer); a request the server closed →
// its status gives way, the other fields are sent again; every field in conflict holds
// on the server what the associate saw (their own earlier edit, already in the view) →
// nobody else's value is replaced, so it is sent again on the server's version.
async function conflict(local, tx, changes, row, result) {
  const theirs = result.record || null;
  const conflicts = result.conflicts || [];
  if (!theirs && await restorable(local, tx, row)) {
    await idb.req(tx.objectStore("outbox").put({ ...row, state: "conflict", conflicts: [],
                                                 theirs: null }));
  } else if (!theirs) {
    await letGo(local, tx, changes, row);
  } else if (row.entity === "request" && conflicts.includes("status")
             && CLOSED.has(theirs.status)) {
    await sendAgain(tx, row, without(row.fields, ["status"]), theirs.version);
  } else if (conflicts.length && sawTheirs(row, theirs, conflicts)) {
    await sendAgain(tx, row, row.fields, theirs.version);
  } else {
    await idb.req(tx.objectStore("outbox").put({ ...row, state: "conflict", conflicts, theirs }));
  }
}

// An edited note deleted on the server, whose customer this tablet still holds (an erased
// customer is gone from the tablet too).
async function restorable(local, tx, row) {
  if (row.entity !== "note" || row.op !== "upsert" || row.creates) return false;
  const note = await local.cached(tx, "note", row.record_id);
  if (!note || !note.body) return false;
  const customer = await local.cached(tx, "customer", String(note.body.customer_id));
  return Boolean(customer && customer.body);
}

// The record is gone from the server: so are our edits of it (a delete of ours still
// goes, and is answered as done).
async function letGo(local, tx, changes, row) {
  for (const other of await local.outboxFor(tx, row.entity, row.record_id)) {
    if (other.op !== "delete") await idb.req(tx.objectStore("outbox").delete(other.seq));
  }
  const cached = await local.cached(tx, row.entity, row.record_id);
  await local.putServerCopy(tx, changes, row.entity, row.record_id,
    cached ? cached.version : null, null);
}

// A pull says this record was erased: every mutation of it goes, unasked, and for a
// customer every mutation of their requests, notes and consent too (an erasure is never
// undone, and the tablet keeps nothing of what it cleared).
export async function forgetErased(local, tx, changes, entity, recordId) {
  const doomed = new Map([[`${entity}/${recordId}`, [entity, recordId]]]);
  if (entity === "customer") {
    for (const row of await idb.all(tx, "outbox")) {
      const cached = await local.cached(tx, row.entity, row.record_id);
      const owner = [row.fields.customer_id, cached && cached.body && cached.body.customer_id];
      if (owner.map(String).includes(String(recordId))) {
        doomed.set(`${row.entity}/${row.record_id}`, [row.entity, row.record_id]);
      }
    }
  }
  for (const [doomedEntity, doomedId] of doomed.values()) {
    for (const row of await local.outboxFor(tx, doomedEntity, doomedId)) {
      await idb.req(tx.objectStore("outbox").delete(row.seq));
    }
    await local.refreshView(tx, changes, doomedEntity, doomedId);
  }
}

function sawTheirs(row, theirs, conflicts) {
  const seen = row.seen || {};
  return conflicts.every((name) => {
    const shown = row.op === "delete" ? name : overlay.fieldName(row.entity, name);
    return Object.hasOwn(seen, name) && same(seen[name], theirs[shown]);
  });
}

function same(a, b) { return JSON.stringify(a ?? null) === JSON.stringify(b ?? null); }

export function without(fields, names) {
  const dropped = new Set(names.flatMap((name) => [name, ...(GOES_WITH[name] || [])]));
  return Object.fromEntries(Object.entries(fields).filter(([name]) => !dropped.has(name)));
}

// The rest of a mutation as a new one (new content, new id), in the same place. An edit
// left with no fields is done with; a delete always goes again.
async function sendAgain(tx, row, fields, baseVersion, seen = row.seen) {
  const outbox = tx.objectStore("outbox");
  if (!Object.keys(fields).length && row.op === "upsert") {
    await idb.req(outbox.delete(row.seq));
    return null;
  }
  const mutationId = crypto.randomUUID();
  await idb.req(outbox.put({ ...row, mutation_id: mutationId, fields, state: "pending",
    base_version: baseVersion ?? null, seen: seen ?? null, errors: null, conflicts: null,
    theirs: null }));
  return mutationId;
}

// -- what the associate decides ----------------------------------------------------------

async function waiting(tx, mutationId, state) {
  const row = await idb.req(tx.objectStore("outbox").index("mutation_id").get(mutationId));
  if (!row || (state && row.state !== state) || (!state && row.state === "pending")) {
    throw new Error(`No mutation ${mutationId} waiting for you.`);
  }
  return row;
}

// A refused mutation sent again with the associate's fixes (a delete is still a delete).
export function requeue(local, mutationId, fixes = {}) {
  return local.write(async (tx, changes) => {
    const row = await waiting(tx, mutationId, "attention");
    const newId = await sendAgain(tx, row, { ...row.fields, ...fixes }, row.base_version);
    await local.refreshView(tx, changes, row.entity, row.record_id);
    return newId;
  });
}

// Giving up the creation of a record gives up the record, and so its later edits.
export function discard(local, mutationId) {
  return local.write(async (tx, changes) => {
    const row = await waiting(tx, mutationId, null);
    const doomed = row.creates ? await local.outboxFor(tx, row.entity, row.record_id) : [row];
    for (const other of doomed) await idb.req(tx.objectStore("outbox").delete(other.seq));
    await local.refreshView(tx, changes, row.entity, row.record_id);
  });
}

export const KEEP = ["mine", "theirs", "merge"];

// Settle a conflict, now that the associate has seen their version:
// - "mine": the mutation as it was (an edit, a status step, a delete), sent again on
//   their version;
// - "theirs": the fields both sides changed are dropped and what the associate changed
//   alone is sent again (never lost); a delete is given up and the record stays;
// - "merge": `values` for the fields in conflict (what the associate settled on, from
//   either side or new) with what they changed alone. A delete has nothing to merge.
// Resolves with the new mutation id, if anything is sent again. A choice that cannot
// be made throws, and the conflict stays as it was.
export function resolve(local, mutationId, keep, values = null) {
  if (!KEEP.includes(keep)) return Promise.reject(new Error(`Keep one of: ${KEEP.join(", ")}.`));
  return local.write(async (tx, changes) => {
    const row = await waiting(tx, mutationId, "conflict");
    if (!row.theirs) return deletedMeanwhile(local, tx, changes, row, keep);
    const theirs = row.theirs;
    const conflicts = row.conflicts || [];
    const fields = resolved(row, keep, conflicts, values);
    const seen = seenOf(row.entity, row.op, fields || {}, theirs);
    let newId = null;
    if (fields) newId = await sendAgain(tx, row, fields, theirs.version, seen);
    else await idb.req(tx.objectStore("outbox").delete(row.seq));
    if (keep !== "mine") await showTheirs(local, tx, changes, row, theirs);
    await local.refreshView(tx, changes, row.entity, row.record_id);
    return newId;
  });
}

// What a note is created from, when the associate keeps their edit of one deleted meanwhile.
const NOTE_CREATED_FROM = ["customer_id", "request_id", "body"];

// Their side is a delete: let the note go, or bring it back as the associate has it, as a
// new note (a new id: a tablet still holding an edit of the deleted one is told too,
// rather than writing over this one unseen). Later edits of it follow.
async function deletedMeanwhile(local, tx, changes, row, keep) {
  if (keep === "merge") {
    throw new Error("The note was deleted meanwhile: nothing to merge with. Keep yours "
      + "(the note comes back) or theirs (it stays deleted).");
  }
  if (keep === "theirs") { await letGo(local, tx, changes, row); return null; }
  const cached = await local.cached(tx, row.entity, row.record_id);
  const shown = (cached && cached.body) || {};
  // What it held at this edit (later queued edits follow it), not the latest view.
  const fields = { ...Object.fromEntries(NOTE_CREATED_FROM.filter((name) => shown[name] != null)
    .map((name) => [name, shown[name]])), ...row.fields };
  const [mutationId, recordId] = [crypto.randomUUID(), crypto.randomUUID()];
  const outbox = tx.objectStore("outbox");
  for (const later of await local.outboxFor(tx, row.entity, row.record_id)) {
    if (later.seq > row.seq) {
      await idb.req(outbox.put({ ...later, record_id: recordId, base_version: null }));
    }
  }
  await idb.req(outbox.put({ ...row, mutation_id: mutationId, record_id: recordId, fields,
    creates: true, base_version: null, seen: null, state: "pending", conflicts: null,
    theirs: null }));
  await letGo(local, tx, changes, row);
  await local.refreshView(tx, changes, row.entity, recordId);
  return mutationId;
}

// The fields to send again; null: nothing (a delete given up).
function resolved(row, keep, conflicts, values) {
  if (keep === "mine") return row.fields;
  if (row.op === "delete") {
    if (keep === "merge") throw new Error("A delete has nothing to merge: keep yours or theirs.");
    return null;
  }
  if (keep === "theirs") return without(row.fields, conflicts);
  const chosen = values || {};
  const unknown = Object.keys(chosen).filter((name) => !conflicts.includes(name));
  if (unknown.length || !Object.keys(chosen).length) {
    throw new Error(`A merge gives values for the fields in conflict only (${conflicts.join(", ")}).`);
  }
  return { ...without(row.fields, conflicts), ...chosen };
}

// Their values in the server's copy until the next pull brings the whole record.
async function showTheirs(local, tx, changes, row, theirs) {
  const cached = await local.cached(tx, row.entity, row.record_id);
  if (!cached || !cached.server || (cached.version || 0) >= theirs.version) return;
  const server = { ...cached.server };
  for (const name of row.conflicts || []) if (name in theirs) server[name] = theirs[name];
  await local.putServerCopy(tx, changes, row.entity, row.record_id, cached.version, server);
}

// The outbox in capture order; only the rows in `state`, if given.
export function rows(local, state) {
  return local.read((tx) => idb.all(tx, "outbox")).then(
    (all) => all.filter((row) => !state || row.state === state));
}
