"""The reports (the weekly page, the item mirror the goal board counts, the assessment's
snapshots; the board itself is served by the web edge), as the service composes them."""

from plugin.process.rule import Rule
from plugin.rules.reports import config, mirror, snapshots, weekly, wording
from plugin.spine.schedule import Schedule

RULE = Rule(
    "reports",
    wording.WORDING,
    router=mirror.router,
    schedule=Schedule(weekly.schedule, mirror.schedule, snapshots.schedule),
    tables=(
        weekly.weekly_reports,
        mirror.item_mirror,
        mirror.mirror_state,
        snapshots.assessment_snapshots,
        snapshots.assessment_stars,
    ),
    sections=(config.SECTION,),
)
