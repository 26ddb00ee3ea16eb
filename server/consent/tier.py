"""The customer's sharing tier: what they chose to share, and what it gets them.

The base service (requests, holds, orders, updates about them) is never gated:
every tier has it. Pure: given preferences and the live grants.
"""

from __future__ import annotations

from typing import Any

from server.consent import purposes

BENEFITS = {
    "basic": ["Updates about your requests, on the channels you choose",
              "Holds, special orders and alterations in every store"],
    "enhanced": ["Offers in your sizes, colours and brands",
                 "Early access to sales in your stores"],
    "full": ["Personal picks from our stylists", "A reward on your birthday"],
}
UNLOCK = {
    "enhanced": "Share your sizes or favourite brands, or say yes to offers",
    "full": "Share your preferences and say yes to personal recommendations",
}
TIERS = ("basic", "enhanced", "full")
TASTE = ("sizes", "brands", "colours", "categories")


def sharing(preferences: dict[str, Any], live_purposes: set[str]) -> dict[str, Any]:
    shares_taste = any(preferences.get(key) for key in TASTE)
    markets = any(purposes.root(p) == "marketing" for p in live_purposes)
    if shares_taste and "personalisation" in live_purposes:
        tier = "full"
    elif shares_taste or markets:
        tier = "enhanced"
    else:
        tier = "basic"
    reached = TIERS[:TIERS.index(tier) + 1]
    return {"tier": tier,
            "benefits": [benefit for t in reached for benefit in BENEFITS[t]],
            "unlock": {t: UNLOCK[t] for t in TIERS if t not in reached},
            "rewards_asked_for": list(preferences.get("rewards") or [])}
