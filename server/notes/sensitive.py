"""Does a note look like it holds special-category data (GDPR art. 9)?

A keyword scan, deliberately eager: a false alarm costs the assistant a
rephrase; a miss sends someone's pregnancy to a marketing system. Flagged notes
never leave the service layer for marketing audiences.
"""

from __future__ import annotations

import re

CATEGORIES: dict[str, tuple[str, ...]] = {
    "health": (r"sick", r"ill(ness)?", r"diabet\w*", r"cancer", r"chemo\w*", r"surgery",
               r"operation", r"hospital\w*", r"disab\w*", r"wheelchair", r"allerg\w*",
               r"depress\w*", r"anxiety", r"medication", r"injur\w*", r"eczema", r"mastectomy",
               r"prosthe\w*", r"hearing aid", r"blind", r"deaf", r"adhd", r"autis\w*"),
    "pregnancy": (r"pregnan\w*", r"expecting", r"maternity", r"due date for (the )?baby",
                  r"miscarr\w*", r"ivf"),
    "religion": (r"religio\w*", r"church", r"mosque", r"synagogue", r"temple", r"halal",
                 r"kosher", r"ramadan", r"muslim", r"christian", r"jewish", r"hindu", r"sikh",
                 r"buddhis\w*"),
    "ethnicity": (r"ethnic\w*", r"race", r"racial"),
    "sexual_orientation": (r"gay", r"lesbian", r"bisexual", r"transgender", r"sexual\w*"),
    "politics": (r"politic\w*", r"labour party", r"conservative party", r"trade union",
                 r"union member\w*"),
    "criminal": (r"arrest\w*", r"convict\w*", r"prison", r"criminal record"),
    "bereavement": (r"funeral", r"bereave\w*", r"passed away", r"died"),
}

_PATTERNS = {name: re.compile(r"\b(" + "|".join(words) + r")\b", re.IGNORECASE)
             for name, words in CATEGORIES.items()}


def categories_in(text: str) -> list[str]:
    """The sensitive categories the text seems to touch, in a stable order."""
    return [name for name, pattern in _PATTERNS.items() if pattern.search(text)]
