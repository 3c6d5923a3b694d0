"""The reports (the weekly page; the goal board is served by the web edge), as the service composes them."""

from plugin.process.rule import Rule
from plugin.rules.reports import config, weekly, wording

RULE = Rule(
    "reports",
    wording.WORDING,
    schedule=weekly.schedule,
    tables=(weekly.weekly_reports,),
    sections=(config.SECTION,),
)
