// The tablet app's service worker: the app shell, cache first, so the app opens with
// no network once installed. The server writes the build id and the shell's file list
// in (server/tablet/routes.py): a new build is a new worker with a fresh cache.
// API calls are never cached here: the app keeps its data in IndexedDB.

const BUILD = "__BUILD__";
const SHELL = __SHELL__;
const CACHE = `blackbook-tablet-${BUILD}`;

self.addEventListener("install", (event) => {
  event.waitUntil(caches.open(CACHE).then((cache) => cache.addAll(SHELL)).then(() => self.skipWaiting()));
});

self.addEventListener("activate", (event) => {
  event.waitUntil(caches.keys().then((names) => Promise.all(names
    .filter((name) => name.startsWith("blackbook-tablet-") && name !== CACHE)
    .map((name) => caches.delete(name)))).then(() => self.clients.claim()));
});

function isShell(url) {
  const scope = new URL(self.registration.scope);
  return url.origin === scope.origin && url.pathname.startsWith(scope.pathname)
    && !url.pathname.endsWith("/lexicon.json");
}

self.addEventListener("fetch", (event) => {
  const request = event.request;
  const url = new URL(request.url);
  if (request.method !== "GET" || !isShell(url)) return;
  const key = request.mode === "navigate" ? new URL("./", self.registration.scope).href : request;
  event.respondWith(caches.open(CACHE).then(async (cache) => {
    const hit = await cache.match(key, { ignoreSearch: true });
    return hit || fetch(request);
  }));
});
