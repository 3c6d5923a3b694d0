"""What a minutes line looks like (决议 / 待办 / 待定 / 记录人 / 实际时长, or Decision / Action /
Open / Recorder / Duration, after any bullet or number): the minutes rule reads them, and no other rule takes
what they mention for a question to anyone."""

from __future__ import annotations

import re

PREFIX = re.compile(r"^\s*(?:[*#•·\-]+\s*|\d+[.、)]\s*|[(（]\d+[)）]\s*)*")  # bullets, numbers
MARKERS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("decision", ("决议", "决定", "Decision")),
    ("action", ("待办", "行动", "Action")),
    ("open", ("待定", "Open")),
    ("recorder", ("记录人", "Recorder")),
    ("length", ("实际时长", "Duration")),
)
MARKER = re.compile(
    r"^(?P<word>"
    + "|".join(re.escape(w) for _, words in MARKERS for w in words)
    + r")\s*[:：]\s*(?P<rest>.*)$",
    re.IGNORECASE,
)


def without_minutes_lines(text: str) -> str:
    """The text without its minutes lines (决议/待办/待定/记录人): what they mention is a
    record of a meeting, not a question to anyone."""
    kept = [
        raw
        for raw in text.splitlines()
        if not MARKER.match(PREFIX.sub("", raw.strip(), count=1).strip())
    ]
    return "\n".join(kept)
