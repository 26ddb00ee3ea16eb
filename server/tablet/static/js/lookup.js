// Finding a customer in the local copy as the associate types: email, phone (any
// form, or its last 4+ digits) and name prefix (case and accent blind), built in
// memory from IndexedDB on load. Each key kind is one sorted array of "key\u0001id":
// a search is a binary search and a walk along the matches, in key order.

import * as normalise from "./normalise.js";

const SEP = "\u0001";

class SortedKeys {
  constructor() { this.entries = []; }

  build(entries) { this.entries = entries.sort(); }

  lowerBound(text) {
    let [low, high] = [0, this.entries.length];
    while (low < high) {
      const middle = (low + high) >>> 1;
      if (this.entries[middle] < text) low = middle + 1; else high = middle;
    }
    return low;
  }

  add(key, id) { const entry = key + SEP + id; this.entries.splice(this.lowerBound(entry), 0, entry); }

  remove(key, id) {
    const entry = key + SEP + id;
    const at = this.lowerBound(entry);
    if (this.entries[at] === entry) this.entries.splice(at, 1);
  }

  // Ids whose key starts with `prefix` (or equals `exact`), in key order.
  *matching(prefix, exact = false) {
    const start = exact ? prefix + SEP : prefix;
    for (let i = this.lowerBound(start); i < this.entries.length; i += 1) {
      const entry = this.entries[i];
      if (!entry.startsWith(start)) return;
      const cut = entry.lastIndexOf(SEP);
      yield entry.slice(cut + 1);
    }
  }
}

// The suffixes of a name's words: "ada maria lovelace", "maria lovelace", "lovelace".
function nameKeys(customer) {
  const words = normalise.nameKey(customer.given_name, customer.family_name).split(" ");
  return words.map((_, i) => words.slice(i).join(" ")).filter(Boolean);
}

export class CustomerIndex {
  constructor() {
    this.region = null;
    this.keys = new Map();  // id -> its keys, to take them out again
    this.email = new SortedKeys();
    this.phone = new SortedKeys();
    this.name = new SortedKeys();
  }

  keysOf(customer) {
    const phone = customer.phone ? normalise.phoneDigits(customer.phone, this.region) : "";
    return { email: customer.email ? normalise.email(customer.email) : "",
             phone: phone ? normalise.reverse(phone) : "", names: nameKeys(customer) };
  }

  build(customers) {
    const [emails, phones, names] = [[], [], []];
    this.keys.clear();
    for (const customer of customers) {
      const keys = this.keysOf(customer);
      this.keys.set(customer.id, keys);
      if (keys.email) emails.push(keys.email + SEP + customer.id);
      if (keys.phone) phones.push(keys.phone + SEP + customer.id);
      for (const name of keys.names) names.push(name + SEP + customer.id);
    }
    this.email.build(emails);
    this.phone.build(phones);
    this.name.build(names);
  }

  update(id, before, after) {
    const old = this.keys.get(id);
    if (old) {
      if (old.email) this.email.remove(old.email, id);
      if (old.phone) this.phone.remove(old.phone, id);
      for (const name of old.names) this.name.remove(name, id);
      this.keys.delete(id);
    }
    if (!after) return;
    const keys = this.keysOf(after);
    this.keys.set(id, keys);
    if (keys.email) this.email.add(keys.email, id);
    if (keys.phone) this.phone.add(keys.phone, id);
    for (const name of keys.names) this.name.add(name, id);
  }

  // Ids matching every criterion given: `email` (exact; `emailPrefix` as typed),
  // `phone` (any form, or its last 4+ digits), `name` (start of any word run).
  find(criteria, limit = 20) {
    const tests = [];
    const email = criteria.email ? normalise.email(criteria.email) : "";
    const phone = criteria.phone ? normalise.phoneQuery(criteria.phone) : "";
    const name = criteria.name ? normalise.fold(criteria.name) : "";
    if (criteria.phone && phone.length < normalise.MIN_SUFFIX) return [];
    if (criteria.name && !name) return [];
    if (email) tests.push([this.email.matching(email, !criteria.emailPrefix),
      (k) => (criteria.emailPrefix ? k.email.startsWith(email) : k.email === email)]);
    if (phone) tests.push([this.phone.matching(phone), (k) => k.phone.startsWith(phone)]);
    if (name) tests.push([this.name.matching(name), (k) => k.names.some((n) => n.startsWith(name))]);
    if (!tests.length) return [];
    const [[source], ...rest] = tests;
    const found = new Set();
    for (const id of source) {
      const keys = this.keys.get(id);
      if (keys && rest.every(([, test]) => test(keys))) found.add(id);
      if (found.size === limit) break;
    }
    return [...found];
  }

  // One search box: an email as typed, a number, or a name.
  search(text, limit = 20) {
    const value = (text || "").trim();
    if (!value) return [];
    if (value.includes("@")) return this.find({ email: value, emailPrefix: true }, limit);
    if (/^[\d\s+().\-/]+$/.test(value)) return this.find({ phone: value }, limit);
    return this.find({ name: value }, limit);
  }

  // "Is this them?": anyone sharing the email or the number, or with that name.
  candidates({ given_name: given, family_name: family, email, phone }, limit = 5) {
    const ids = new Set();
    if (email && email.includes("@")) this.find({ email }, limit).forEach((id) => ids.add(id));
    if (phone && normalise.digits(phone).length >= 6) {
      this.find({ phone }, limit).forEach((id) => ids.add(id));
    }
    const name = `${given || ""} ${family || ""}`.trim();
    if (family && name.length >= 3) this.find({ name }, limit).forEach((id) => ids.add(id));
    return [...ids].slice(0, limit);
  }
}
