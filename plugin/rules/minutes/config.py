"""The minutes rule's part of the rules file: `meetings` (which issues are meetings, when a
meeting counts as held, when its minutes are due)."""

from __future__ import annotations

from datetime import timedelta

from pydantic import Field

from plugin.process.config import Duration, Model, Rules, Section, Text


class MeetingFields(Model):
    """Fields of the meeting issue."""

    start: Text = Field(description="Date-time field: when the meeting starts.")
    attendees: Text = Field(description="Multi-user field: who attends.")
    organiser: Text | None = Field(
        default=None, description="User field of the organiser; default: the reporter."
    )
    end: Text | None = Field(
        default=None,
        description="Date-time field: when the meeting ends; default: its start + meetings.length.",
    )


class MeetingRules(Model):
    """Meetings: notice ahead, minutes within 24 hours (the guides)."""

    issue_type: Text
    fields: MeetingFields
    held_status: Text = Field(description="Status meaning the meeting took place.")
    notice: Duration = Field(default=timedelta(days=3), description="Minimum notice.")
    minutes_within: Duration = Field(
        default=timedelta(hours=24),
        description="Minutes are due this long after the meeting ends (the guides: 24 hours).",
    )
    length: Duration = Field(
        default=timedelta(hours=1),
        description="How long a meeting lasts when its issue says no end (fields.end): its "
        "end, and so its minutes' due time, is its start plus this.",
    )
    missed_after: Duration = Field(
        default=timedelta(hours=2),
        description="A meeting not marked held this long after its end is said once to its "
        "organiser: mark it held if it took place, else move or cancel it.",
    )
    max_actions: int = Field(
        default=20,
        ge=1,
        description="Action items one meeting's minutes may create; lines past it are named "
        "in the minutes' problem comment and create nothing.",
    )


SECTION: Section[MeetingRules | None] = Section(
    "meetings",
    MeetingRules | None,
    None,
    "Meetings whose minutes crossdept publishes to Confluence; off when absent.",
)


def meeting_rules(rules: Rules) -> MeetingRules | None:
    """The `meetings` section, or None when the rules file has none."""
    return SECTION.of(rules)


def configured_meetings(rules: Rules) -> MeetingRules:
    """The `meetings` section, where the minutes rule runs only because there is one."""
    found = SECTION.of(rules)
    if found is None:
        raise LookupError("the rules file has no meetings section")
    return found
