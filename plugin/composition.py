"""Compose every rule in one place: the router jobs go through, the periodic work, the tables.

A new rule is a module with its own `router` (and `schedule`, and tables if it keeps any); it
joins the service by being named here, and nowhere else.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Table

from plugin.process.wording import Wording
from plugin.spine.routing import Router
from plugin.spine.schedule import Schedule


@dataclass(frozen=True)
class Composition:
    """Everything the rules bring: handlers by event, periodic work, the tables they keep and
    what they write for people."""

    router: Router
    schedule: Schedule
    tables: tuple[Table, ...]
    wordings: dict[str, Wording]


def compose() -> Composition:
    """Return the composition of all rules; imported late so each rule stays its own module."""
    from plugin.atlassian import jira_site, marks
    from plugin.process import asks, audit, notices
    from plugin.process.wording import SHARED
    from plugin.rules.escalation import escalation
    from plugin.rules.escalation import wording as escalation_wording
    from plugin.rules.minutes import meeting_records, minutes
    from plugin.rules.minutes import wording as minutes_wording
    from plugin.rules.ownership import ownership, stage_gate
    from plugin.rules.ownership import wording as ownership_wording
    from plugin.rules.reports import weekly
    from plugin.rules.reports import wording as reports_wording
    from plugin.rules.trees import tree_records, trees
    from plugin.rules.trees import wording as trees_wording
    from plugin.spine import budget, deliveries, leases, store

    return Composition(
        router=Router(
            trees.router, ownership.router, stage_gate.router, escalation.router, minutes.router
        ),
        schedule=Schedule(
            trees.schedule,
            ownership.schedule,
            stage_gate.schedule,
            escalation.schedule,
            minutes.schedule,
            weekly.schedule,
        ),
        tables=(
            deliveries.deliveries,
            jira_site.jira_site,
            notices.notices,
            audit.audit,
            tree_records.tree_requests,
            tree_records.tree_items,
            stage_gate.gate_reverts,
            asks.asks,
            leases.leases,
            budget.jira_budget,
            marks.issue_marks,
            meeting_records.meetings,
            meeting_records.meeting_actions,
            weekly.weekly_reports,
            store.health_probe,
        ),
        wordings={
            "shared": SHARED,
            "trees": trees_wording.WORDING,
            "ownership": ownership_wording.WORDING,
            "escalation": escalation_wording.WORDING,
            "minutes": minutes_wording.WORDING,
            "reports": reports_wording.WORDING,
        },
    )


def build_router() -> Router:
    """The router of all rules (the default of `crossdept worker --router`)."""
    return compose().router
