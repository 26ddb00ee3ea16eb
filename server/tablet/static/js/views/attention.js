// "Needs attention": what the server refused, with its reasons, to fix and send again
// or give up; and conflicts, to keep mine, keep theirs or merge (conflict.js).

import { h } from "../dom.js";
import * as outbox from "../outbox.js";
import { conflicted, label } from "./conflict.js";

function errorsOf(errors) {
  return Object.entries(errors || {}).map(([name, messages]) =>
    [name, Array.isArray(messages) ? messages.join(" ") : JSON.stringify(messages)]);
}

// Only a field the mutation sent, holding text, can be fixed here; an error about the
// whole record ("_schema") or anything else is shown, never sent back as a field.
function fixable(row, name) {
  const value = Object.hasOwn(row.fields, name) ? row.fields[name] : undefined;
  return value === null || typeof value === "string";
}

// What the associate typed, per refused mutation: the tray is redrawn whenever the local
// copy changes (a sync in the background), and a fix must survive that.
const drafts = new Map();

function draftOf(mutationId) {
  if (!drafts.has(mutationId)) drafts.set(mutationId, new Map());
  return drafts.get(mutationId);
}

const WHAT = { customer: "this customer's details", request: "this request", note: "this note",
  consent: "this consent answer" };

function refusal(row) {
  const what = WHAT[row.entity] || row.entity;
  return row.op === "delete" ? `The server refused to delete ${what}` : `The server refused ${what}`;
}

function rejected(app, row) {
  const fixes = draftOf(row.mutation_id);
  const errors = errorsOf(row.errors);
  const inputs = errors.filter(([name]) => fixable(row, name)).map(([name]) => {
    const value = fixes.has(name) ? fixes.get(name) : row.fields[name] || "";
    const input = h("input", { value, "aria-label": `Fix ${label(row.entity, name)}`,
      oninput: (event) => fixes.set(name, event.target.value) });
    return h("label", { class: "field" }, h("span", {}, label(row.entity, name)), input);
  });
  const typed = () => Object.fromEntries([...fixes].map(([name, text]) => [name, text.trim() || null]));
  return h("li", { class: "attention", "data-mutation": row.mutation_id },
    h("strong", {}, refusal(row)),
    h("ul", { class: "errors" }, errors.map(([name, text]) =>
      h("li", {}, name.startsWith("_") ? text : `${label(row.entity, name)}: ${text}`))),
    h("pre", {}, JSON.stringify(row.fields, null, 1)), inputs,
    h("div", { class: "actions" },
      inputs.length || row.op === "delete" ? h("button", { class: "primary", onclick: async () => {
        await outbox.requeue(app.local, row.mutation_id, typed());
        drafts.delete(row.mutation_id);
        app.engine.sync();
      } }, "Send again") : null,
      h("button", { class: "quiet", onclick: () => {
        drafts.delete(row.mutation_id);
        return outbox.discard(app.local, row.mutation_id);
      } }, "Discard")));
}

export function render(app) {
  const list = h("ul", { class: "tray", "data-testid": "tray" }, h("li", {}, "Loading…"));
  outbox.rows(app.local).then((rows) => {
    const waiting = rows.filter((row) => row.state !== "pending");
    list.replaceChildren(...(waiting.length ? waiting.map((row) =>
      (row.state === "conflict" ? conflicted(app, row) : rejected(app, row)))
      : [h("li", {}, "Nothing needs attention.")]));
  });
  return h("section", { class: "card" }, h("h1", {}, "Needs attention"), list);
}
