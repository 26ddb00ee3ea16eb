// How the customer may be contacted, and why: the server's contact policy answers
// (every channel, every reason). Asked when online; the last answer is kept for
// when the network is down, with its time.

import * as idb from "../db.js";
import { h, when } from "../dom.js";
import { describe } from "./requests_list.js";
import { currentNotices } from "./consent.js";

const FRESH_MS = 60000;
const memory = new Map();  // customer id -> {at, answers: [{label, answer}]}

// What to ask about: each open request (service updates go only on the channels chosen
// for it), and offers.
function questions(app, id) {
  const open = app.local.list("request").filter((r) => r.customer_id === id && r.version
    && ["open", "in_progress", "ready"].includes(r.status));
  const offers = new Map();
  for (const notice of currentNotices(app)) {
    for (const purpose of notice.purposes) offers.set(purpose, notice.title);
  }
  if (!offers.size) offers.set("marketing", "Offers and news");
  return [...open.map((r) => [`About their request: ${describe(r)}`, "service.request_update", r.id]),
    ...[...offers].map(([purpose, title]) => [`${title} (${purpose})`, purpose, null])];
}

// What the answer depends on, as far as the tablet knows: asked again when it changes
// (a consent answer or a request reached the server).
function signature(app, id) {
  const synced = ["consent", "request"].flatMap((entity) => app.local.list(entity)
    .filter((r) => r.customer_id === id).map((r) => `${r.id}:${r.version || 0}`)).sort();
  return JSON.stringify([questions(app, id), synced]);
}

async function fetchOptions(app, id) {
  const answers = [];
  for (const [label, purpose, requestId] of questions(app, id)) {
    answers.push({ label, answer: await app.api.contactOptions(id, purpose, requestId) });
  }
  const entry = { customer_id: id, at: new Date().toISOString(), answers,
                  asked: signature(app, id) };
  memory.set(id, entry);
  await idb.transaction(app.local.db, ["options"], "readwrite",
    (tx) => idb.req(tx.objectStore("options").put(entry)));
  return entry;
}

async function known(app, id) {
  if (memory.has(id)) return memory.get(id);
  const entry = await idb.transaction(app.local.db, ["options"], "readonly",
    (tx) => idb.req(tx.objectStore("options").get(id)));
  if (entry) memory.set(id, entry);
  return entry || null;
}

function channelRow(decision) {
  const reasons = decision.reasons.map((reason) => reason.message).join(" ");
  return h("li", { class: decision.allowed ? "allowed" : "blocked" },
    h("strong", {}, `${decision.channel}: ${decision.allowed ? "yes" : "no"}`), " ", h("small", {}, reasons));
}

function draw(box, entry, note) {
  if (!entry) { box.replaceChildren(h("p", {}, note || "Connect to the network to see them.")); return; }
  box.replaceChildren(
    h("p", {}, h("small", {}, `As of ${when(entry.at)}${note ? ` — ${note}` : ""}`)),
    ...entry.answers.map(({ label, answer }) => h("div", {},
      h("h3", {}, `${label}${answer.best ? ` — best: ${answer.best}` : " — none allowed"}`),
      h("ul", { class: "options" }, answer.channels.map(channelRow)))));
}

export function contactOptions(app, id) {
  const box = h("div", { "data-testid": "contact-options" }, h("p", {}, "Asking the server…"));
  (async () => {
    const cached = await known(app, id);
    const pending = app.local.get("customer", id) && !app.local.get("customer", id).version;
    if (pending) return draw(box, cached, "not on the server yet: sync first");
    const same = cached && cached.asked === signature(app, id);
    if (same && Date.now() - Date.parse(cached.at) < FRESH_MS) return draw(box, cached);
    try { draw(box, await fetchOptions(app, id)); } catch (_) { draw(box, cached, "offline"); }
    return null;
  })();
  return h("div", { class: "card" }, h("h2", {}, "Contact options"), box);
}
