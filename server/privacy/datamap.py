"""One map of personal data: every column of every table, classified in one place.

Each column that holds personal data names whose it is (`customer`, or `staff` for the
people at the counter), its category, how rows find their customer (`owner`), and
what erasure does to it. Every other column is listed as not personal. A test fails
when a table gains a column this map does not classify, so nobody adds personal data
without deciding how it is exported and erased.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Personal:
    subject: str   # whose data: "customer" or "staff"
    category: str  # identity, contact, preferences, free_text, special_category, copy, link
    owner: str | None = None  # the column that names the customer, for customer data
    erasure: str = "keep"  # clear (set to the `erased` value), delete_row, keep (why below)
    erased: object = None
    why: str = ""


C = "customer"
PERSONAL: dict[tuple[str, str], Personal] = {
    ("customers", "given_name"): Personal(C, "identity", "id", "clear", ""),
    ("customers", "family_name"): Personal(C, "identity", "id", "clear"),
    ("customers", "email"): Personal(C, "contact", "id", "clear"),
    ("customers", "phone"): Personal(C, "contact", "id", "clear"),
    ("customers", "postal_address"): Personal(C, "contact", "id", "clear"),
    ("customers", "preferences"): Personal(C, "preferences", "id", "clear", {}),
    ("customers", "name_key"): Personal(C, "identity", "id", "clear", ""),
    ("customers", "family_key"): Personal(C, "identity", "id", "clear"),
    ("customers", "phone_reversed"): Personal(C, "contact", "id", "clear"),
    ("customers", "field_versions"): Personal(C, "link", "id", "clear", {},
                                              "names which fields were ever set"),
    ("requests", "description"): Personal(C, "free_text", "customer_id", "clear",
                                          why="free text may describe the person; the "
                                              "product (sku, size, colour) stays for "
                                              "demand statistics"),
    ("notes", "body"): Personal(C, "free_text", "customer_id", "delete_row"),
    ("notes", "sensitive_categories"): Personal(C, "special_category", "customer_id",
                                                "delete_row"),
    ("changes", "body"): Personal(C, "copy", "customer_id", "delete_row",
                                  why="copies of records as they were; superseded by the "
                                      "erasure's own changes"),
    ("changes", "history"): Personal(C, "copy", "customer_id", "delete_row",
                                     why="a request's status history as it was at a change "
                                         "(reasons, who moved it); goes with the change"),
    ("request_search", "text"): Personal(C, "copy", "request_id", "delete_row",
                                         why="a request's text for search (its description "
                                             "among it); dropped with the request's free "
                                             "text, then written again from what is left"),
    ("suppressions", "digest"): Personal(C, "contact", None, "keep",
                                         why="a SHA-256 digest kept so an erased person is "
                                             "never contacted again"),
    ("customers", "id"): Personal(C, "link", "id", "keep",
                                  why="the id stays on an empty record so requests keep "
                                      "their demand statistics and late pushes are refused"),
    # The people at the counter: their codes and names, never a customer's data.
    ("associates", "display_name"): Personal("staff", "identity"),
    ("associates", "code"): Personal("staff", "identity"),
    ("customers", "captured_by"): Personal("staff", "identity"),
    ("requests", "captured_by"): Personal("staff", "identity"),
    ("notes", "captured_by"): Personal("staff", "identity"),
    ("consent_events", "captured_by"): Personal("staff", "identity"),
    ("request_status_changes", "changed_by"): Personal("staff", "identity"),
    ("users", "email"): Personal("staff", "identity"),
    ("users", "display_name"): Personal("staff", "identity"),
}

# Columns that hold no personal data (ids, states, product data, times, keys' digests).
NOT_PERSONAL: dict[str, set[str]] = {
    "change_counter": {"id", "value"},
    "change_retention": {"id", "pruned_through", "pruned_at"},
    "changes": {"seq", "entity", "record_id", "op", "version", "store_id", "customer_id",
                "reason", "committed_at", "superseded"},
    "notices": {"id", "key", "language", "number", "title", "text", "value_exchange",
                "purposes", "channels", "requires_reconsent", "published_at", "version"},
    "stores": {"id", "code", "name", "country", "timezone", "region", "created_at", "version"},
    "suppressions": {"id", "kind", "reason", "created_at"},
    "associates": {"id", "store_id", "active", "created_at", "version"},
    "customers": {"home_store_id", "captured_at", "created_at", "updated_at", "erased_at",
                  "restricted_at", "merged_into_id", "merged_at", "version"},
    "devices": {"id", "store_id", "name", "created_at", "version"},
    "api_keys": {"id", "prefix", "digest", "scope", "label", "store_id", "device_id",
                 "channel", "created_at", "revoked_at"},
    "applied_mutations": {"mutation_id", "device_id", "result", "applied_at"},
    "consent_events": {"id", "customer_id", "ordinal", "purpose", "channel", "action",
                       "notice_version_id", "method", "store_id", "device_id", "captured_at",
                       "received_at", "expires_at", "version"},
    "consent_state": {"customer_id", "purpose", "channel", "event_id"},
    "requests": {"id", "customer_id", "store_id", "type", "status", "status_reason", "sku",
                 "size", "colour", "category", "quantity", "due_date", "notify_channels",
                 "key_id", "captured_at", "created_at", "updated_at", "closed_at", "version",
                 "field_versions"},
    "store_customers": {"store_id", "customer_id", "since"},
    "request_search": {"request_id"},
    "search_position": {"id", "seq", "indexed_at"},
    "notes": {"id", "customer_id", "request_id", "store_id", "sensitive", "captured_at",
              "created_at", "updated_at", "version", "field_versions"},
    "request_status_changes": {"id", "request_id", "from_status", "to_status", "reason",
                               "key_id", "changed_at"},
    "follow_ups": {"id", "customer_id", "request_id", "purpose", "channel", "topic",
                   "trigger", "status", "reasons", "obligations", "not_before", "claim_id",
                   "lease_until", "claimed_by", "attempts", "outcome", "reported_claim_id",
                   "reported_outcome", "created_at", "updated_at", "version"},
    "contacts": {"id", "customer_id", "channel", "purpose", "topic", "follow_up_id",
                 "request_id", "sent_at"},
    "webhook_subscriptions": {"id", "url", "events", "active", "max_attempts", "created_at",
                              "deactivated_at", "version"},
    "webhook_deliveries": {"id", "subscription_id", "seq", "event", "payload", "status",
                           "attempts", "next_attempt_at", "lease_until", "claimed_by",
                           "last_status_code", "last_error", "delivered_at", "created_at",
                           "version"},
    "access_log": {"id", "customer_id", "customer_ids", "action", "what", "scope", "key_id",
                   "store_id", "device_id", "at"},
    "erasure_propagation": {"id", "customer_id", "system", "created_at",
                            "acknowledged_at"},
    "users": {"id", "role", "store_id", "password_hash", "session_epoch", "failed_logins",
              "locked_until", "last_login_at", "disabled_at", "created_at"},
    "privacy_requests": {"id", "customer_id", "kind", "status", "received_at", "due_at",
                         "completed_at", "version"},
    "webhook_attempts": {"id", "delivery_id", "subscription_id", "number", "at",
                         "status_code", "error", "duration_ms"},
}


@dataclass(frozen=True)
class Held:
    """A table with rows about one customer, and how a row names them."""

    section: str
    table: str
    owner: str  # a column of this table, or "request_id" (through the customer's requests)
    hidden: frozenset[str] = frozenset()  # internal columns an export leaves out
    # A list column naming several customers a row is also about (never in the export:
    # it names the others).
    among: str | None = None


INTERNAL = frozenset({"name_key", "family_key", "phone_reversed", "field_versions",
                      "version"})
# Everything held about a customer, section by section: the access export reads these,
# and a test fails when a table that names a customer is missing here.
HELD: tuple[Held, ...] = (
    Held("profile", "customers", "id", INTERNAL),
    Held("requests", "requests", "customer_id", INTERNAL | {"key_id"}),
    Held("request_history", "request_status_changes", "request_id", frozenset({"key_id"})),
    Held("notes", "notes", "customer_id", INTERNAL),
    Held("consent_events", "consent_events", "customer_id", frozenset({"version"})),
    Held("contacts_made", "contacts", "customer_id"),
    Held("privacy_requests", "privacy_requests", "customer_id", frozenset({"version"})),
    Held("who_accessed", "access_log", "customer_id", frozenset({"id"}), among="customer_ids"),
    Held("follow_ups", "follow_ups", "customer_id", frozenset(
        {"claim_id", "claimed_by", "reported_claim_id", "reported_outcome", "version"})),
)
# Tables that name a customer but hold nothing an export adds: why, for each.
NOT_EXPORTED = {
    "erasure_propagation": "exists only once the customer is erased: ids and systems",
    "changes": "copies of the records above, as they were at each change",
    "consent_state": "derived from the consent events (the export shows the state too)",
    "store_customers": "which stores' tablets hold the customer: shown as 'stores'",
    "request_search": "each request's text for search: a copy of the requests section's",
}


def customer_columns() -> dict[str, dict[str, Personal]]:
    """The customer's personal columns, by table."""
    found: dict[str, dict[str, Personal]] = {}
    for (table, column), entry in PERSONAL.items():
        if entry.subject == "customer":
            found.setdefault(table, {})[column] = entry
    return found
