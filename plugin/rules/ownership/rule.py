"""The ownership rule (with its stage gate), as the service composes it."""

from plugin.process.rule import Rule
from plugin.rules.ownership import after_done, feedback, ownership, stage_gate, wording
from plugin.spine.routing import Router
from plugin.spine.schedule import Schedule

RULE = Rule(
    "ownership",
    wording.WORDING,
    router=Router(ownership.router, stage_gate.router, after_done.router, feedback.router),
    schedule=Schedule(ownership.schedule, stage_gate.schedule),
    tables=(stage_gate.gate_reverts,),
)
