"""Compose every rule in one place: the router jobs go through, the periodic work, the tables,
what the rules write and the rules file's model.

A rule is a folder under plugin/rules with a `rule.py` saying what it brings (`RULE`, a
`plugin.process.rule.Rule`); it joins the service by being named in `RULES`, and nowhere else.
"""

from __future__ import annotations

import importlib
import os
from dataclasses import dataclass
from functools import cache

from sqlalchemy import Table

from plugin.process.config import Rules, rules_with
from plugin.process.rule import Rule
from plugin.process.rulesfile import load_rules as load_rules_file
from plugin.process.rulesfile import parse_rules as parse_rules_text
from plugin.process.rulesfile import render_rules_json_schema
from plugin.process.wording import SHARED, Wording
from plugin.spine.routing import Router
from plugin.spine.schedule import Schedule

RULES = (
    "trees",
    "ownership",
    "escalation",
    "minutes",
    "reports",
    "notify",
    "risks",
    "cadence",
)  # plugin/rules/<name>/rule.py


@dataclass(frozen=True)
class Composition:
    """Everything the rules bring: handlers by event, periodic work, the tables they keep and
    what they write for people."""

    router: Router
    schedule: Schedule
    tables: tuple[Table, ...]
    wordings: dict[str, Wording]


def rules() -> tuple[Rule, ...]:
    """Every rule, in the order their handlers run; imported late so each stays its own folder."""
    return tuple(importlib.import_module(f"plugin.rules.{name}.rule").RULE for name in RULES)


def compose() -> Composition:
    """Return the composition of all rules and of what they share."""
    from plugin.atlassian import jira_site, marks
    from plugin.process import asks, audit, notices
    from plugin.process.items import may_be_enforced
    from plugin.spine import budget, deliveries, leases, store

    shared_tables = (
        deliveries.deliveries,
        jira_site.jira_site,
        notices.notices,
        audit.audit,
        asks.asks,
        leases.leases,
        budget.jira_budget,
        marks.issue_marks,
        store.health_probe,
    )
    every = rules()
    return Composition(
        router=Router(*(rule.router for rule in every), admits=may_be_enforced),
        schedule=Schedule(*(rule.schedule for rule in every)),
        tables=shared_tables + tuple(table for rule in every for table in rule.tables),
        wordings={"shared": SHARED} | {rule.name: rule.wording for rule in every},
    )


@cache
def rules_model() -> type[Rules]:
    """The model of the whole rules file: the shared part and every rule's own section."""
    return rules_with(*(section for rule in rules() for section in rule.sections))


def load_rules(path: str | os.PathLike[str]) -> Rules:
    """Read and validate a rules file; ConfigError lists every problem with file and line."""
    return load_rules_file(path, rules_model())


def parse_rules(text: str, filename: str) -> Rules:
    """Validate rules from YAML text; `filename` is only used in the messages."""
    return parse_rules_text(text, filename, rules_model())


def rules_schema() -> str:
    """The exact text shipped as config/rules.schema.json."""
    return render_rules_json_schema(rules_model())


def build_router() -> Router:
    """The router of all rules (the default of `crossdept worker --router`)."""
    return compose().router
