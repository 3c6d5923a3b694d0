"""Who may view and edit a request's pages: the lead department edits, the others view."""

from __future__ import annotations

from plugin.atlassian.ports import PageRestriction
from plugin.process.page_access import request_page_restriction
from tests.fakes import load_default_rules

RULES = load_default_rules()


class SiteGroups:
    """The two things the restriction reads from Confluence: its groups and crossdept's login."""

    def __init__(self, *groups: str) -> None:
        self.groups = frozenset(groups)

    def group_names(self) -> frozenset[str]:
        return self.groups

    def current_account(self) -> str:
        return "crossdept"


def restriction(*site: str, lead: str = "市场部") -> PageRestriction | None:
    return request_page_restriction(
        RULES,
        SiteGroups(*site),  # type: ignore[arg-type]
        lead=lead,
        collaborating=("技术部", "产品部", "市场部"),
        people=("pm", None, "crossdept"),
    )


def test_the_lead_department_edits_and_every_taking_part_views_with_crossdept_and_the_pm() -> None:
    assert restriction("市场部", "技术部", "产品部", "财务部") == PageRestriction(
        view_groups=("市场部", "技术部", "产品部"),
        edit_groups=("市场部",),
        people=("crossdept", "pm"),
    )


def test_a_department_whose_group_the_site_lacks_is_not_shut_out_the_page_stays_open() -> None:
    assert restriction("市场部", "技术部") is None  # 产品部 takes part and has no group there
    assert restriction() is None


def test_no_groups_in_the_rules_restrict_nothing() -> None:
    rules = RULES.model_copy(
        update={"confluence": RULES.confluence.model_copy(update={"groups": {}})}
    )  # type: ignore[union-attr]
    found = request_page_restriction(
        rules,
        SiteGroups("市场部"),
        lead="市场部",
        collaborating=(),
        people=(),  # type: ignore[arg-type]
    )
    assert found is None
