// The enrolment screen: the server (this one, unless told) and the device key.

import { h, field, values } from "../dom.js";

// `again`: this tablet's key stopped working; what it captured waits to go with the new one.
export function enrolScreen(app, problem, enrol, { again = false } = {}) {
  const message = h("p", { class: "error", role: "alert" }, problem || "");
  const waiting = app.local ? app.local.counts : { pending: 0, attention: 0, conflict: 0 };
  const kept = waiting.pending + waiting.attention + waiting.conflict;
  const form = h("form", { class: "card", autocomplete: "off" },
    h("h1", {}, again ? "Enrol this tablet again" : "Enrol this tablet"),
    again ? h("p", {}, "This tablet's key no longer works. Ask head office for a new key for this "
      + `store. ${kept} capture(s) waiting on this tablet will be sent with it.`) : null,
    h("p", {}, "Scan the QR code from head office, or type the tablet key it printed."),
    field("Server", h("input", { name: "server", type: "url", value: window.location.origin, required: true })),
    field("Tablet key", h("input", { name: "key", type: "password", required: true, autocomplete: "off" })),
    field("Your associate code (optional)", h("input", { name: "associate", maxlength: 32 })),
    message,
    h("button", { type: "submit", class: "primary" }, "Enrol"));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const data = values(form);
    message.textContent = "Checking the key…";
    try {
      await enrol(data.server, data.key, data.associate);
    } catch (error) {
      message.textContent = error.message || "The server could not be reached.";
    }
  });
  return form;
}
