"""The reports (the weekly page, the item mirror the goal board counts; the board itself is served
by the web edge), as the service composes them."""

from plugin.process.rule import Rule
from plugin.rules.reports import config, mirror, weekly, wording
from plugin.spine.schedule import Schedule

RULE = Rule(
    "reports",
    wording.WORDING,
    router=mirror.router,
    schedule=Schedule(weekly.schedule, mirror.schedule),
    tables=(weekly.weekly_reports, mirror.item_mirror, mirror.mirror_state),
    sections=(config.SECTION,),
)
