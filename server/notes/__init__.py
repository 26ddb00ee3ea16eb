"""Free-text notes about a customer or a request, scanned for sensitive content."""
