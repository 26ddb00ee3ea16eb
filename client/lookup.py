"""Finding a customer in the local cache: by email, phone (any form, or its last 4+
digits) and name prefix, fast on 50,000 customers.

Each customer in the local view has a row of search keys; every search is one
index range scan. "Ends with 0123" is a prefix search on the reversed digits, and
a name prefix is a range on the folded name (the text between the prefix and the
prefix with its last character bumped), which SQLite answers from the index where
LIKE would scan.
"""

from __future__ import annotations

import json
import sqlite3
from typing import Any

from client import normalise

MIN_SUFFIX = 4
# CROSS JOIN fixes SQLite's join order: the search keys first, by their index, then
# each match's record; left to itself the planner walks every cached customer.
_SELECT = ("SELECT r.body FROM customer_keys k "
           "CROSS JOIN records r ON r.entity = 'customer' AND r.id = k.id")

SCHEMA = """
CREATE TABLE customer_keys (
    id TEXT PRIMARY KEY,
    email TEXT,
    phone TEXT,
    phone_reversed TEXT,
    name_key TEXT NOT NULL,
    family_key TEXT
) WITHOUT ROWID;
CREATE INDEX customer_keys_email ON customer_keys (email);
CREATE INDEX customer_keys_phone ON customer_keys (phone);
CREATE INDEX customer_keys_phone_reversed ON customer_keys (phone_reversed);
CREATE INDEX customer_keys_name ON customer_keys (name_key);
CREATE INDEX customer_keys_family ON customer_keys (family_key);
"""


def index(db: sqlite3.Connection, customer: dict[str, Any] | None, customer_id: str,
          region: str | None) -> None:
    """Keep the search keys of one customer in step with what the tablet shows."""
    if customer is None:
        db.execute("DELETE FROM customer_keys WHERE id = ?", (customer_id,))
        return
    raw_phone = customer.get("phone") or ""
    e164 = normalise.phone(raw_phone, region) if raw_phone else None
    db.execute(
        "INSERT OR REPLACE INTO customer_keys (id, email, phone, phone_reversed, name_key, "
        "family_key) VALUES (?, ?, ?, ?, ?, ?)",
        (customer_id,
         normalise.email(customer["email"]) if customer.get("email") else None,
         e164,
         normalise.digits_reversed(e164 or raw_phone) or None,
         normalise.name_key(customer.get("given_name"), customer.get("family_name")),
         normalise.fold(customer["family_name"]) if customer.get("family_name") else None))


def _after_prefix(prefix: str) -> str:
    """The smallest text greater than every text starting with `prefix`."""
    return prefix[:-1] + chr(ord(prefix[-1]) + 1)


def _phone_clause(value: str, region: str | None) -> tuple[str, tuple] | None:
    e164 = normalise.phone(value, region)
    if e164:
        return "k.phone = ?", (e164,)
    wanted = normalise.digits_reversed(value)
    if len(wanted) < MIN_SUFFIX:
        return None
    return "k.phone_reversed >= ? AND k.phone_reversed < ?", (wanted, _after_prefix(wanted))


def _contact_clauses(criteria: dict[str, str],
                     region: str | None) -> list[tuple[str, tuple]] | None:
    """SQL for the email and phone criteria; None when one of them can match nothing."""
    clauses = []
    if criteria.get("email"):
        clauses.append(("k.email = ?", (normalise.email(criteria["email"]),)))
    if criteria.get("phone"):
        phone = _phone_clause(criteria["phone"], region)
        if phone is None:
            return None
        clauses.append(phone)
    return clauses


def _select(db: sqlite3.Connection, clauses: list[tuple[str, tuple]], order: str,
            limit: int) -> list[dict[str, Any]]:
    where = " AND ".join(sql for sql, _ in clauses)
    params = tuple(p for _, values in clauses for p in values)
    # Only this module's fixed fragments go into the text; values are parameters.
    query = f"{_SELECT} WHERE {where} ORDER BY {order} LIMIT ?"  # noqa: S608
    return [json.loads(row[0]) for row in db.execute(query, (*params, limit))]


def find(db: sqlite3.Connection, criteria: dict[str, str], region: str | None,
         limit: int = 20) -> list[dict[str, Any]]:
    """Customers matching every criterion given: `email`, `phone` (a number in any
    form, read in the store's country, or its last 4+ digits), `name` (the start of
    the full name or of the family name).

    Name matches come as two runs, each read in index order so that a common
    prefix never sorts thousands of rows: full-name matches, then family-name ones.
    """
    clauses = _contact_clauses(criteria, region)
    name = normalise.fold(criteria.get("name") or "")
    if clauses is None or (criteria.get("name") and not name) or not (clauses or name):
        return []
    if not name:
        return _select(db, clauses, "k.name_key, k.id", limit)
    found: dict[str, dict[str, Any]] = {}
    for column in ("name_key", "family_key"):
        prefix = (f"k.{column} >= ? AND k.{column} < ?", (name, _after_prefix(name)))
        for customer in _select(db, [*clauses, prefix], f"k.{column}, k.id", limit):
            found.setdefault(customer["id"], customer)
    return list(found.values())[:limit]
