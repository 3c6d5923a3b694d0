"""The risks rule, as the service composes it."""

from plugin.process.rule import Rule
from plugin.rules.risks import config, risk_records, risks, wording

RULE = Rule(
    "risks",
    wording.WORDING,
    router=risks.router,
    tables=(risk_records.risk_warnings,),
    sections=(config.SECTION,),
)
