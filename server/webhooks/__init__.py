"""Webhooks: signed deliveries of the CRM feed's events, from an outbox written at commit."""
