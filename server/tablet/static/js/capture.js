// Capturing at the counter, with or without a network (client/capture.py). Each
// capture is queued in the outbox and shown at once. Only what the tablet can tell
// for certain is checked here; the server's rules decide the rest, and what they
// reject waits under "needs attention" with the server's reasons.

import * as outbox from "./outbox.js";

export const REQUEST_TYPES = {
  back_in_stock: "Back in stock", special_order: "Special order", hold: "Hold",
  alteration: "Alteration", appointment: "Appointment", call_back: "Call back", other: "Other",
};
export const CHANNELS = ["email", "sms", "phone", "post", "push"];
export const CLOSING_REASONS = {
  fulfilled: "collected", cancelled: "customer_cancelled",
};

export class Refused extends Error {
  constructor(errors) { super(Object.values(errors).flat().join(" ")); this.errors = errors; }
}

function refuseUnless(ok, field, message) { if (!ok) throw new Refused({ [field]: [message] }); }

// The fields filled in, without empty ones (a new record).
function given(fields) {
  return Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== null && v !== undefined && v !== ""));
}

// Edited fields: an emptied one is sent as null (cleared).
function edited(fields, before) {
  const changes = {};
  for (const [name, value] of Object.entries(fields)) {
    const next = value === "" ? null : value;
    if (JSON.stringify(next) !== JSON.stringify(before[name] ?? null)) changes[name] = next;
  }
  return changes;
}

export class Capture {
  constructor(local, associate) { this.local = local; this.associate = associate; }

  async queue(entity, op, id, fields) {
    await outbox.capture(this.local, entity, op, id, fields, this.associate);
    return id;
  }

  existing(entity, id, field = "id") {
    const record = this.local.get(entity, id);
    refuseUnless(record, field, `No ${entity} ${id} on this tablet.`);
    return record;
  }

  customer(fields) {
    refuseUnless(fields.given_name, "given_name", "A first name, please.");
    return this.queue("customer", "upsert", crypto.randomUUID(), given(fields));
  }

  editCustomer(id, fields) {
    const changes = edited(fields, this.existing("customer", id));
    refuseUnless(Object.keys(changes).length, "fields", "Nothing changed.");
    refuseUnless(changes.given_name !== null, "given_name", "A first name, please.");
    return this.queue("customer", "upsert", id, changes);
  }

  request(customerId, fields) {
    this.existing("customer", customerId, "customer_id");
    refuseUnless(fields.type in REQUEST_TYPES, "type", "Choose what kind of request.");
    refuseUnless(fields.sku || fields.description, "description", "What was asked for?");
    return this.queue("request", "upsert", crypto.randomUUID(),
      given({ customer_id: customerId, ...fields }));
  }

  editRequest(id, fields) {
    this.existing("request", id);
    refuseUnless(Object.keys(fields).length, "fields", "Nothing changed.");
    return this.queue("request", "upsert", id, fields);
  }

  requestStatus(id, status, reason = null) {
    this.existing("request", id);
    return this.queue("request", "upsert", id, { status, reason, changed_by: this.associate || null });
  }

  note(customerId, body) {
    this.existing("customer", customerId, "customer_id");
    refuseUnless(body && body.trim(), "body", "Write the note first.");
    return this.queue("note", "upsert", crypto.randomUUID(), { customer_id: customerId, body });
  }

  editNote(id, body) {
    this.existing("note", id);
    refuseUnless(body && body.trim(), "body", "Write the note first.");
    return this.queue("note", "upsert", id, { body });
  }

  deleteNote(id) {
    this.existing("note", id);
    return this.queue("note", "delete", id, {});
  }

  // An append-only consent event, citing the notice version the customer was shown.
  consent(customerId, answer) {
    return this.consents(customerId, [answer]);
  }

  // A customer's answers, kept together (one transaction) or not at all.
  async consents(customerId, answers) {
    this.existing("customer", customerId, "customer_id");
    const mutations = answers.map(({ purpose, channel, action, notice, method }) => {
      refuseUnless(action !== "grant" || notice, "notice_version_id", "A grant cites the notice shown.");
      return { entity: "consent", op: "append", recordId: crypto.randomUUID(), fields: given({
        customer_id: customerId, purpose, channel, action, method,
        notice_version_id: notice ? notice.id : null,
      }) };
    });
    await outbox.captureAll(this.local, mutations, this.associate);
    return mutations.map((mutation) => mutation.recordId);
  }
}
