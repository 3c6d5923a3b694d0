"""Owner words become one person each; a department's people are its head, contact and members."""

from __future__ import annotations

import pytest

from plugin.process.owners import (
    Owner,
    OwnerUnresolvedError,
    department_people,
    departments_of,
    owner_label,
    resolve_owner,
)
from tests.fakes import CONTACTS, HEADS, PM, REQUESTER, load_default_rules

RULES = load_default_rules()


def resolve(spec: str, department: str | None = None, **people: str | None) -> Owner:
    known: dict[str, str | None] = {"requester": REQUESTER, "project_manager": PM}
    known.update(people)
    return resolve_owner(
        RULES,
        spec,
        department=department,
        requesting_department="市场部",
        requester=known["requester"],
        project_manager=known["project_manager"],
        stage_number=2,
    )


@pytest.mark.parametrize(
    ("spec", "department", "expected"),
    [
        ("requester", None, Owner(REQUESTER, "requester", "市场部")),
        ("pm", None, Owner(PM, "pm")),
        ("head", None, Owner(HEADS["市场部"], "head", "市场部")),
        ("head", "技术部", Owner(HEADS["技术部"], "head", "技术部")),
        ("contact", "财务部", Owner(CONTACTS["财务部"], "contact", "财务部")),
        ("产品部", None, Owner(HEADS["产品部"], "head", "产品部")),
    ],
)
def test_each_owner_word_resolves_to_one_person(
    spec: str, department: str | None, expected: Owner
) -> None:
    assert resolve(spec, department) == expected


@pytest.mark.parametrize(
    ("spec", "people", "problem"),
    [
        ("requester", {"requester": None}, "没有报告人"),
        ("pm", {"project_manager": None}, "未指定项目经理"),
        ("法务部", {}, "负责人“法务部”无法解析（阶段2）"),
    ],
)
def test_an_owner_that_cannot_be_resolved_says_why(
    spec: str, people: dict[str, str | None], problem: str
) -> None:
    with pytest.raises(OwnerUnresolvedError) as raised:
        resolve(spec, **people)
    assert problem in raised.value.problem


def test_labels_say_department_and_role() -> None:
    assert owner_label(RULES, Owner(HEADS["技术部"], "head", "技术部")) == "技术部 负责人"
    assert owner_label(RULES, Owner(PM, "pm")) == "项目经理"


def test_a_departments_people_are_its_head_contact_and_members() -> None:
    assert department_people(RULES, "技术部") >= {HEADS["技术部"], CONTACTS["技术部"]}
    assert department_people(RULES, "法务部") == frozenset()
    assert departments_of(RULES, HEADS["技术部"]) == ["技术部"]
    assert departments_of(RULES, PM) == []
