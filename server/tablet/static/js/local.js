// The tablet's local copy, as the app reads it: the IndexedDB store, and in memory the
// records as shown (server copy + outbox) with the customer lookup index. Memory
// changes only after the IndexedDB transaction that made them has committed.

import * as idb from "./db.js";
import * as overlay from "./overlay.js";
import { CustomerIndex } from "./lookup.js";

const STORES = ["records", "outbox", "state", "options"];

export class Local {
  constructor(db) {
    this.db = db;
    this.shown = new Map();          // entity -> Map(id -> record as shown)
    this.index = new CustomerIndex();
    this.counts = { pending: 0, attention: 0, conflict: 0 };
    this.listeners = new Set();
  }

  static async open(name) {
    const local = new Local(await idb.open(name));
    await local.load();
    return local;
  }

  async load() {
    const [records, region] = await this.read(async (tx) => [
      await idb.all(tx, "records"), await idb.getState(tx, "country")]);
    this.shown.clear();
    for (const row of records) if (row.body) this.entity(row.entity).set(row.id, row.body);
    this.index.region = region;
    this.index.build(this.entity("customer").values());
    await this.recount();
  }

  entity(name) {
    if (!this.shown.has(name)) this.shown.set(name, new Map());
    return this.shown.get(name);
  }

  get(entity, id) { return this.entity(entity).get(id) || null; }
  list(entity) { return [...this.entity(entity).values()]; }

  read(work) { return idb.transaction(this.db, STORES, "readonly", work); }

  // A read-write unit of work. `work(tx, changes)` records the views it changed in
  // `changes`; they reach memory (and the screen) once the transaction committed.
  async write(work) {
    const changes = new Map();
    const result = await idb.transaction(this.db, STORES, "readwrite",
      (tx) => work(tx, changes));
    for (const [key, body] of changes) {
      const [entity, id] = JSON.parse(key);
      this.show(entity, id, body);
    }
    await this.recount();
    return result;
  }

  show(entity, id, body) {
    const before = this.get(entity, id);
    if (body) this.entity(entity).set(id, body); else this.entity(entity).delete(id);
    if (entity === "customer") this.index.update(id, before, body);
  }

  async recount() {
    const rows = await this.read((tx) => idb.all(tx, "outbox"));
    const counts = { pending: 0, attention: 0, conflict: 0 };
    for (const row of rows) counts[row.state] += 1;
    this.counts = counts;
    this.changed();
  }

  changed() { for (const listener of this.listeners) listener(); }

  // -- inside a transaction ---------------------------------------------------------

  cached(tx, entity, id) { return idb.req(tx.objectStore("records").get([entity, id])); }

  outboxFor(tx, entity, id) {
    return idb.all(tx, "outbox", "record", [entity, id]);
  }

  // Store the server's copy and recompute the view over the outbox; flags not given
  // stay as they were. A record neither side holds any more is forgotten.
  async putServerCopy(tx, changes, entity, id, version, server, flags = {}) {
    const before = await this.cached(tx, entity, id);
    const pending = (await this.outboxFor(tx, entity, id)).map(asMutation);
    const body = overlay.view(server, before ? before.body : null, pending);
    const records = tx.objectStore("records");
    if (!server && !body && !pending.length) {
      await idb.req(records.delete([entity, id]));
    } else {
      await idb.req(records.put({
        entity, id, version, server, body,
        awaiting_pull: flags.awaiting_pull ?? (before ? before.awaiting_pull : false),
        stale: flags.stale ?? (before ? before.stale : false),
      }));
    }
    changes.set(JSON.stringify([entity, id]), body);
  }

  async refreshView(tx, changes, entity, id) {
    const cached = await this.cached(tx, entity, id);
    await this.putServerCopy(tx, changes, entity, id, cached ? cached.version : null,
      cached ? cached.server : null);
  }
}

export function asMutation(row) {
  return { entity: row.entity, op: row.op, record_id: row.record_id, fields: row.fields,
           creates: row.creates };
}
