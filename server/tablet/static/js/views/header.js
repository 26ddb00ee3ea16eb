// The header: online or offline, what waits to be sent, the last sync, the tray.

import { h, when } from "../dom.js";

function status(app) {
  const { online, syncing, lastSync, error, revoked } = app.engine.status;
  const { pending, attention, conflict } = app.local.counts;
  const up = online && navigator.onLine;
  return [
    h("span", { class: `badge ${up ? "online" : "offline"}`, "data-testid": "network" },
      up ? "Online" : "Offline"),
    h("span", { class: "pending", "data-testid": "pending" }, `${pending} to send`),
    h("span", { class: "last-sync", "data-testid": "last-sync" },
      syncing ? "Syncing…" : `Last sync: ${when(lastSync)}`),
    error ? h("span", { class: "sync-error", role: "alert", "data-testid": "sync-error" },
      revoked ? h("a", { href: "#/enrol" }, error) : error) : null,
    h("a", { href: "#/attention", class: `tray ${attention + conflict ? "has" : ""}`,
             "data-testid": "attention-count" },
      `Needs attention: ${attention + conflict}`),
  ];
}

export function header(app) {
  const line = h("div", { class: "status" });
  const draw = () => line.replaceChildren(...status(app).filter(Boolean));
  app.local.listeners.add(draw);
  app.engine.listeners.add(draw);
  window.addEventListener("online", draw);
  window.addEventListener("offline", draw);
  draw();
  const store = app.identity.store;
  return [
    h("div", { class: "bar" },
      h("strong", { class: "store" }, store ? store.name : "Blackbook"),
      line,
      h("button", { class: "small", onclick: () => app.engine.sync() }, "Sync now")),
    h("nav", {},
      h("a", { href: "#/" }, "Counter"),
      h("a", { href: "#/today" }, "Who to call today"),
      h("a", { href: "#/requests" }, "Open requests"),
      h("a", { href: "#/attention" }, "Needs attention")),
  ];
}
