// The store's day: who to call today, and the open requests by status.

import { h } from "../dom.js";
import { OPEN, requestRow } from "./requests_list.js";

function today() {
  const now = new Date();
  return new Date(now.getTime() - now.getTimezoneOffset() * 60000).toISOString().slice(0, 10);
}

function storeRequests(app) {
  const store = app.identity.store;
  return app.local.list("request").filter((r) => !store || !r.store_id || r.store_id === store.id);
}

// Ready to be collected (tell them), or due by today and not ready yet (tell them
// where it stands) — oldest due first.
export function whoToCall(app) {
  const day = today();
  return storeRequests(app).filter((r) => r.status === "ready"
    || (OPEN.includes(r.status) && r.due_date && r.due_date <= day))
    .sort((a, b) => (a.due_date || "9999").localeCompare(b.due_date || "9999"));
}

export function renderToday(app) {
  const calls = whoToCall(app);
  return h("section", { class: "card" }, h("h1", {}, "Who to call today"),
    calls.length ? h("ul", { class: "requests", "data-testid": "calls" }, calls.map((r) => requestRow(app, r, { withCustomer: true })))
      : h("p", {}, "Nobody to call today."));
}

export function renderRequests(app) {
  const open = storeRequests(app);
  return h("section", {}, OPEN.map((status) => {
    const these = open.filter((r) => r.status === status)
      .sort((a, b) => (a.due_date || "9999").localeCompare(b.due_date || "9999"));
    return h("div", { class: "card", "data-status": status },
      h("h2", {}, `${status.replace("_", " ")} (${these.length})`),
      h("ul", { class: "requests" }, these.map((r) => requestRow(app, r, { withCustomer: true }))));
  }));
}
