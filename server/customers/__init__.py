"""Customers, their contact points and preferences: one customer across all stores."""
