// At the counter: find a customer as you type (email, phone in any form or its last
// digits, name), from the local copy; or add a new one.

import { h, fullName } from "../dom.js";

export function customerRow(app, id) {
  const customer = app.local.get("customer", id);
  if (!customer) return null;
  const open = app.local.list("request").filter((r) => r.customer_id === id
    && !["fulfilled", "cancelled", "expired"].includes(r.status)).length;
  return h("li", {},
    h("a", { href: `#/customer/${id}`, class: "result" },
      h("strong", {}, fullName(customer)),
      h("span", {}, [customer.email, customer.phone].filter(Boolean).join(" · ") || "no contact details"),
      open ? h("span", { class: "tag" }, `${open} open`) : null));
}

export function render(app) {
  const list = h("ul", { class: "results", "data-testid": "results" });
  const timing = h("small", { class: "timing", "data-testid": "timing" });
  const search = h("input", { type: "search", placeholder: "Email, phone or name",
    "aria-label": "Find a customer", autofocus: true, autocomplete: "off" });
  const show = () => {
    const started = performance.now();
    const ids = app.local.index.search(search.value);
    const took = performance.now() - started;
    list.replaceChildren(...ids.map((id) => customerRow(app, id)).filter(Boolean));
    timing.textContent = search.value.trim() ? `${ids.length} found in ${took.toFixed(1)} ms` : "";
    if (search.value.trim() && !ids.length) list.append(h("li", { class: "empty" }, "Nobody found on this tablet."));
  };
  search.addEventListener("input", show);
  setTimeout(() => search.focus(), 0);
  return h("section", { class: "counter" },
    h("div", { class: "searchbar" }, search,
      h("a", { href: "#/customer/new", class: "button primary" }, "New customer")),
    timing, list);
}
