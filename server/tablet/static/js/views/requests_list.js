// A request as a row, with the lifecycle steps the counter takes most.

import { h, fullName } from "../dom.js";
import { REQUEST_TYPES } from "../capture.js";
import { OPEN } from "../who_to_call.js";
export const LABELS = { open: "Open", in_progress: "In progress", ready: "Ready", fulfilled: "Fulfilled",
  cancelled: "Cancelled", expired: "Expired" };
const STEPS = {
  open: [["in_progress", "Start", null], ["ready", "Mark ready", null]],
  in_progress: [["ready", "Mark ready", null]],
  ready: [["fulfilled", "Mark fulfilled", "collected"]],
};

export function describe(request) {
  return [REQUEST_TYPES[request.type] || request.type, request.description || request.sku,
    request.size && `size ${request.size}`, request.colour].filter(Boolean).join(" · ");
}

async function step(app, request, status, reason) {
  await app.capture.requestStatus(request.id, status, reason);
  app.engine.sync();
}

export function requestRow(app, request, { withCustomer = false } = {}) {
  const customer = app.local.get("customer", request.customer_id);
  const steps = (STEPS[request.status] || []).map(([status, label, reason]) =>
    h("button", { class: "small", onclick: () => step(app, request, status, reason) }, label));
  if (OPEN.includes(request.status)) {
    steps.push(h("button", { class: "small quiet",
      onclick: () => step(app, request, "cancelled", "customer_cancelled") }, "Cancel"));
  }
  return h("li", { class: `request ${request.status}`, "data-request": request.id },
    h("div", {},
      withCustomer ? h("a", { href: `#/customer/${request.customer_id}` }, h("strong", {}, fullName(customer))) : null,
      h("span", { class: `status ${request.status}` }, LABELS[request.status] || request.status),
      h("span", {}, describe(request)),
      request.due_date ? h("span", { class: "due" }, `due ${request.due_date}`) : null,
      (request.notify_channels || []).length ? h("span", {}, `tell by ${request.notify_channels.join(", ")}`) : null),
    h("div", { class: "actions" }, steps));
}
