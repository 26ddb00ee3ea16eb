// The tablet app: open the local copy, enrol if needed, start syncing, route screens.

import { Local } from "./local.js";
import { Api } from "./api.js";
import { SyncEngine } from "./sync.js";
import { Capture } from "./capture.js";
import { Scanner } from "./sensitive.js";
import { enrol, enrolled, keyFromFragment, lexicon } from "./enrol.js";
import { h, mount } from "./dom.js";
import { header } from "./views/header.js";
import { enrolScreen } from "./views/enrol_view.js";
import { ROUTES, route } from "./views/routes.js";

const app = { outdated: false, local: null, api: null, engine: null, capture: null, scanner: null, identity: null };
window.blackbook = app;  // for the browser tests and the lookup benchmark

function registerWorker() {
  if ("serviceWorker" in navigator) {
    navigator.serviceWorker.register("./sw.js", { scope: "./" }).catch(() => {});
  }
}

let rendering = null;
function render() {
  if (app.outdated) return;
  const main = document.getElementById("main");
  const [view, params] = route(window.location.hash);
  rendering = ROUTES[view];
  mount(main, rendering.render(app, ...params));
  main.dataset.view = view;
  // Handed to the customer: they see their choices, not the assistant's screens.
  document.body.classList.toggle("handover-mode", view === "handover");
  window.scrollTo(0, 0);
}

let pendingRefresh = null;
function refresh() {
  if (!rendering || !rendering.live || pendingRefresh) return;
  pendingRefresh = setTimeout(() => { pendingRefresh = null; if (rendering.live) render(); }, 50);
}

async function start(identity) {
  app.identity = identity;
  app.api = new Api(identity.server, identity.key);
  app.capture = new Capture(app.local, identity.associate);
  app.engine = new SyncEngine(app.local, app.api);
  await app.engine.init();
  mount(document.getElementById("top"), header(app));
  app.local.listeners.add(refresh);
  window.addEventListener("hashchange", render);
  render();
  lexicon(app.local, app.api).then((rules) => { if (rules) app.scanner = new Scanner(rules); });
  app.engine.start();
}

// The database was closed for a newer version of the app (db.js): nothing more can be
// saved on this page until it is reloaded.
function outdated() {
  app.outdated = true;
  if (app.engine) clearInterval(app.engine.timer);
  mount(document.getElementById("main"), h("section", { class: "card", role: "alert", "data-testid": "outdated" },
    h("h1", {}, "This app was updated"),
    h("p", {}, "A newer version is open in another tab. Reload this page to go on; what you saved is kept."),
    h("button", { class: "primary", onclick: () => window.location.reload() }, "Reload")));
}

async function main() {
  registerWorker();
  window.addEventListener("blackbook:outdated", outdated);
  app.local = await Local.open();
  const key = keyFromFragment();
  let identity = await enrolled(app.local);
  let problem = null;
  if (key) {
    try {
      await enrol(app.local, window.location.origin, key, identity ? identity.associate : null);
      identity = await enrolled(app.local);
    } catch (error) { problem = error.message; }
  }
  if (identity && !problem) return start(identity);
  mount(document.getElementById("main"), enrolScreen(app, problem, async (server, typed, associate) => {
    await enrol(app.local, server, typed, associate);
    await start(await enrolled(app.local));
  }));
  return null;
}

app.ready = main();
