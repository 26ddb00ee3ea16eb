"""Signing secrets and signatures.

A subscription's secret is HMAC-SHA256(master key, "webhook:" + subscription id), in
hex: derived whenever needed, so it is stored nowhere and shown once, at creation.
Each delivery carries `X-Blackbook-Timestamp` (unix seconds) and
`X-Blackbook-Signature: sha256=<hex HMAC-SHA256(secret, "<timestamp>.<body>")>`; the
timestamp is signed so a receiver can refuse an old delivery replayed by someone else.
"""

from __future__ import annotations

import hashlib
import hmac
import time
import uuid

SCHEME = "sha256"
TOLERANCE_SECONDS = 300


def secret(master_key: str, subscription_id: uuid.UUID) -> str:
    message = f"webhook:{subscription_id}".encode()
    return hmac.new(master_key.encode(), message, hashlib.sha256).hexdigest()


def signature(secret_: str, timestamp: int, body: bytes) -> str:
    mac = hmac.new(secret_.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"{SCHEME}={mac.hexdigest()}"


def headers(secret_: str, event: str, delivery_id: uuid.UUID, body: bytes,
            timestamp: int) -> dict[str, str]:
    return {"Content-Type": "application/json", "X-Blackbook-Event": event,
            "X-Blackbook-Delivery": str(delivery_id),
            "X-Blackbook-Timestamp": str(timestamp),
            "X-Blackbook-Signature": signature(secret_, timestamp, body)}


def verify(secret_: str, timestamp: str, body: bytes, signed: str,
           now: float | None = None) -> bool:
    """What a receiver does: the signature matches and the timestamp is recent."""
    if not timestamp.isdigit():
        return False
    if abs((now if now is not None else time.time()) - int(timestamp)) > TOLERANCE_SECONDS:
        return False
    return hmac.compare_digest(signature(secret_, int(timestamp), body), signed)
