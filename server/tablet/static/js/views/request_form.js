// Capturing a request in one short flow: what kind, what, size, colour, by when, and
// how they want to hear about it.

import { h, field, values, fullName, go } from "../dom.js";
import { CHANNELS, REQUEST_TYPES } from "../capture.js";

function typeChoice() {
  return h("fieldset", { class: "choices" }, h("legend", {}, "What kind of request?"),
    Object.entries(REQUEST_TYPES).map(([value, label], i) => h("label", { class: "choice" },
      h("input", { type: "radio", name: "type", value, checked: i === 0 }), label)));
}

function channelChoice(customer) {
  const preferred = (customer.preferences || {}).preferred_channels || [];
  const defaults = preferred.length ? preferred : [customer.phone ? "sms" : "email"];
  return h("fieldset", { class: "choices" }, h("legend", {}, "How do they want to hear about it?"),
    CHANNELS.map((channel) => h("label", { class: "choice" },
      h("input", { type: "checkbox", name: "notify_channels", value: channel,
                   checked: defaults.includes(channel) }), channel)));
}

function requestFields(data) {
  return {
    type: data.type, description: data.description, sku: data.sku, size: data.size,
    colour: data.colour, due_date: data.due_date,
    notify_channels: [].concat(data.notify_channels || []),
  };
}

export function render(app, customerId) {
  const customer = app.local.get("customer", customerId);
  if (!customer) return h("p", { class: "card" }, "This customer is not on this tablet.");
  const message = h("p", { class: "error", role: "alert" });
  const form = h("form", { class: "card" },
    h("h1", {}, `New request for ${fullName(customer)}`), typeChoice(),
    field("What they asked for", h("input", { name: "description", maxlength: 500, autofocus: true })),
    h("div", { class: "row" },
      field("SKU", h("input", { name: "sku", maxlength: 64 })),
      field("Size", h("input", { name: "size", maxlength: 32 })),
      field("Colour", h("input", { name: "colour", maxlength: 40 })),
      field("Due date", h("input", { name: "due_date", type: "date" }))),
    channelChoice(customer), message,
    h("div", { class: "actions" },
      h("button", { type: "submit", class: "primary" }, "Save request"),
      h("a", { class: "button", href: `#/customer/${customerId}` }, "Cancel")));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    try {
      await app.capture.request(customerId, requestFields(values(form)));
      app.engine.sync();
      go(`#/customer/${customerId}`);
    } catch (error) { message.textContent = error.message; }
  });
  return form;
}
