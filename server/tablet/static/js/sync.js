// The sync engine (client/sync.py): push what may go (several pushes: a record's next
// edit of a field goes once the previous one is answered, see outbox.js), then pull, in
// rounds, until both sides agree. Each step commits its outcome before the next begins,
// so closing the tab half-way loses nothing: an unanswered push is sent again (the
// server answers `duplicate`), an unstored page is pulled again.

import * as idb from "./db.js";
import { Offline, ApiError } from "./api.js";
import * as outbox from "./outbox.js";

// SYNC.md: at most 1,000 mutations and 5 MiB per push (413 beyond). A batch stays
// under both, leaving room for the envelope; a server configured smaller answers 413
// and the batch is halved until it fits.
const BATCH = 500;
const BODY_BYTES = 5 * 1024 * 1024 - 4096;
const PAGE = 1000;
const MAX_ROUNDS = 20;
const EVERY_MS = 30000;
const RETRY_MS = 2000;
export const REVOKED = "This tablet's key no longer works — enrol again.";

export class Unanswered extends Error {
  constructor() { super("The server did not answer for the changes sent: they will be sent again at the next sync."); }
}

export class SyncEngine {
  constructor(local, api) {
    this.local = local;
    this.api = api;
    this.status = { online: navigator.onLine, syncing: false, lastSync: null, error: null,
                    revoked: false };
    this.running = null;
    this.listeners = new Set();
  }

  async init() {
    this.status.lastSync = await this.local.read((tx) => idb.getState(tx, "last_sync"));
  }

  start() {
    window.addEventListener("online", () => this.sync());
    window.addEventListener("offline", () => this.report({ online: false }));
    this.timer = setInterval(() => this.sync(), EVERY_MS);
    return this.sync();
  }

  report(change) {
    Object.assign(this.status, change);
    for (const listener of this.listeners) listener(this.status);
  }

  // One sync at a time, across tabs too (a Web Lock), so two tabs never push at once.
  sync() {
    if (this.running) return this.running;
    const run = () => this.run();
    const locked = navigator.locks ? navigator.locks.request("blackbook-sync", run) : run();
    this.running = locked.finally(() => { this.running = null; });
    return this.running;
  }

  async run() {
    this.report({ syncing: true });
    try {
      await this.rounds();
      const now = new Date().toISOString();
      await this.local.write((tx) => idb.setState(tx, "last_sync", now));
      this.report({ online: true, lastSync: now, error: null, revoked: false });
    } catch (error) {
      const offline = error instanceof Offline;
      // 401: the key was revoked (or replaced). Captures stay in the outbox until the
      // tablet is enrolled again with a key of its store (enrol.js).
      const revoked = error instanceof ApiError && error.status === 401;
      this.report({ online: !offline, revoked,
                    error: revoked ? REVOKED : (offline ? null : error.message) });
      // The browser says it is online but the server was not reached (the network is
      // coming back, or the `online` event came early): try again soon, not in 30 s.
      if (offline && navigator.onLine) setTimeout(() => this.sync(), RETRY_MS);
      if (![Offline, ApiError, Unanswered].some((type) => error instanceof type)) throw error;
    } finally {
      this.report({ syncing: false });
    }
  }

  async rounds() {
    const deviceId = await this.local.read((tx) => idb.getState(tx, "device_id"));
    for (let round = 0; round < MAX_ROUNDS; round += 1) {
      const answered = await this.push(deviceId);
      await this.pull();
      if (!answered) throw new Unanswered();
      if (!(await outbox.nextBatch(this.local, 1)).length) return;
    }
  }

  // False when the server answered for none of a batch: sending it again now would
  // only get the same answer, so the mutations wait for the next sync.
  async push(deviceId) {
    let limit = BATCH;
    for (let i = 0; i < 1000; i += 1) {
      const batch = await outbox.nextBatch(this.local, limit, BODY_BYTES);
      if (!batch.length) return true;
      let results;
      try {
        results = await this.api.push(deviceId, batch.map(outbox.wire));
      } catch (error) {
        if (!(error instanceof ApiError && error.status === 413)) throw error;
        if (batch.length === 1) await outbox.tooLarge(this.local, batch[0]);
        limit = Math.max(1, Math.floor(batch.length / 2));
        continue;
      }
      const { settled, retry } = await outbox.settle(this.local, batch, results);
      if (!settled) return false;
      // Written concurrently on the server: sent again after the pull, not at once.
      if (retry) return true;
    }
    return true;
  }

  async pull() {
    let [cursor, etag, snapshot] = await this.local.read((tx) => Promise.all(
      ["cursor", "etag", "snapshot"].map((key) => idb.getState(tx, key))));
    if (!cursor && !snapshot) await this.beginSnapshot();
    let resynced = false;
    for (let pages = 0; pages < 100000; pages += 1) {
      let page;
      try {
        page = await this.api.pull(cursor, PAGE, etag);
      } catch (error) {
        if (!(error instanceof ApiError && error.status === 410) || resynced) throw error;
        await this.beginSnapshot();  // the outbox stays as it is
        [cursor, etag, resynced] = [null, null, true];
        continue;
      }
      if (page === null) { await this.local.write((tx, changes) => this.caughtUp(tx, changes)); return; }
      await this.applyPage(page);
      if (!page.has_more) return;
      [cursor, etag] = [page.next_cursor, null];  // only the first page can be "not modified"
    }
  }

  // Every cached record is stale until the snapshot brings it; what it never brings
  // has left the device's scope and is forgotten when the snapshot ends.
  beginSnapshot() {
    return this.local.write(async (tx) => {
      const records = tx.objectStore("records");
      for (const row of await idb.all(tx, "records")) await idb.req(records.put({ ...row, stale: true }));
      await idb.setState(tx, "cursor", null);
      await idb.setState(tx, "etag", null);
      await idb.setState(tx, "snapshot", true);
    });
  }

  applyPage(page) {
    return this.local.write(async (tx, changes) => {
      for (const change of page.changes) {
        const record = change.op === "delete" ? null : change.record;
        if (!record && change.reason === "erased") {
          await outbox.forgetErased(this.local, tx, changes, change.entity, change.id);
        }
        await this.local.putServerCopy(tx, changes, change.entity, change.id,
          change.version ?? null, record, { stale: false });
      }
      await idb.setState(tx, "cursor", page.next_cursor);
      await idb.setState(tx, "etag", page.etag || null);
      if (!page.has_more) await this.caughtUp(tx, changes);
    });
  }

  async caughtUp(tx, changes) {
    const snapshot = await idb.getState(tx, "snapshot");
    const records = tx.objectStore("records");
    for (const row of await idb.all(tx, "records")) {
      if (snapshot && row.stale) {
        await this.local.putServerCopy(tx, changes, row.entity, row.id, row.version, null,
          { stale: false, awaiting_pull: false });
      } else if (row.awaiting_pull) {
        await idb.req(records.put({ ...row, awaiting_pull: false }));
      }
    }
    await idb.setState(tx, "snapshot", null);
  }
}
