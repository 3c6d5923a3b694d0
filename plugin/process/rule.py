"""What one rule brings to the service, so that it joins by being named once in plugin.composition."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Table

from plugin.process.config import Section
from plugin.process.wording import Wording
from plugin.spine.routing import Router
from plugin.spine.schedule import Schedule


@dataclass(frozen=True)
class Rule:
    """A rule's handlers by event, periodic work, the tables it keeps, what it writes for people
    and its own part of the rules file."""

    name: str
    wording: Wording
    router: Router = field(default_factory=Router)
    schedule: Schedule = field(default_factory=Schedule)
    tables: tuple[Table, ...] = ()
    sections: tuple[Section[Any], ...] = ()
