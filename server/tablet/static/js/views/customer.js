// One customer: details, requests, notes, consent given, and how they may be contacted.

import { h, fullName, when } from "../dom.js";
import { requestRow } from "./requests_list.js";
import { contactOptions } from "./options.js";

// The latest answer per purpose and channel, in the order the server received them
// (events not sent yet come last, in capture order).
export function consentState(app, customerId) {
  const events = app.local.list("consent").filter((e) => e.customer_id === customerId)
    .sort((a, b) => (a.received_at || "~").localeCompare(b.received_at || "~"));
  const state = new Map();
  for (const event of events) state.set(`${event.purpose} by ${event.channel}`, event);
  return [...state.entries()];
}

async function deleteNote(app, note) {
  if (!window.confirm(`Delete the note "${note.body}"?`)) return;
  await app.capture.deleteNote(note.id);
  app.engine.sync();
}

function notesOf(app, id) {
  return app.local.list("note").filter((n) => n.customer_id === id).map((note) =>
    h("li", { class: note.sensitive ? "note sensitive" : "note", "data-note": note.id }, note.body,
      note.sensitive ? h("small", {}, ` (flagged: ${(note.sensitive_categories || []).join(", ")})`) : null,
      " ", h("button", { class: "small quiet", onclick: () => deleteNote(app, note) }, "Delete note")));
}

export function render(app, id) {
  const customer = app.local.get("customer", id);
  if (!customer) return h("p", { class: "card" }, "This customer is not on this tablet.");
  const requests = app.local.list("request").filter((r) => r.customer_id === id)
    .sort((a, b) => (b.created_at || "~").localeCompare(a.created_at || "~"));
  const consents = consentState(app, id);
  return h("section", { class: "customer", "data-customer": id },
    h("div", { class: "card" },
      h("h1", {}, fullName(customer)),
      h("p", {}, [customer.email, customer.phone].filter(Boolean).join(" · ") || "No contact details"),
      h("div", { class: "actions" },
        h("a", { class: "button primary", href: `#/customer/${id}/request` }, "New request"),
        h("a", { class: "button", href: `#/customer/${id}/note` }, "Add note"),
        h("a", { class: "button", href: `#/customer/${id}/consent` }, "Record consent"),
        h("a", { class: "button", href: `#/customer/${id}/handover` }, "Hand the tablet to the customer"),
        h("a", { class: "button quiet", href: `#/customer/${id}/edit` }, "Edit"))),
    h("div", { class: "card" }, h("h2", {}, "Requests"),
      requests.length ? h("ul", { class: "requests" }, requests.map((r) => requestRow(app, r)))
        : h("p", {}, "No requests yet.")),
    h("div", { class: "card" }, h("h2", {}, "Consent"),
      consents.length ? h("ul", { class: "consents", "data-testid": "consents" }, consents.map(([slot, event]) =>
        h("li", {}, `${slot}: ${event.action}`, h("small", {}, ` (${event.method}, ${when(event.received_at || event.captured_at)})`))))
        : h("p", {}, "No answers recorded.")),
    h("div", { class: "card" }, h("h2", {}, "Notes"), h("ul", { class: "notes" }, notesOf(app, id))),
    contactOptions(app, id));
}
