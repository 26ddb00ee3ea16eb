"""The Blackbook tablet / CRM client (see issue: the Python tablet client)."""
