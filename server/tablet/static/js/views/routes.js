// Screens by address: #/ the counter, #/customer/<id>, #/today, #/attention, …

import * as counter from "./counter.js";
import * as customer from "./customer.js";
import * as customerForm from "./customer_form.js";
import * as requestForm from "./request_form.js";
import * as noteForm from "./note_form.js";
import * as consent from "./consent.js";
import * as day from "./day.js";
import * as attention from "./attention.js";
import { enrolScreen } from "./enrol_view.js";
import { enrol } from "../enrol.js";

// Enrolling again (the key was revoked): the same store's key keeps the outbox.
function reenrol(app) {
  return enrolScreen(app, null, async (server, key, associate) => {
    await enrol(app.local, server, key, associate || app.identity.associate);
    window.location.hash = "#/";
    window.location.reload();  // start again with the new key
  }, { again: true });
}

export const ROUTES = {
  counter: { render: counter.render, live: false },  // keeps its own search box
  customer: { render: customer.render, live: true },
  newCustomer: { render: customerForm.render, live: false },
  editCustomer: { render: customerForm.render, live: false },
  request: { render: requestForm.render, live: false },
  note: { render: noteForm.render, live: false },
  consent: { render: consent.render, live: false },
  handover: { render: consent.renderHandover, live: false },
  today: { render: day.renderToday, live: true },
  requests: { render: day.renderRequests, live: true },
  attention: { render: attention.render, live: true },
  enrol: { render: reenrol, live: false },
};

const PATTERNS = [
  [/^#\/customer\/new$/, "newCustomer"],
  [/^#\/customer\/([\w-]+)\/edit$/, "editCustomer"],
  [/^#\/customer\/([\w-]+)\/request$/, "request"],
  [/^#\/customer\/([\w-]+)\/note$/, "note"],
  [/^#\/customer\/([\w-]+)\/consent$/, "consent"],
  [/^#\/customer\/([\w-]+)\/handover$/, "handover"],
  [/^#\/customer\/([\w-]+)$/, "customer"],
  [/^#\/today$/, "today"],
  [/^#\/requests$/, "requests"],
  [/^#\/attention$/, "attention"],
  [/^#\/enrol$/, "enrol"],
];

export function route(hash) {
  for (const [pattern, view] of PATTERNS) {
    const match = pattern.exec(hash);
    if (match) return [view, match.slice(1)];
  }
  return ["counter", []];
}
