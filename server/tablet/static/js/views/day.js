// The store's day: who to call today (the rule is in who_to_call.js), and the open
// requests by status.

import { h } from "../dom.js";
import { requestRow } from "./requests_list.js";
import { OPEN, storeToday, whoToCall } from "../who_to_call.js";

const SECTIONS = [
  ["due_today", "Due today", "Nothing is due today."],
  ["overdue", "Overdue", "Nothing is overdue."],
  ["ready", "Ready — tell the customer", "Nothing is ready."],
];

function storeRequests(app) {
  const store = app.identity.store;
  return app.local.list("request").filter((r) => !store || !r.store_id || r.store_id === store.id);
}

export function renderToday(app) {
  const store = app.identity.store;
  const calls = whoToCall(storeRequests(app), storeToday(store ? store.timezone : null));
  return h("section", { class: "card" }, h("h1", {}, "Who to call today"),
    SECTIONS.map(([name, title, none]) => h("div", { "data-testid": name },
      h("h2", {}, `${title} (${calls[name].length})`),
      calls[name].length
        ? h("ul", { class: "requests" }, calls[name].map((r) => requestRow(app, r, { withCustomer: true })))
        : h("p", {}, none))));
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
