"""Privacy operations: the map of personal data, and erasure that reaches every copy."""
