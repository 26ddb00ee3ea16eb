// The sensitive-note check, before a note is saved, offline too: the server's lexicon
// (served at /tablet/lexicon.json, cached with the app's data) compiled the way
// server/notes/sensitive.py compiles it. tests/tablet/test_sensitive_parity.py checks
// that both flag the same labelled notes. The server scans again on push: its flag is
// what counts for the CRM; this check is so the associate can rephrase first.

import { fold as foldName } from "./normalise.js";

const WORD_CLASS = "\\p{L}\\p{N}_";  // Python's \w on text
const UNFOLDED = { "\u2019": "'", "\u2018": "'", "\u02bc": "'", "`": "'", "\u0153": "oe", "\u00e6": "ae" };
const SPECIAL = new Set([..."^$\\.*+?()[]{}|/"]);

export function fold(text) {
  return foldName(text).replace(/[\u2019\u2018\u02bc`\u0153\u00e6]/g, (c) => UNFOLDED[c]);
}

// A Python pattern as a JavaScript one: \w and \W read Unicode as Python's do.
export function fromPython(pattern) {
  let out = "";
  let inClass = false;
  for (let i = 0; i < pattern.length; i += 1) {
    const c = pattern[i];
    if (c === "\\") {
      const next = pattern[i + 1];
      i += 1;
      if (next === "w") out += inClass ? WORD_CLASS : `[${WORD_CLASS}]`;
      else if (next === "W") out += inClass ? "\\W" : `[^${WORD_CLASS}]`;
      else if ("dDsSbBnrtfv0123456789".includes(next) || SPECIAL.has(next) || (inClass && next === "-")) out += `\\${next}`;
      else out += next;  // Python lets any character be escaped; JavaScript (u) does not
    } else if (c === "[" && !inClass) { inClass = true; out += c; }
    else if (c === "]" && inClass) { inClass = false; out += c; }
    else if (!inClass && pattern.startsWith("(?P<", i)) { out += "(?<"; i += 3; }
    else out += c;
  }
  return out;
}

const re = (pattern, flags = "u") => new RegExp(fromPython(pattern), flags);

function escape(text) { return [...text].map((c) => (SPECIAL.has(c) ? `\\${c}` : c)).join(""); }

const TERM_PARTS = { "*": "\\w*", "-": "[\\s\\-]?", " ": "[\\s\\-]+" };

function term(text) {
  return fold(text).split(/([*\- ])/).filter(Boolean)
    .map((part) => TERM_PARTS[part] || escape(part)).join("");
}

function words(terms = [], patterns = []) {
  const alternatives = terms.length ? [`(?<!\\w)(?:${terms.map(term).join("|")})(?!\\w)`] : [];
  alternatives.push(...patterns.map((pattern) => `(?:${pattern})`));
  return alternatives.length ? re(alternatives.join("|"), "gu") : null;
}

// A global regex keeps its position between calls (and matchAll copies it): reset it.
function search(pattern, text) {
  pattern.lastIndex = 0;
  const found = pattern.test(text);
  pattern.lastIndex = 0;
  return found;
}
const WORD = re("\\w+", "gu");

function bisectRight(list, value) {
  let [low, high] = [0, list.length];
  while (low < high) { const mid = (low + high) >>> 1; if (value < list[mid]) high = mid; else low = mid + 1; }
  return low;
}

// A term with a context term no more than `within` words before or after it.
function nearFound(rule, text) {
  const contexts = [...text.matchAll(rule.context)].map((m) => [m.index, m.index + m[0].length]);
  if (!contexts.length || !search(rule.terms, text)) return false;
  const starts = [...text.matchAll(WORD)].map((m) => m.index);
  const word = (position) => bisectRight(starts, position) - 1;
  const spans = contexts.map(([start, end]) => [word(start), word(end - 1)]);
  for (const m of text.matchAll(rule.terms)) {
    const low = word(m.index) - rule.within;
    const high = word(m.index + m[0].length - 1) + rule.within;
    if (spans.some(([first, last]) => first >= low && first <= high && last <= high)) return true;
  }
  return false;
}

function compile(category) {
  return {
    name: category.name,
    words: words(category.terms, category.patterns),
    near: (category.near || []).map((rule) => ({ terms: words(rule.terms), context: words(rule.context), within: rule.within })),
    masks: (category.except || []).length ? words(category.except) : null,
    detectors: (category.detectors || []).map((name) => DETECTORS[name]).filter(Boolean),
  };
}

function matches(category, text) {
  return Boolean(category.words && search(category.words, text))
    || category.near.some((rule) => nearFound(rule, text))
    || category.detectors.some((detect) => detect(text));
}

function found(category, text) {
  if (!matches(category, text)) return false;
  return !category.masks || matches(category, text.replace(category.masks, (m) => " ".repeat(m.length)));
}

export class Scanner {
  constructor(lexicon) { this.categories = lexicon.categories.map(compile); }

  categoriesIn(text) {
    const folded = fold(text || "");
    return this.categories.filter((category) => found(category, folded)).map((c) => c.name);
  }
}

// --- Numbers that must never travel (server/notes/sensitive.py) ----------------------

const DIGIT_GROUPS = re("(?<![\\w+\\-])\\d+(?:[ \\-]\\d+)*(?![\\w\\-])", "gu");
const NINO = re("(?<!\\w)(?!bg|gb|kn|nk|nt|tn|zz)[a-ceghj-pr-tw-z][a-ceghj-npr-tw-z] ?\\d\\d ?\\d\\d ?\\d\\d ?[a-d](?!\\w)");
const NIR = re("(?<![\\w\\-])([1-478])[ .]?(\\d\\d)[ .]?(0[1-9]|1[0-2]|[2-9]\\d)[ .]?(\\d\\d|2[ab])[ .]?(\\d{3})[ .]?(\\d{3})[ .]?(\\d\\d)(?![\\w\\-])", "gu");
const PASSPORT = re("(?<!\\w)passe?ports?\\W+(?:(?:no|nr|n|num|number|numero)\\W+)?([a-z0-9]{8,9})(?!\\w)", "gu");

function luhn(digits) {
  let total = 0;
  [...digits].reverse().forEach((d, position) => {
    const digit = Number(d);
    total += position % 2 === 0 ? digit : (digit > 4 ? digit * 2 - 9 : digit * 2);
  });
  return total % 10 === 0;
}

function ean13(digits) {
  let weighted = 0;
  for (let i = 0; i < 12; i += 1) weighted += Number(digits[i]) * (i % 2 ? 3 : 1);
  return digits.length === 13 && (10 - (weighted % 10)) % 10 === Number(digits[12]);
}

function isCard(digits) {
  if (digits.length === 13 && (digits[0] !== "4" || ean13(digits))) return false;
  return digits.length >= 13 && digits.length <= 19 && "23456".includes(digits[0]) && luhn(digits);
}

function hasCard(text) {
  for (const run of text.matchAll(DIGIT_GROUPS)) {
    const groups = run[0].split(/[ -]/);
    for (let first = 0; first < groups.length; first += 1) {
      let digits = "";
      for (const group of groups.slice(first)) {
        if (group.length < 3 && groups.length > 1) break;
        digits += group;
        if (digits.length > 19) break;
        if (isCard(digits)) return true;
      }
    }
  }
  return false;
}

function isNir(m) {
  const body = m.slice(1, 7);
  const key = Number(m[7]);
  const department = { "2a": "19", "2b": "18" }[body[3]] || body[3];
  const number = BigInt([...body.slice(0, 3), department, ...body.slice(4)].join(""));
  return 97n - (number % 97n) === BigInt(key);
}

const DETECTORS = {
  payment_card: hasCard,
  uk_nino: (text) => NINO.test(text),
  fr_nir: (text) => [...text.matchAll(NIR)].some(isNir),
  passport: (text) => [...text.matchAll(PASSPORT)].some((m) => (m[1].match(/\d/g) || []).length >= 6),
};
