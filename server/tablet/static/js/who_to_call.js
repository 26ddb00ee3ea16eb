// Who to call today: the rule of the server's dashboard (server/dashboard/today.py,
// `_sections`), so the tablet and the back office list the same people. Change both
// together. Due today and overdue count open requests only, by the store's own date.
// The server's third section is "ready and not yet told"; the tablet does not pull
// follow-ups, so it cannot know "told": here it lists every ready request.

// Not closed (server/customer_requests/lifecycle.py: STATUSES minus CLOSED).
export const OPEN = ["open", "in_progress", "ready"];

// YYYY-MM-DD in the store's time zone (the tablet's own if the store's is unknown).
export function storeToday(timeZone, now = new Date()) {
  let format;
  try {
    format = new Intl.DateTimeFormat("en-GB", { timeZone: timeZone || undefined,
      year: "numeric", month: "2-digit", day: "2-digit" });
  } catch (_) {  // RangeError: a zone this browser does not know
    format = new Intl.DateTimeFormat("en-GB", { year: "numeric", month: "2-digit", day: "2-digit" });
  }
  const part = Object.fromEntries(format.formatToParts(now).map((p) => [p.type, p.value]));
  return `${part.year}-${part.month}-${part.day}`;
}

// Records not yet synced have no server times: they are the newest, so they go last.
const by = (...names) => (a, b) => {
  for (const name of names) {
    const order = (a[name] || "\uffff").localeCompare(b[name] || "\uffff");
    if (order) return order;
  }
  return 0;
};

export function whoToCall(requests, today) {
  const open = requests.filter((r) => OPEN.includes(r.status));
  return {
    due_today: open.filter((r) => r.due_date === today).sort(by("created_at")),
    overdue: open.filter((r) => r.due_date && r.due_date < today).sort(by("due_date", "created_at")),
    ready: requests.filter((r) => r.status === "ready").sort(by("updated_at")),
  };
}
