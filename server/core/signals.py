"""The signals a lower layer sends so that a higher one can react, without the lower
one importing it (STYLE.md, "Direction of dependencies").

Each signal is declared here once, saying who sends it and what a listener may do.
The package that reacts owns its listener and connects it from its `install()`,
called by the app factory: nothing is connected at import time. A listener runs in
the sender's transaction and flushes at most; it never commits. Signals are for
reactions whose order does not matter: a rule that must run in one order (erasure,
driven by the data map) is one function, not a signal.
"""

from __future__ import annotations

from blinker import Namespace

_signals = Namespace()

store_created = _signals.signal("store-created", doc="""
Sent by stores.service.create_store once the new store is flushed. The sender is the
Store; `session` is the session. A listener gives the new store's tablets what they
must start with (consent: the notices already published).""")

customer_merged = _signals.signal("customer-merged", doc="""
Sent by customers.merge while two records of one person become one, after the
survivor took the duplicate's missing fields and the duplicate's stores hold the
survivor, before the duplicate is marked merged. The sender is the duplicate Customer;
`into` is the survivor, `session` the session, `actor` who merged, `result` the
Merged summary (a listener counts what it moved there). Each package moves its own
rows from the duplicate to the survivor (as Indico's `users.merged`), recording the
changes it makes; privacy clears the duplicate as the data map says.""")

request_status_changed = _signals.signal("request-status-changed", doc="""
Sent by customer_requests.service after a request's status changed (from the API or a
tablet's push), flushed, before its change is recorded. The sender is the
CustomerRequest (its new `status` set); `session` is given. A listener may add work for
the new status (contact: a follow-up when the request becomes ready, none once closed).""")

erasure_acknowledged = _signals.signal("erasure-acknowledged", doc="""
Sent by webhooks.delivery when a subscriber acknowledged (2xx) the delivery of a
customer's erasure, before the delivery's outcome is committed. The sender is the
subscription id; `session` and `customer_id` are given. privacy settles the
subscriber's propagation record in the same transaction.""")
