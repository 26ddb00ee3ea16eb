"""Pieces every domain shares: column types, errors, paging, request context."""
