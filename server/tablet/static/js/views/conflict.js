// A conflict, in the shop's words: what the associate changed, what someone else changed
// meanwhile, and the choice (outbox.resolve): keep mine, keep theirs, or merge the two
// (an input per field in conflict, filled with theirs), or give the whole change up. A
// delete cannot be merged: the note goes, or stays as they left it. A note deleted while
// the associate edited it comes back with their text, or goes.

import { h, fullName } from "../dom.js";
import * as outbox from "../outbox.js";
import { fieldName } from "../overlay.js";
import { LABELS as STATUS } from "./requests_list.js";

const FIELDS = {
  customer: { given_name: "First name", family_name: "Last name", email: "Email", phone: "Phone",
              postal_address: "Address", preferences: "Preferences" },
  request: { status: "Status", reason: "Reason", type: "Kind of request", sku: "SKU",
             description: "What they asked for", size: "Size", colour: "Colour",
             due_date: "Due date", notify_channels: "How to tell them", quantity: "Quantity" },
  note: { body: "Note" },
};
const THING = { customer: "this customer's details", request: "this request", note: "this note" };

export function label(entity, name) {
  return (FIELDS[entity] || {})[name] || name.replaceAll("_", " ");
}

function shown(name, value) {
  if (value === null || value === undefined || value === "") return "(empty)";
  if (name === "status") return STATUS[value] || value;
  return typeof value === "string" ? `“${value}”` : JSON.stringify(value);
}

// The choices typed so far per conflict: the tray is redrawn whenever the local copy
// changes (a sync in the background), and a merge being typed must survive that.
const merging = new Map();

function about(app, row, theirs) {
  const customer = row.entity === "customer" ? theirs
    : app.local.get("customer", theirs.customer_id || (row.fields || {}).customer_id);
  return customer ? ` (${fullName(customer)})` : "";
}

async function choose(app, row, keep, values, message) {
  try {
    await outbox.resolve(app.local, row.mutation_id, keep, values);
    merging.delete(row.mutation_id);
    app.engine.sync();
  } catch (error) { message.textContent = error.message; }
}

function sides(row, theirs) {
  return h("ul", { class: "sides" }, (row.conflicts || []).map((name) => h("li", {},
    h("strong", {}, label(row.entity, name)), ": yours ", shown(name, row.fields[name]),
    ", theirs ", shown(name, theirs[fieldName(row.entity, name)]))));
}

function mergeForm(app, row, theirs, message) {
  const typed = merging.get(row.mutation_id);
  const inputs = (row.conflicts || []).map((name) => {
    const value = typed.has(name) ? typed.get(name) : (theirs[fieldName(row.entity, name)] ?? "");
    const oninput = (event) => typed.set(name, event.target.value);
    const input = name === "status"
      ? h("select", { onchange: oninput }, Object.entries(STATUS).map(([code, text]) =>
        h("option", { value: code, selected: code === value }, text)))
      : h("input", { value, oninput });
    return h("label", { class: "field" }, h("span", {}, label(row.entity, name)), input);
  });
  const values = () => Object.fromEntries((row.conflicts || []).map((name, i) => {
    const text = inputs[i].querySelector("input, select").value.trim();
    return [name, text || null];
  }));
  return h("div", { class: "merge", "data-testid": "merge" },
    h("p", {}, "Write what it should be (it starts as theirs):"), inputs,
    h("div", { class: "actions" },
      h("button", { class: "primary", onclick: () => choose(app, row, "merge", values(), message) },
        "Save merged"),
      h("button", { class: "quiet", onclick: () => { merging.delete(row.mutation_id); app.local.changed(); } },
        "Cancel merge")));
}

function deleted(app, row, theirs, message) {
  return [
    h("strong", {}, `You deleted this note${about(app, row, theirs)}; someone else changed it meanwhile`),
    h("p", {}, "Their note: ", shown("body", theirs.body)),
    h("p", {}, "Delete it anyway, or keep the note as they left it."), message,
    h("div", { class: "actions" },
      h("button", { class: "primary", onclick: () => choose(app, row, "mine", null, message) },
        "Keep mine (delete it)"),
      h("button", { onclick: () => choose(app, row, "theirs", null, message) },
        "Keep theirs (keep their note)")),
  ];
}

// Someone deleted the note this associate was editing: bring it back, or let it go.
function gone(app, row, message) {
  const note = app.local.get("note", row.record_id) || {};
  return [
    h("strong", {}, `Someone deleted this note${about(app, row, note)} while you were changing it`),
    h("p", {}, "Your note: ", shown("body", row.fields.body ?? note.body)),
    h("p", {}, "Bring it back with your text, or let it go."), message,
    h("div", { class: "actions" },
      h("button", { class: "primary", onclick: () => choose(app, row, "mine", null, message) },
        "Keep mine (bring it back)"),
      h("button", { onclick: () => choose(app, row, "theirs", null, message) },
        "Keep theirs (let it go)")),
  ];
}

function edited(app, row, theirs, message) {
  const open = merging.has(row.mutation_id);
  const startMerge = () => { merging.set(row.mutation_id, new Map()); app.local.changed(); };
  return [
    h("strong", {}, `Someone else changed ${THING[row.entity] || row.entity}${about(app, row, theirs)} meanwhile`),
    sides(row, theirs),
    open ? null : h("p", {}, "Keep yours, keep theirs, or merge the two."), message,
    open ? mergeForm(app, row, theirs, message) : h("div", { class: "actions" },
      h("button", { class: "primary", onclick: () => choose(app, row, "mine", null, message) }, "Keep mine"),
      h("button", { onclick: () => choose(app, row, "theirs", null, message) }, "Keep theirs"),
      h("button", { onclick: startMerge }, "Merge"),
      h("button", { class: "quiet", onclick: () => outbox.discard(app.local, row.mutation_id) },
        "Discard my whole change")),
  ];
}

export function conflicted(app, row) {
  const theirs = row.theirs || {};
  const message = h("p", { class: "error", role: "alert" });
  let body;
  if (!row.theirs) body = gone(app, row, message);
  else if (row.op === "delete") body = deleted(app, row, theirs, message);
  else body = edited(app, row, theirs, message);
  return h("li", { class: "conflict", "data-mutation": row.mutation_id }, body);
}
