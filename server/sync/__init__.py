"""Offline sync (SYNC.md): idempotent pushes of mutations, pulls of changes after a cursor."""
