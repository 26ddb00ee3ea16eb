"""The head-office dashboard: people (not keys) in a browser — users, roles, pages."""
