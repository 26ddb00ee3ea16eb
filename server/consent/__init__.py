"""Consent: notices, the append-only ledger of consent events, and the state derived from it."""
