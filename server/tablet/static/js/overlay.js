// What the tablet shows: the server's copy of a record with the outbox laid on top
// (client/overlay.py). A view is never edited in place: it is recomputed, so a pull
// can replace the server's copy without erasing an edit the server has not confirmed.

const RENAMED = { request: { reason: "status_reason" } };
const NOT_IN_RECORD = { request: new Set(["changed_by"]) };

// The record's name for a mutation's field.
export function fieldName(entity, name) { return (RENAMED[entity] || {})[name] || name; }

// Whether a mutation's field lands in the record at all.
export function inRecord(entity, name) { return !(NOT_IN_RECORD[entity] || new Set()).has(name); }

export function apply(body, mutation) {
  if (mutation.op === "delete") return null;
  const renamed = RENAMED[mutation.entity] || {};
  const skipped = NOT_IN_RECORD[mutation.entity] || new Set();
  const result = body ? { ...body } : { id: mutation.record_id };
  for (const [name, value] of Object.entries(mutation.fields)) {
    if (!skipped.has(name)) result[renamed[name] || name] = value;
  }
  return result;
}

// `shown` is the starting point only when the server has no copy and the outbox does
// not create the record: the server deleted it under a pending edit.
export function view(server, shown, pending) {
  let body = server;
  if (!server && pending.length && !pending[0].creates) body = shown;
  for (const mutation of pending) body = apply(body, mutation);
  return body;
}
