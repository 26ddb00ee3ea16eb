// Recording consent per purpose and channel, with the notice shown. Two ways: the
// associate records what the customer says (method associate_entry), or hands the
// tablet over: the customer reads the plain-language notice and what they get for it,
// and taps yes or no themselves (method customer_on_tablet).

import { h, fullName, go } from "../dom.js";

const CHANNEL_WORDS = { email: "by email", sms: "by text message", post: "by post", phone: "by phone call", push: "in the app" };

// The latest version of each notice (per key and language).
export function currentNotices(app) {
  const latest = new Map();
  for (const notice of app.local.list("notice")) {
    const key = `${notice.key}/${notice.language}`;
    if (!latest.has(key) || latest.get(key).number < notice.number) latest.set(key, notice);
  }
  return [...latest.values()].sort((a, b) => a.key.localeCompare(b.key));
}

function question(notice, channel, answers, big) {
  const slot = `${notice.id}|${channel}`;
  const buttons = [["grant", big ? "Yes please" : "Yes"], ["deny", big ? "No thanks" : "No"]].map(([action, label]) =>
    h("button", { type: "button", class: `answer ${action}`, "aria-pressed": "false", "data-slot": slot, "data-action": action,
      onclick: (event) => {
        answers.set(slot, { notice, channel, action });
        for (const other of event.target.parentElement.querySelectorAll("button")) other.setAttribute("aria-pressed", String(other === event.target));
      } }, label));
  return h("div", { class: "question" }, h("span", {}, `${notice.title} ${CHANNEL_WORDS[channel] || channel}`), h("div", { class: "pair" }, buttons));
}

function noticeCard(notice, answers, big) {
  return h("article", { class: "notice", "data-notice": notice.id },
    h("h2", {}, notice.title),
    h("p", { class: "notice-text" }, notice.text),
    h("p", { class: "value-exchange" }, notice.value_exchange),
    notice.channels.map((channel) => question(notice, channel, answers, big)));
}

// Every answer in one capture (one transaction): all are kept, or none.
async function record(app, customerId, answers, method) {
  const events = [...answers.values()].flatMap(({ notice, channel, action }) =>
    notice.purposes.map((purpose) => ({ purpose, channel, action, notice, method })));
  if (events.length) await app.capture.consents(customerId, events);
  app.engine.sync();
}

function consentForm(app, customerId, { method, big }) {
  const customer = app.local.get("customer", customerId);
  if (!customer) return h("p", { class: "card" }, "This customer is not on this tablet.");
  const notices = currentNotices(app);
  if (!notices.length) return h("p", { class: "card" }, "No notice on this tablet yet: sync, or ask head office to publish one.");
  const answers = new Map();
  const message = h("p", { class: "error", role: "alert" });
  // Disabled while saving: a double tap must not append every event twice.
  const done = async (event) => {
    const button = event.currentTarget;
    if (button.disabled) return;
    button.disabled = true;
    try {
      await record(app, customerId, answers, method);
      go(`#/customer/${customerId}`);
    } catch (error) {
      message.textContent = error.message;
      button.disabled = false;
    }
  };
  return h("section", { class: big ? "handover" : "card consent" },
    h("h1", {}, big ? `${customer.given_name}, it is your choice` : `Consent of ${fullName(customer)}`),
    big ? h("p", { class: "lead" }, "Read what we would like to send you and what you get for it. Say yes only to what you want. You can change your mind at any time, and our service to you does not depend on it.") : null,
    notices.map((notice) => noticeCard(notice, answers, big)), message,
    h("div", { class: "actions" },
      h("button", { type: "button", class: "primary", onclick: done }, big ? "Done — give the tablet back" : "Save answers"),
      h("a", { class: "button", href: `#/customer/${customerId}` }, "Cancel")));
}

export function render(app, customerId) {
  return consentForm(app, customerId, { method: "associate_entry", big: false });
}

export function renderHandover(app, customerId) {
  return consentForm(app, customerId, { method: "customer_on_tablet", big: true });
}
