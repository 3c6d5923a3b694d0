"""The cadence rule, as the service composes it."""

from plugin.process.rule import Rule
from plugin.rules.cadence import cadence, config, filed_meetings, wording

RULE = Rule(
    "cadence",
    wording.WORDING,
    schedule=cadence.schedule,
    tables=(filed_meetings.filed_meetings,),
    sections=(config.SECTION,),
)
