// The outbox: every captured mutation, kept until the server has answered for it
// (the rules of client/outbox.py). A mutation leaves it only on `applied` or
// `duplicate`; `rejected` waits under "needs attention" with the server's errors;
// `conflict` waits with both versions. A record's mutations go in capture order; its
// next edit waits for the pull after the push that changed it.

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
      await idb.req(tx.objectStore("outbox").add({
        mutation_id: ids[i], entity, op, record_id: recordId, fields,
        captured_at: capturedAt, captured_by: capturedBy || null, creates,
        state: "pending", base_version: null, errors: null, conflicts: null, theirs: null,
      }));
      await local.refreshView(tx, changes, entity, recordId);
    }
  });
  return ids;
}

export function wire(item) {
  const { row, base } = item;
  return { mutation_id: row.mutation_id, entity: row.entity, op: row.op, id: row.record_id,
           base_version: base, fields: row.fields, captured_at: row.captured_at,
           captured_by: row.captured_by };
}

// -- what to send next -----------------------------------------------------------------

export async function nextBatch(local, limit, maxBytes = Infinity) {
  const [rows, records] = await local.read(async (tx) => {
    const outbox = await idb.all(tx, "outbox");
    const cached = new Map();
    for (const row of outbox) {
      const key = `${row.entity}/${row.record_id}`;
      if (!cached.has(key)) cached.set(key, await local.cached(tx, row.entity, row.record_id));
    }
    return [outbox, cached];
  });
  return choose(rows, records, limit, maxBytes);
}

const encoder = new TextEncoder();
export function bytes(item) { return encoder.encode(JSON.stringify(wire(item))).length + 1; }

// At most `limit` mutations and `maxBytes` of them; one alone may be bigger (it goes
// alone, and if the server refuses its size it waits under "needs attention").
function choose(rows, records, limit, maxBytes) {
  const held = new Set();
  const sent = new Map();  // record -> fields sent in this batch; null: nothing more may join
  const batch = [];
  let size = 0;
  for (const row of rows) {
    const key = `${row.entity}/${row.record_id}`;
    if (held.has(key)) continue;
    const cached = records.get(key);
    const mayGo = sent.has(key) ? mayJoin(row, sent.get(key))
      : mayLead(row, cached ? cached.version : null, cached ? cached.awaiting_pull : false);
    if (!mayGo) { held.add(key); continue; }
    const base = row.creates ? null : (row.base_version ?? (cached ? cached.version : null));
    size += bytes({ row, base });
    if (batch.length && size > maxBytes) break;
    batch.push({ row, base });
    const ends = row.creates || row.op !== "upsert";
    sent.set(key, ends ? null : new Set([...(sent.get(key) || []), ...Object.keys(row.fields)]));
    if (batch.length === limit) break;
  }
  return batch;
}

function mayLead(row, cachedVersion, awaitingPull) {
  if (row.state !== "pending") return false;
  if (row.creates || row.base_version !== null) return true;
  return cachedVersion !== null && cachedVersion !== undefined && !awaitingPull;
}

function mayJoin(row, fieldsSent) {
  return row.state === "pending" && fieldsSent !== null && row.op === "upsert" && !row.creates
    && Object.keys(row.fields).every((name) => !fieldsSent.has(name));
}

// -- what the server answered ----------------------------------------------------------

// Each answer is matched to its mutation by mutation_id (never by position); a mutation
// without a known answer stays pending. Resolves with how many were settled.
export function settle(local, batch, results) {
  const answers = new Map((Array.isArray(results) ? results : [])
    .filter((result) => result && result.mutation_id).map((r) => [String(r.mutation_id), r]));
  const strays = [...answers.keys()].filter((id) => !batch.some(({ row }) => row.mutation_id === id));
  if (strays.length) console.warn("The server answered for mutations not sent:", strays);
  return local.write(async (tx, changes) => {
    const outbox = tx.objectStore("outbox");
    const touched = new Map();
    let settled = 0;
    for (const { row: sent } of batch) {
      const result = answers.get(sent.mutation_id);
      const row = await idb.req(outbox.index("mutation_id").get(sent.mutation_id));
      if (!row || !result || !SETTLING.has(result.status)) continue;
      if (result.status === "applied" || result.status === "duplicate") {
        await applied(local, tx, changes, row, result.version);
      } else if (result.status === "conflict") {
        await conflict(local, tx, changes, row, result);
      } else {
        await idb.req(outbox.put({ ...row, state: "attention", errors: result.errors || {} }));
      }
      touched.set(`${row.entity}/${row.record_id}`, row);
      settled += 1;
    }
    for (const row of touched.values()) {
      await local.refreshView(tx, changes, row.entity, row.record_id);
    }
    return settled;
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
  const cached = await local.cached(tx, row.entity, row.record_id);
  const known = cached ? cached.version : null;
  if (row.op === "delete") {
    await local.putServerCopy(tx, changes, row.entity, row.record_id, known, null);
  } else if (version != null && (known == null || version > known)) {
    const server = overlay.apply(cached ? cached.server : null, asMutation(row));
    await local.putServerCopy(tx, changes, row.entity, row.record_id, known, server,
      { awaiting_pull: true });
  }
}

// Decided without asking (client/outbox.py): the server no longer has the record →
// drop its edits (never bring back an erased customer); a request the server closed →
// its status gives way, the other fields are sent again.
async function conflict(local, tx, changes, row, result) {
  const theirs = result.record || null;
  const conflicts = result.conflicts || [];
  if (!theirs) {
    for (const other of await local.outboxFor(tx, row.entity, row.record_id)) {
      await idb.req(tx.objectStore("outbox").delete(other.seq));
    }
    await local.putServerCopy(tx, changes, row.entity, row.record_id, result.version ?? null,
      null);
  } else if (row.entity === "request" && conflicts.includes("status")
             && CLOSED.has(theirs.status)) {
    await sendAgain(tx, row, without(row.fields, ["status"]), theirs.version);
  } else {
    await idb.req(tx.objectStore("outbox").put({ ...row, state: "conflict", conflicts, theirs }));
  }
}

export function without(fields, names) {
  const dropped = new Set(names.flatMap((name) => [name, ...(GOES_WITH[name] || [])]));
  return Object.fromEntries(Object.entries(fields).filter(([name]) => !dropped.has(name)));
}

// The rest of a mutation as a new one (new content, new id), in the same place.
async function sendAgain(tx, row, fields, baseVersion) {
  const outbox = tx.objectStore("outbox");
  if (!Object.keys(fields).length) { await idb.req(outbox.delete(row.seq)); return null; }
  const mutationId = crypto.randomUUID();
  await idb.req(outbox.put({ ...row, mutation_id: mutationId, fields, state: "pending",
    base_version: baseVersion ?? null, errors: null, conflicts: null, theirs: null }));
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

// Keep "mine" (sent again over their version) or "theirs" (only the fields both
// sides changed are dropped: what the associate changed alone is sent again).
export function resolve(local, mutationId, keep) {
  return local.write(async (tx, changes) => {
    const row = await waiting(tx, mutationId, "conflict");
    const theirs = row.theirs || {};
    const fields = keep === "mine" ? row.fields : without(row.fields, row.conflicts || []);
    const newId = await sendAgain(tx, row, fields, theirs.version);
    if (keep === "theirs") await showTheirs(local, tx, changes, row, theirs);
    await local.refreshView(tx, changes, row.entity, row.record_id);
    return newId;
  });
}

async function showTheirs(local, tx, changes, row, theirs) {
  const cached = await local.cached(tx, row.entity, row.record_id);
  if (!cached || !cached.server || (cached.version || 0) >= theirs.version) return;
  const server = { ...cached.server };
  for (const name of row.conflicts || []) if (name in theirs) server[name] = theirs[name];
  await local.putServerCopy(tx, changes, row.entity, row.record_id, cached.version, server);
}

export function rows(local, state) {
  return local.read((tx) => idb.all(tx, "outbox")).then(
    (all) => all.filter((row) => !state || row.state === state));
}
