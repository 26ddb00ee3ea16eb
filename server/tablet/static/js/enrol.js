// Enrolling this tablet: the server and its device key, typed or from the QR code
// (`flask tablet enrol` encodes <server>/tablet/#enrol=<key>). The key is taken out of
// the address bar at once, and kept only in this browser's IndexedDB.

import * as idb from "./db.js";
import { Api, ApiError } from "./api.js";

export function keyFromFragment() {
  const match = /(?:^#|&)enrol=([^&]+)/.exec(window.location.hash);
  if (!match) return null;
  history.replaceState(null, "", window.location.pathname + window.location.search);
  return decodeURIComponent(match[1]);
}

export async function enrolled(local) {
  const state = await local.read((tx) => Promise.all(
    ["server", "key", "device_id", "store", "associate"].map((k) => idb.getState(tx, k))));
  const [server, key, deviceId, store, associate] = state;
  return key && deviceId ? { server, key, deviceId, store, associate } : null;
}

// Ask the server who this key is; only a tablet key (bound to a store and device) enrols.
// Enrolling again (the key was revoked, or replaced) keeps the outbox: its mutations are
// idempotent by mutation_id, so the new key sends them as the old one would have. A key
// of another store may not take them over; with nothing waiting, the tablet moves to
// that store (the next pull is a snapshot, which forgets the old store's records).
export async function enrol(local, server, key, associate) {
  const url = new URL(server || window.location.origin);
  if (!["http:", "https:"].includes(url.protocol)) throw new Error("The server is an http(s) address.");
  const api = new Api(url.origin, key.trim());
  let me;
  try {
    me = await api.me();
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) throw new Error("The server does not know this key (mistyped or revoked?).");
    throw error;
  }
  if (me.scope !== "tablet" || !me.device_id || !me.store) throw new Error("This is not a tablet key.");
  const [known, waiting] = await local.read(async (tx) => [
    await idb.getState(tx, "store"), (await idb.all(tx, "outbox")).length]);
  const moving = Boolean(known) && known.id !== me.store.id;
  if (moving && waiting) {
    throw new Error(`This tablet holds ${waiting} capture(s) of ${known.name} not sent yet: `
      + `enrol it with a key of ${known.name}, so they reach their store.`);
  }
  await local.write(async (tx) => {
    if (moving) await forgetStore(tx);
    for (const [name, value] of Object.entries({ server: url.origin, key: api.key, device_id: me.device_id,
      store: me.store, country: me.store.country, associate: associate || null })) {
      await idb.setState(tx, name, value);
    }
  });
  local.index.region = me.store.country;
  local.index.build(local.list("customer"));
  return api;
}

async function forgetStore(tx) {
  const records = tx.objectStore("records");
  for (const row of await idb.all(tx, "records")) await idb.req(records.put({ ...row, stale: true }));
  await idb.req(tx.objectStore("options").clear());
  for (const [name, value] of [["cursor", null], ["etag", null], ["last_sync", null], ["snapshot", true]]) {
    await idb.setState(tx, name, value);
  }
}

export async function lexicon(local, api) {
  try {
    const fresh = await api.lexicon();
    await local.write((tx) => idb.setState(tx, "lexicon", fresh));
    return fresh;
  } catch (_) {
    return local.read((tx) => idb.getState(tx, "lexicon"));  // offline: the last one fetched
  }
}
