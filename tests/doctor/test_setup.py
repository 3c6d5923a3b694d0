"""Setup plans only additions, says them without secrets, and leaves the rest as steps by hand."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from plugin.atlassian.ports import Page
from plugin.atlassian.site_admin import ScreenField, Webhooks
from plugin.doctor.needs import SiteNeeds
from plugin.doctor.setup import WebhookAccess, apply_plan, plan_setup
from plugin.spine.errors import RefusedError
from tests.doctor.conftest import (
    DEPARTMENTS,
    PUBLIC_URL,
    RECEIVER,
    right_facts,
    right_project,
    with_project,
)

SECRET = "a-webhook-secret-0123456"
SIGNED = WebhookAccess(PUBLIC_URL, SECRET, None)


def bare_site(*, cloud: bool = True, version: str = "10.3.4") -> Any:
    """No webhook, no parent pages, 产品部 missing from 需求部门."""
    screens = dict(right_project().create_screens)
    request = dict(screens["跨部门协作需求"])
    request["customfield_10050"] = ScreenField(
        "customfield_10050", "需求部门", tuple(d for d in DEPARTMENTS if d != "产品部")
    )
    screens["跨部门协作需求"] = request
    facts = with_project(right_facts(cloud=cloud), create_screens=screens)
    return replace(facts, version=version, webhooks=Webhooks(), pages={}, may_edit={})


def test_on_a_right_site_there_is_nothing_to_do(needs: SiteNeeds) -> None:
    plan = plan_setup(needs, right_facts(), SIGNED, language="zh-CN")
    assert plan.changes == () and plan.by_hand == ()


def test_cloud_gets_options_a_signed_webhook_and_parent_pages(needs: SiteNeeds) -> None:
    plan = plan_setup(needs, bare_site(), SIGNED, language="zh-CN")
    assert [c.says for c in plan.changes] == [
        "add options 产品部 to 需求部门 (customfield_10050)",
        f"register the webhook crossdept to {RECEIVER} (project = XD), signed with "
        "CROSSDEPT_WEBHOOK_SECRET",
        "create the page 跨部门协作会议纪要 at the top of space XD",
        "create the page 项目进度跟踪 at the top of space XD",
    ]
    webhook = plan.changes[1].registration
    assert webhook["secret"] == SECRET and webhook["url"] == RECEIVER
    assert webhook["events"][-1] == "comment_deleted"
    assert all(SECRET not in change.says for change in plan.changes)
    assert "crossdept" in plan.changes[2].body


def test_data_center_adds_options_by_hand_and_signs_only_from_version_10(needs: SiteNeeds) -> None:
    ten = plan_setup(needs, bare_site(cloud=False), SIGNED, language="en")
    assert ten.by_hand[0].startswith("Administration → Issues → Custom fields → 需求部门")
    webhook = next(c for c in ten.changes if c.kind == "webhook")
    assert "secret" not in webhook.registration
    assert "paste CROSSDEPT_WEBHOOK_SECRET into its Secret field" in webhook.says

    nine = bare_site(cloud=False, version="9.12.15")
    unsigned = plan_setup(
        needs, nine, WebhookAccess(PUBLIC_URL, None, "shared-token-0123456"), language="en"
    )
    webhook = next(c for c in unsigned.changes if c.kind == "webhook")
    assert webhook.registration["url"] == RECEIVER + "?token=shared-token-0123456"
    assert "shared-token" not in webhook.says
    no_token = plan_setup(needs, nine, SIGNED, language="en")
    assert not any(c.kind == "webhook" for c in no_token.changes)
    assert any("cannot sign webhooks" in step for step in no_token.by_hand)


def test_an_existing_webhook_is_never_edited_and_no_address_means_a_step_by_hand(
    needs: SiteNeeds,
) -> None:
    broken = dict(right_facts().webhooks.registered[0], events=["jira:issue_created"])
    facts = replace(bare_site(), webhooks=Webhooks((broken,)))
    assert not any(
        c.kind == "webhook" for c in plan_setup(needs, facts, SIGNED, language="en").changes
    )
    unaddressed = plan_setup(needs, bare_site(), WebhookAccess(None, SECRET, None), language="en")
    assert any(step.startswith("set CROSSDEPT_PUBLIC_URL") for step in unaddressed.by_hand)


class Recorder:
    def __init__(self, refuse: str = "") -> None:
        self.refuse, self.done = refuse, []  # type: ignore[var-annotated]

    def field_context(self, field_id: str) -> str | None:
        return "10200"

    def add_options(self, field_id: str, context_id: str, values: Any) -> None:
        if self.refuse == "options":
            raise RefusedError("POST option: HTTP 403", 403, ["no admin"])
        self.done.append(("options", field_id, tuple(values)))

    def register_webhook(self, registration: Mapping[str, Any]) -> Mapping[str, Any]:
        self.done.append(("webhook", registration["url"]))
        return {}

    def create_page(self, space: str, title: str, body: str, **_: Any) -> Page:
        self.done.append(("page", title))
        return Page("9", title, 1, "")


def test_one_refusal_does_not_stop_the_other_changes(needs: SiteNeeds) -> None:
    plan = plan_setup(needs, bare_site(), SIGNED, language="zh-CN")
    recorder = Recorder(refuse="options")
    outcomes = apply_plan(plan, recorder, recorder)
    assert [outcome for _change, outcome in outcomes] == [
        "refused: no admin",
        "done",
        "done",
        "done",
    ]
    assert recorder.done == [
        ("webhook", RECEIVER),
        ("page", "跨部门协作会议纪要"),
        ("page", "项目进度跟踪"),
    ]
