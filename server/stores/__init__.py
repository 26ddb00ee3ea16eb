"""Stores, devices, associates and API keys: who is calling, and what they may reach."""
