// The enrolment screen: the server (this one, unless told) and the device key.

import { h, field, values } from "../dom.js";

export function enrolScreen(app, problem, enrol) {
  const message = h("p", { class: "error", role: "alert" }, problem || "");
  const form = h("form", { class: "card", autocomplete: "off" },
    h("h1", {}, "Enrol this tablet"),
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
