"""The CRM feed: every store's changes, in commit order, reduced to what the CRM may hold."""
