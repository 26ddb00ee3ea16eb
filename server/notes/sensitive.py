"""Does a note look like it holds special-category data (GDPR art. 9 and 10), or a
number that must never travel (a payment card, a national id)?

Deliberately eager: a false alarm costs the assistant a rephrase; a miss sends
someone's pregnancy to a marketing system. Flagged notes never leave the service
layer for marketing audiences. `tests.benchmarks.scanner_eval` measures it.

Text is folded first (case and accents ignored, curly apostrophes made straight), so
"Enceinte", "ENCEINTE" and "enceinté" read alike; English and French ship together.

The lexicon. The default is `sensitive_lexicon.json` next to this module. An
operator may point `BLACKBOOK_SENSITIVE_LEXICON` at a JSON file that extends it:

    {"categories": {
        "health":  {"terms": ["gout", "kidney stone*"]},         # added to health
        "tattoos": {"terms": ["tattoo*"]},                       # a new category, last
        "bereavement": null,                                     # no longer scanned
        "politics": {"replace": true, "terms": ["politic*"]}}}   # its rules replaced

or, with `"replace": true` at the top, replaces it: the file's categories are then
the only ones, in the file's order. A category holds any of:

    terms       words and phrases that flag on their own. Whole words only; "*"
                ends a stem ("diabet*": diabetes, diabetic); a space matches spaces
                or hyphens; a hyphen may be there or not ("mum-to-be", "mum to be").
    near        [{"terms": [...], "context": [...], "within": N}]: the terms count
                only with a context term at most N words away ("expecting" with
                "baby" close by, not "expecting a delivery").
    except      phrases that never count for this category ("ill-fitting",
                "roller blind", "Veuve Clicquot"): their words are blanked first.
    patterns    regular expressions (Python syntax) over the folded text.
    detectors   checked numbers, by name: payment_card (13 to 19 digits, spaces or
                dashes allowed, Luhn), uk_nino (National Insurance), fr_nir
                (numéro de sécurité sociale, key checked), passport (a number
                written after "passport" / "passeport").

Keys starting with "_" are comments. Categories are reported in lexicon order; the
names are stored on notes and shown to associates. The file is read and compiled
once per process (per path); a malformed one raises `LexiconError` naming it, so
calling `scanner()` at start-up refuses a bad file before any note is written.
"""

from __future__ import annotations

import bisect
import functools
import json
import os
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from server import config
from server.customers.normalise import fold as fold_case_and_accents

SETTING = config.SENSITIVE_LEXICON
DEFAULT_LEXICON = Path(__file__).with_name("sensitive_lexicon.json")

_WORD = re.compile(r"\w+")
# Ligatures have no decomposition: "sœur" would never meet "soeur" without this.
_UNFOLDED = str.maketrans({"\u2019": "'", "\u2018": "'", "\u02bc": "'", "`": "'", "\u0153": "oe",
                           "\u00e6": "ae"})
_TERM_PARTS = {"*": r"\w*", "-": r"[\s\-]?", " ": r"[\s\-]+"}
_CATEGORY_KEYS = {"terms", "near", "except", "patterns", "detectors", "replace"}
_NEAR_KEYS = {"terms", "context", "within"}


class LexiconError(ValueError):
    """The lexicon file cannot be used; the message names the file and the fault."""


def fold(text: str) -> str:
    """The text as the lexicon reads it: no case, no accents, no ligatures, straight quotes."""
    return fold_case_and_accents(text).translate(_UNFOLDED)


# --- Numbers that must never travel --------------------------------------------------

_DIGIT_GROUPS = re.compile(r"(?<![\w+\-])\d+(?:[ \-]\d+)*(?![\w\-])")
_NINO = re.compile(r"(?<!\w)(?!bg|gb|kn|nk|nt|tn|zz)[a-ceghj-pr-tw-z][a-ceghj-npr-tw-z]"
                   r" ?\d\d ?\d\d ?\d\d ?[a-d](?!\w)")
_NIR = re.compile(r"(?<![\w\-])([1-478])[ .]?(\d\d)[ .]?(0[1-9]|1[0-2]|[2-9]\d)[ .]?(\d\d|2[ab])"
                  r"[ .]?(\d{3})[ .]?(\d{3})[ .]?(\d\d)(?![\w\-])")
_PASSPORT = re.compile(r"(?<!\w)passe?ports?\W+(?:(?:no|nr|n|num|number|numero)\W+)?"
                       r"([a-z0-9]{8,9})(?!\w)")


def _luhn(digits: str) -> bool:
    total = 0
    for position, digit in enumerate(int(d) for d in reversed(digits)):
        total += digit if position % 2 == 0 else (digit * 2 - 9 if digit > 4 else digit * 2)
    return total % 10 == 0


def _ean13(digits: str) -> bool:
    weighted = sum(int(d) * (3 if i % 2 else 1) for i, d in enumerate(digits[:12]))
    return len(digits) == 13 and (10 - weighted % 10) % 10 == int(digits[12])


def _is_card(digits: str) -> bool:
    if len(digits) == 13 and (digits[0] != "4" or _ean13(digits)):
        return False  # 13 digits: only old Visa cards, and far more often a barcode
    return 13 <= len(digits) <= 19 and digits[0] in "23456" and _luhn(digits)


def _has_card(text: str) -> bool:
    """A card number is written whole or in groups of 3 digits or more ("4532 0151 …",
    "3714 496353 98431"); an expiry or a size after it ("… 0366 09/27") is its own
    group, and a list of sizes ("38 40 42 …") never makes one."""
    for run in _DIGIT_GROUPS.finditer(text):
        groups = re.split(r"[ \-]", run.group())
        for first in range(len(groups)):
            digits = ""
            for group in groups[first:]:
                if len(group) < 3 and len(groups) > 1:
                    break
                digits += group
                if len(digits) > 19:
                    break
                if _is_card(digits):
                    return True
    return False


def _is_nir(match: re.Match) -> bool:
    *body, key = match.groups()
    department = {"2a": "19", "2b": "18"}.get(body[3], body[3])  # Corsica, as INSEE keys it
    return 97 - int("".join(body[:3] + [department] + body[4:])) % 97 == int(key)


DETECTORS: dict[str, Callable[[str], bool]] = {
    "payment_card": _has_card,
    "uk_nino": lambda text: _NINO.search(text) is not None,
    "fr_nir": lambda text: any(_is_nir(m) for m in _NIR.finditer(text)),
    "passport": lambda text: any(sum(c.isdigit() for c in m.group(1)) >= 6
                                 for m in _PASSPORT.finditer(text)),
}


# --- Compiled categories -------------------------------------------------------------

def _term(term: str) -> str:
    return "".join(_TERM_PARTS.get(part, re.escape(part))
                   for part in re.split(r"([*\- ])", fold(term)) if part)


def _words(terms: Iterable[str], patterns: Iterable[str] = ()) -> re.Pattern | None:
    alternatives = [rf"(?<!\w)(?:{'|'.join(map(_term, terms))})(?!\w)"] if terms else []
    alternatives += [f"(?:{pattern})" for pattern in patterns]
    return re.compile("|".join(alternatives)) if alternatives else None


@dataclass(frozen=True)
class NearRule:
    terms: re.Pattern
    context: re.Pattern
    within: int

    def found_in(self, text: str) -> bool:
        """A term with a context term no more than `within` words before or after it.
        Word positions, not text windows: a huge hostile body stays linear."""
        contexts = [m.span() for m in self.context.finditer(text)]
        if not contexts or self.terms.search(text) is None:
            return False
        starts = [m.start() for m in _WORD.finditer(text)]

        def word(position: int) -> int:
            return bisect.bisect_right(starts, position) - 1

        spans = [(word(start), word(end - 1)) for start, end in contexts]
        firsts = [first for first, _ in spans]
        for match in self.terms.finditer(text):
            low = word(match.start()) - self.within
            high = word(match.end() - 1) + self.within
            index = bisect.bisect_left(firsts, low)
            while index < len(spans) and spans[index][0] <= high:
                if spans[index][1] <= high:
                    return True
                index += 1
        return False


@dataclass(frozen=True)
class Category:
    name: str
    words: re.Pattern | None
    near: tuple[NearRule, ...]
    masks: re.Pattern | None
    detectors: tuple[Callable[[str], bool], ...]

    def found_in(self, text: str) -> bool:
        # Blanking the exceptions can only take matches away: most notes match
        # nothing, so they are spared the blanking.
        if not self._matches(text):
            return False
        return self.masks is None \
            or self._matches(self.masks.sub(lambda m: " " * len(m.group()), text))

    def _matches(self, text: str) -> bool:
        return bool(self.words and self.words.search(text)) \
            or any(rule.found_in(text) for rule in self.near) \
            or any(detect(text) for detect in self.detectors)


@dataclass(frozen=True)
class Scanner:
    categories: tuple[Category, ...]

    def categories_in(self, text: str) -> list[str]:
        folded = fold(text)
        return [category.name for category in self.categories if category.found_in(folded)]


# --- Loading -------------------------------------------------------------------------

def _strings(value: object) -> bool:
    return isinstance(value, list) and all(isinstance(item, str) for item in value)


def _fault(rules: object) -> str | None:
    """What is wrong with one category's rules, if anything."""
    if rules is None:
        return None
    if not isinstance(rules, dict):
        return "expected an object, or null to drop the category"
    rules = {key: value for key, value in rules.items() if not key.startswith("_")}
    if set(rules) - _CATEGORY_KEYS:
        return f"unknown keys {sorted(set(rules) - _CATEGORY_KEYS)}"
    if not all(_strings(rules.get(key, [])) for key in ("terms", "except", "patterns",
                                                         "detectors")):
        return "terms, except, patterns and detectors are lists of strings"
    if set(rules.get("detectors", [])) - set(DETECTORS):
        return f"unknown detectors; known: {sorted(DETECTORS)}"
    near = rules.get("near", [])
    if not isinstance(near, list) or not all(
            isinstance(rule, dict) and set(rule) == _NEAR_KEYS and _strings(rule["terms"])
            and _strings(rule["context"]) and rule["terms"] and rule["context"]
            and type(rule["within"]) is int and rule["within"] >= 1 for rule in near):
        return 'near is a list of {"terms": [...], "context": [...], "within": N >= 1}'
    return None


def _read(path: Path) -> tuple[dict, bool]:
    """The file's categories, and whether they replace the default ones."""
    try:
        spec = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise LexiconError(f"{path}: {error}") from None
    categories = spec.get("categories") if isinstance(spec, dict) else None
    if not isinstance(categories, dict) \
            or {key for key in spec if not key.startswith("_")} - {"categories", "replace"}:
        raise LexiconError(f'{path}: expected {{"categories": {{...}}, "replace": false}}')
    for name, rules in categories.items():
        if (fault := _fault(rules)) is not None:
            raise LexiconError(f"{path}: category {name!r}: {fault}")
    return categories, bool(spec.get("replace"))


def _merge(base: dict, extra: dict) -> dict:
    merged = {name: dict(rules) for name, rules in base.items() if rules is not None}
    for name, rules in extra.items():
        if rules is None:
            merged.pop(name, None)
        elif rules.get("replace") or name not in merged:
            merged[name] = rules
        else:
            for key, values in rules.items():
                if not key.startswith("_"):
                    merged[name][key] = [*merged[name].get(key, []), *values]
    return merged


def _compile(name: str, rules: dict, source: Path) -> Category:
    try:
        return Category(
            name, _words(rules.get("terms", ()), rules.get("patterns", ())),
            tuple(NearRule(_words(rule["terms"]), _words(rule["context"]), rule["within"])
                  for rule in rules.get("near", ())),
            _words(rules.get("except", ())),
            tuple(DETECTORS[detector] for detector in rules.get("detectors", ())))
    except re.error as error:
        raise LexiconError(f"{source}: category {name!r}: {error}") from None


def lexicon_categories(path: str | os.PathLike | None = None) -> dict[str, dict]:
    """The categories to scan for, in scanning order: the default lexicon's, extended or
    replaced by the file at `path` if given (dropped ones and "_" comments left out).
    The tablet app is sent these, so it flags exactly what the server flags."""
    categories, _ = _read(DEFAULT_LEXICON)
    if path:
        extra, replace = _read(Path(path))
        categories = _merge({} if replace else categories, extra)
    return {name: rules for name, rules in categories.items()
            if rules is not None and not name.startswith("_")}


def load(path: str | os.PathLike | None = None) -> Scanner:
    """The default lexicon, extended or replaced by the file at `path` if given."""
    source = Path(path) if path else DEFAULT_LEXICON
    return Scanner(tuple(_compile(name, rules, source)
                         for name, rules in lexicon_categories(path).items()))


@functools.lru_cache(maxsize=8)
def _cached(path: str | None) -> Scanner:
    return load(path)


def scanner() -> Scanner:
    """The scanner the configuration asks for, compiled once per process (per path)."""
    return _cached(config.sensitive_lexicon())


def categories_in(text: str) -> list[str]:
    """The sensitive categories the text seems to touch, in a stable order."""
    return scanner().categories_in(text)
