"""Precision and recall of the sensitive-note scanner on the labelled notes, and its speed.

    .venv/bin/python -m tests.benchmarks.scanner_eval [--lexicon PATH] [--misses]

The notes (tests/notes/data/labelled_notes.jsonl) were written for this: store-counter
notes in English and French, about half clean — many of them the traps a keyword scan
falls into ("ill-fitting", "race day", "enceinte Bluetooth", "Veuve Clicquot") — and half
sensitive, with a category list each.

  overall       note level, the figure that matters: a note is sensitive when it has any
                category; a flagged clean note is a false positive, an unflagged
                sensitive one a false negative, whatever categories were named.
  <category>    a note counts when labelled with (or flagged for) that category, so a
                sensitive note flagged for the wrong category costs both categories.
  notes/s       categories_in over the whole set, best of --runs passes, one core.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from server.notes import sensitive

LABELLED_NOTES = Path(__file__).parents[1] / "notes" / "data" / "labelled_notes.jsonl"

Scan = Callable[[str], list[str]]


@dataclass
class Score:
    true_positives: int = 0
    false_positives: int = 0
    false_negatives: int = 0
    true_negatives: int = 0

    def add(self, expected: bool, found: bool) -> None:
        if expected and found:
            self.true_positives += 1
        elif found:
            self.false_positives += 1
        elif expected:
            self.false_negatives += 1
        else:
            self.true_negatives += 1

    @property
    def precision(self) -> float:
        flagged = self.true_positives + self.false_positives
        return self.true_positives / flagged if flagged else 1.0

    @property
    def recall(self) -> float:
        sensitive = self.true_positives + self.false_negatives
        return self.true_positives / sensitive if sensitive else 1.0


def labelled_notes(path: Path = LABELLED_NOTES) -> list[dict]:
    with path.open(encoding="utf-8") as lines:
        return [json.loads(line) for line in lines if line.strip()]


def evaluate(scan: Scan, notes: Iterable[dict]) -> dict[str, Score]:
    """Scores keyed "overall", "overall (<language>)", then each category by name."""
    results = [(set(note["categories"]), set(scan(note["text"])), note["language"])
               for note in notes]
    languages = sorted({language for _, _, language in results})
    categories = sorted(set().union(*(expected | found for expected, found, _ in results)))
    scores = {name: Score() for name in
              ["overall", *(f"overall ({language})" for language in languages), *categories]}
    for expected, found, language in results:
        for name in ("overall", f"overall ({language})"):
            scores[name].add(bool(expected), bool(found))
        for category in categories:
            scores[category].add(category in expected, category in found)
    return scores


def table(scores: dict[str, Score]) -> str:
    rows = [f"{'':20} {'precision':>9} {'recall':>7} {'TP':>5} {'FP':>4} {'FN':>4} {'TN':>5}"]
    rows += [f"{name:20} {score.precision:9.3f} {score.recall:7.3f} {score.true_positives:5d} "
             f"{score.false_positives:4d} {score.false_negatives:4d} {score.true_negatives:5d}"
             for name, score in scores.items()]
    return "\n".join(rows)


def misses(scan: Scan, notes: Iterable[dict]) -> list[str]:
    return [f"{sorted(note['categories'])} flagged {sorted(found)}: {note['text']}"
            for note in notes
            if sorted(found := scan(note["text"])) != sorted(note["categories"])]


def notes_per_second(scan: Scan, notes: list[dict], runs: int = 5) -> float:
    texts = [note["text"] for note in notes]
    best = float("inf")
    for _ in range(runs):
        start = time.perf_counter()
        for text in texts:
            scan(text)
        best = min(best, time.perf_counter() - start)
    return len(texts) / best


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lexicon", help="a lexicon file extending the default one")
    parser.add_argument("--notes", type=Path, default=LABELLED_NOTES)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--misses", action="store_true", help="list every note scored wrong")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    scan = sensitive.load(args.lexicon).categories_in
    compiled = time.perf_counter() - started
    notes = labelled_notes(args.notes)
    clean = sum(not note["categories"] for note in notes)
    print(f"{len(notes)} labelled notes ({len(notes) - clean} sensitive, {clean} clean; "
          f"{sum(note['language'] == 'fr' for note in notes)} in French)\n")
    print(table(evaluate(scan, notes)))
    speed = notes_per_second(scan, notes, args.runs)
    print(f"\n{speed:,.0f} notes/s ({1e6 / speed:.0f} µs a note); lexicon compiled in "
          f"{compiled * 1000:.0f} ms")
    if args.misses:
        print("\n" + "\n".join(misses(scan, notes)))


if __name__ == "__main__":
    main()
