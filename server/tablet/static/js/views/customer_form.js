// Adding or editing a customer; while adding, "is this them?" shows who is already
// on the tablet with that email, number or name, to avoid duplicates.

import { h, field, values, fullName, go } from "../dom.js";
import { customerRow } from "./counter.js";

const FIELDS = [["given_name", "First name", "text"], ["family_name", "Last name", "text"],
  ["email", "Email", "email"], ["phone", "Phone", "tel"]];

export function render(app, customerId = null) {
  const before = customerId ? app.local.get("customer", customerId) : null;
  if (customerId && !before) return h("p", { class: "card" }, "This customer is not on this tablet.");
  const message = h("p", { class: "error", role: "alert" });
  const candidates = h("ul", { class: "results candidates", "data-testid": "candidates" });
  const inputs = FIELDS.map(([name, label, type]) => field(label, h("input", {
    name, type, value: before ? before[name] || "" : "", autocomplete: "off",
    required: name === "given_name", maxlength: name === "email" ? 254 : 100 })));
  const form = h("form", { class: "card" },
    h("h1", {}, before ? `Edit ${fullName(before)}` : "New customer"), inputs,
    before ? null : h("div", {}, h("h2", {}, "Is this them?"), candidates), message,
    h("div", { class: "actions" },
      h("button", { type: "submit", class: "primary" }, before ? "Save" : "Add customer"),
      h("a", { class: "button", href: before ? `#/customer/${customerId}` : "#/" }, "Cancel")));
  form.addEventListener("input", () => {
    if (before) return;
    const ids = app.local.index.candidates(values(form));
    candidates.replaceChildren(...ids.map((id) => customerRow(app, id)).filter(Boolean));
  });
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    try {
      const id = before ? await app.capture.editCustomer(customerId, values(form))
        : await app.capture.customer(values(form));
      app.engine.sync();
      go(`#/customer/${id}`);
    } catch (error) { message.textContent = error.message; }
  });
  return form;
}
