"""The escalation rule, as the service composes it (the asks it keeps are shared: plugin.process.asks)."""

from plugin.process.rule import Rule
from plugin.rules.escalation import escalation, wording

RULE = Rule("escalation", wording.WORDING, router=escalation.router, schedule=escalation.schedule)
