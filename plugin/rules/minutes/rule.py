"""The minutes rule, as the service composes it."""

from plugin.process.rule import Rule
from plugin.rules.minutes import config, meeting_records, minutes, wording

RULE = Rule(
    "minutes",
    wording.WORDING,
    router=minutes.router,
    schedule=minutes.schedule,
    tables=(meeting_records.meetings, meeting_records.meeting_actions),
    sections=(config.SECTION,),
)
