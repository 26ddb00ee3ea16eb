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
  if (me.scope !== "tablet" || !me.device_id) throw new Error("This is not a tablet key.");
  const known = await local.read((tx) => idb.getState(tx, "device_id"));
  if (known && known !== me.device_id) throw new Error("This tablet holds another device's captures: sync them, then reset it first.");
  await local.write(async (tx) => {
    for (const [name, value] of Object.entries({ server: url.origin, key: api.key, device_id: me.device_id,
      store: me.store, country: me.store ? me.store.country : null, associate: associate || null })) {
      await idb.setState(tx, name, value);
    }
  });
  local.index.region = me.store ? me.store.country : null;
  local.index.build(local.list("customer"));
  return api;
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
