// Search keys made the way the server makes them (client/normalise.py,
// server/customers/normalise.py): lower-cased email, phone digits, names folded case-
// and accent-blind. A customer captured offline, not yet normalised by the server, is
// found the same way.

// Calling codes of the stores' countries, to read a number written without +code. A
// country not listed: its numbers are still found by their last digits.
const CALLING_CODES = {
  GB: "44", IE: "353", FR: "33", BE: "32", LU: "352", NL: "31", DE: "49", AT: "43", CH: "41",
  ES: "34", PT: "351", IT: "39", DK: "45", SE: "46", NO: "47", FI: "358", PL: "48", CZ: "420",
  US: "1", CA: "1", AU: "61", NZ: "64",
};
export const MIN_SUFFIX = 4;
// A leading 0 is a trunk prefix only on a whole national number ("07911 123456"); in
// "last digits" ("0123") it is one of the digits.
const WHOLE_NUMBER = 8;

function national(all) {
  return all.length >= WHOLE_NUMBER ? all.replace(/^0+/, "") : all;
}

export function email(value) {
  return value.trim().normalize("NFC").toLowerCase();
}

export function digits(value) {
  return (value || "").replace(/\D+/g, "");
}

// Python's str.casefold for what shop names hold: lower case, with ß as "ss".
function casefold(text) {
  return text.toLowerCase().replace(/ß/g, "ss").replace(/ς/g, "σ");
}

// "Zoë", "ZOE" and "zoe" alike; spaces collapsed.
export function fold(text) {
  return casefold(text || "").normalize("NFKD").replace(/\p{Mn}/gu, "")
    .split(/\s+/u).filter(Boolean).join(" ");
}

export function nameKey(given, family) {
  return fold(`${given || ""} ${family || ""}`);
}

// The number as international digits when it can be told ("+44 7911…", "0044…", or
// "07911…" read in the store's country); otherwise its national digits.
export function phoneDigits(value, region) {
  const text = (value || "").trim();
  const all = digits(text);
  if (text.startsWith("+")) return all;
  if (all.startsWith("00") && all.length > WHOLE_NUMBER) return all.slice(2);
  const code = CALLING_CODES[(region || "").toUpperCase()];
  return code && all.startsWith("0") && all.length >= WHOLE_NUMBER ? code + national(all)
    : national(all);
}

// What a typed number is searched by: the digits it surely ends with ("07911 123456"
// ends with 7911123456 whatever the country), reversed for a prefix search.
export function phoneQuery(value) {
  const text = (value || "").trim();
  const all = digits(text);
  if (text.startsWith("+")) return reverse(all);
  if (all.startsWith("00") && all.length > WHOLE_NUMBER) return reverse(all.slice(2));
  return reverse(national(all));
}

export function reverse(text) {
  return [...text].reverse().join("");
}
