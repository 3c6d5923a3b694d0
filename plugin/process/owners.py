"""Who owns what: a rule's owner word resolved to one person, and who may own a department's item.

Every item has exactly one owner. The rules file names owners by role:
`requester` (the request's reporter), `pm`, `head` or `contact` (of the item's department, else
the requesting department), `decision_maker` (the request's first decision maker, else the
requester: without a decision maker the requesting side decides, as before), or a department key
(that department's head).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from plugin.process.config import Rules
from plugin.process.wording import department_name, say
from plugin.spine.errors import CrossdeptError

Role = Literal["head", "contact", "requester", "pm", "decision_maker"]


@dataclass(frozen=True)
class Owner:
    """The one person who owns an item, and why: their role and department."""

    account: str
    role: Role
    department: str | None = None


class OwnerUnresolvedError(CrossdeptError):
    """The owner word cannot become a person; `problem` says so in the configured language."""

    def __init__(self, problem: str) -> None:
        super().__init__(problem)
        self.problem = problem


def resolve_owner(
    rules: Rules,
    spec: str,
    *,
    department: str | None,
    requesting_department: str | None,
    requester: str | None,
    project_manager: str | None,
    stage_number: int,
    decision_makers: Sequence[str] = (),
) -> Owner:
    """Turn an owner word into one person, or raise OwnerUnresolvedError naming what is missing."""
    home = department or requesting_department
    if spec == "decision_maker" and decision_makers:
        return Owner(decision_makers[0], "decision_maker")
    if spec == "decision_maker":
        spec = "requester"
    if spec == "requester":
        if not requester:
            raise OwnerUnresolvedError(say(rules, "problem.no_reporter"))
        return Owner(requester, "requester", requesting_department)
    if spec == "pm":
        if not project_manager:
            raise OwnerUnresolvedError(say(rules, "problem.no_pm"))
        return Owner(project_manager, "pm")
    if spec == "head" and home in rules.departments:
        return Owner(rules.departments[home].head, "head", home)
    if spec == "contact" and home in rules.departments:
        return Owner(rules.departments[home].contact, "contact", home)
    if spec in rules.departments:
        return Owner(rules.departments[spec].head, "head", spec)
    raise OwnerUnresolvedError(say(rules, "problem.unknown_owner", owner=spec, number=stage_number))


def owner_label(rules: Rules, owner: Owner) -> str:
    """Say who an owner is, for people: department and role."""
    department = department_name(rules, owner.department) if owner.department else ""
    return say(rules, f"role.{owner.role}", department=department).strip()


def department_people(rules: Rules, key: str) -> frozenset[str]:
    """Everyone who may own a department's item: its head, its contact and its members."""
    department = rules.departments.get(key)
    if department is None:
        return frozenset()
    return frozenset({department.head, department.contact, *department.members})


def departments_of(rules: Rules, account: str) -> list[str]:
    """The departments a person belongs to (as head, contact or member), in the rules' order."""
    return list(rules.departments_by_person.get(account, ()))
