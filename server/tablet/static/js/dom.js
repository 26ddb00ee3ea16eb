// Building the screen without a framework: h("button", {onclick}, "Save").

export function h(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (name.startsWith("on")) element.addEventListener(name.slice(2), value);
    else if (name === "class") element.className = value;
    else if (name === "value") element.value = value;
    else element.setAttribute(name, value === true ? "" : value);
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    element.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return element;
}

export function mount(root, ...children) {
  root.replaceChildren(...children.flat().filter(Boolean));
}

export function field(label, input, hint = null) {
  return h("label", { class: "field" }, h("span", {}, label), input, hint && h("small", {}, hint));
}

export function values(form) {
  const data = {};
  for (const [name, value] of new FormData(form)) {
    const text = String(value).trim();
    if (name in data) data[name] = [].concat(data[name], text);
    else data[name] = text;
  }
  return data;
}

export function when(iso) {
  if (!iso) return "never";
  return new Date(iso).toLocaleString([], { dateStyle: "short", timeStyle: "short" });
}

export function fullName(customer) {
  return customer ? `${customer.given_name || ""} ${customer.family_name || ""}`.trim() : "(unknown)";
}

export function go(hash) { window.location.hash = hash; }
