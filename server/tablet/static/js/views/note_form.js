// Adding a note. Before it is saved, the note is checked for sensitive content
// (health, pregnancy, religion, …, card numbers): the associate is asked to rephrase.

import { h, field, fullName, go } from "../dom.js";

const NAMES = { health: "health", pregnancy: "pregnancy", religion: "religion",
  ethnicity: "ethnic origin", sexual_orientation: "sexual orientation or gender identity",
  politics: "politics or trade unions", criminal: "criminal matters", bereavement: "bereavement",
  identifiers: "a card or ID number" };

function warning(categories, onSave, onRephrase) {
  return h("div", { class: "warning", role: "alert", "data-testid": "sensitive-warning" },
    h("h2", {}, "This note looks sensitive"),
    h("p", {}, `It seems to mention ${categories.map((c) => NAMES[c] || c).join(", ")}. `
      + "Notes must not hold this kind of information. Please rephrase it to say only what the "
      + "store needs (for example \"prefers flat shoes\" rather than why)."),
    h("div", { class: "actions" },
      h("button", { type: "button", class: "primary", onclick: onRephrase }, "Rephrase"),
      h("button", { type: "button", class: "quiet", onclick: onSave }, "Save anyway (it will be flagged)")));
}

export function render(app, customerId) {
  const customer = app.local.get("customer", customerId);
  if (!customer) return h("p", { class: "card" }, "This customer is not on this tablet.");
  const message = h("div", {});
  const body = h("textarea", { name: "body", rows: 5, maxlength: 5000, autofocus: true });
  const save = async () => {
    await app.capture.note(customerId, body.value);
    app.engine.sync();
    go(`#/customer/${customerId}`);
  };
  const form = h("form", { class: "card" }, h("h1", {}, `Note about ${fullName(customer)}`),
    field("Note", body), message,
    h("div", { class: "actions" }, h("button", { type: "submit", class: "primary" }, "Save note"),
      h("a", { class: "button", href: `#/customer/${customerId}` }, "Cancel")));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const categories = app.scanner ? app.scanner.categoriesIn(body.value) : [];
    if (!categories.length) {
      try { await save(); } catch (error) { message.replaceChildren(h("p", { class: "error", role: "alert" }, error.message)); }
      return;
    }
    message.replaceChildren(warning(categories, () => save().catch((e) => { message.textContent = e.message; }),
      () => { message.replaceChildren(); body.focus(); }));
  });
  return form;
}
