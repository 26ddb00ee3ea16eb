// The tablet's IndexedDB: cached records, the outbox, sync state. Every change that
// must stay consistent happens in one transaction (a pulled page and its cursor; a
// push's results and the outbox rows they settle; a capture and the view it changes),
// so closing the tab at any moment leaves the state before or after, never a mix.

const NAME = "blackbook-tablet";
const VERSION = 2;

function create(db) {
  const records = db.createObjectStore("records", { keyPath: ["entity", "id"] });
  records.createIndex("entity", "entity");
  const outbox = db.createObjectStore("outbox", { keyPath: "seq", autoIncrement: true });
  outbox.createIndex("record", ["entity", "record_id"]);
  outbox.createIndex("mutation_id", "mutation_id", { unique: true });
  db.createObjectStore("state", { keyPath: "key" });
  db.createObjectStore("options", { keyPath: "customer_id" });
}

// Version 1 took an edit's base from the cache when it was sent. Its queued edits keep
// that rule's best guess, taken now (nothing newer can be pulled under them from here on);
// they have no `seen`, so a conflict of theirs is always the associate's to settle.
function baseAtUpgrade(tx) {
  const records = tx.objectStore("records");
  tx.objectStore("outbox").openCursor().onsuccess = (event) => {
    const cursor = event.target.result;
    if (!cursor) return;
    const row = cursor.value;
    if (row.creates || row.base_version != null) { cursor.continue(); return; }
    records.get([row.entity, row.record_id]).onsuccess = (got) => {
      const cached = got.target.result;
      cursor.update({ ...row, base_version: cached ? (cached.version ?? null) : null,
                      seen: row.seen ?? null });
      cursor.continue();
    };
  };
}

function upgrade(db, tx, from) {
  if (from < 1) create(db);
  else if (from < 2) baseAtUpgrade(tx);
}

// A newer build (another tab, or the service worker's update) opening a higher VERSION
// waits until every open connection closes: this one closes at once, and the page is
// told ("blackbook:outdated") to ask for a reload instead of running on a closed database.
function closeForNewerVersion(db) {
  db.onversionchange = () => {
    db.close();
    window.dispatchEvent(new CustomEvent("blackbook:outdated"));
  };
  return db;
}

export function open(name = NAME) {
  return new Promise((resolve, reject) => {
    const request = indexedDB.open(name, VERSION);
    request.onupgradeneeded = (event) => upgrade(request.result, request.transaction, event.oldVersion);
    request.onsuccess = () => resolve(closeForNewerVersion(request.result));
    request.onerror = () => reject(request.error);
  });
}

export function req(request) {
  return new Promise((resolve, reject) => {
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}

// Runs `work(tx)` in one transaction; resolves with its result once committed.
export function transaction(db, stores, mode, work) {
  return new Promise((resolve, reject) => {
    const tx = db.transaction(stores, mode, { durability: "strict" });
    let result;
    tx.oncomplete = () => resolve(result);
    tx.onabort = () => reject(tx.error || new Error("transaction aborted"));
    Promise.resolve(work(tx)).then((value) => { result = value; },
      (error) => { try { tx.abort(); } catch (_) { /* already over */ } reject(error); });
  });
}

export async function getState(tx, key) {
  const row = await req(tx.objectStore("state").get(key));
  return row ? row.value : null;
}

export function setState(tx, key, value) {
  const store = tx.objectStore("state");
  return req(value === null || value === undefined ? store.delete(key) : store.put({ key, value }));
}

export function all(tx, storeName, index = null, query = undefined) {
  const store = tx.objectStore(storeName);
  return req((index ? store.index(index) : store).getAll(query));
}
