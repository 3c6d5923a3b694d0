"""The risks rule: an owner's risk warning becomes a 《风险预警表》 for the lead department."""

from __future__ import annotations

import re

from demo.harness import Demo, DemoError
from demo.scenes.service import finished
from plugin.process.mentions import MENTION
from plugin.process.wording import mention

WARNING = "风险预警\n类型：资源不足\n影响：联调推迟 3 天\n应对：申请外包测试支持\n等级：高\n触发：3 月 20 日前测试环境未就绪"


def scene_risk_warning(demo: Demo) -> None:
    """14. An owner warns of a risk on their item: crossdept files it for the lead department's
    head to assess, tells the other departments' contacts, and asks the PM for a risk meeting."""
    item = {issue.ref: issue for issue in demo.tree}["s4.d1.技术部"]
    owner = item.assignee or ""
    cloud = demo.seed.is_cloud
    before = len(demo.jobs())
    demo.as_person(owner).add_comment(item.key, WARNING)
    demo.wait_for("the warning to be filed", lambda: finished(demo, before, 2))
    demo.settle()
    answers = demo.rule_comments(item.key, "risks")
    if len(answers) != 1:
        raise DemoError(f"{item.key}: expected one answer to the warning, got {len(answers)}")
    found = re.search(r"h4\. \S+：(\S+)|h4\. Risk warning filed: (\S+)", answers[0])
    risk_key = next(group for group in found.groups() if group) if found else ""
    risk = demo.requester.get_issue(risk_key, ["summary", "assignee", "duedate", "issuelinks"])
    fields = risk.get("fields") or {}
    lead = demo.rules.departments["市场部"]
    assignee = fields.get("assignee") or {}
    if (assignee.get("accountId") or assignee.get("name")) != lead.head:
        raise DemoError(f"{risk_key} is not the lead department's head's to assess: {assignee}")
    asked = demo.rule_comments(risk_key, "risks")
    pm = demo.rules.project_manager or ""
    if len(asked) != 1 or mention(pm, cloud=cloud) not in asked[0]:
        raise DemoError(f"{risk_key}: expected one ask to the PM for a risk meeting, got {asked}")
    names = {u.account_id if cloud else u.login: u.display_name for u in demo.seed.users}

    def shown(text: str) -> str:
        """Mentions as the names Jira shows."""
        return MENTION.sub(lambda found: names.get(found.group(1), found.group(0)), text)

    demo.say("14. Risk warning: the engineering contact warns of a risk on their item")
    demo.say(f"   {item.key} ({names.get(owner, owner)}): " + " / ".join(WARNING.splitlines()))
    demo.say(
        f"   → {risk_key} {fields.get('summary')}: {assignee.get('displayName')}, due {fields.get('duedate')}"
    )
    for line in answers[0].splitlines()[1:3]:
        demo.say(f"   {item.key} comment: {shown(line)}")
    demo.say(f"   {risk_key} comment: {shown(asked[0].splitlines()[1])}")
    demo.say("")
    demo.summary["risk"] = {
        "item": item.key,
        "risk": risk_key,
        "summary": fields.get("summary"),
        "assignee": assignee.get("displayName"),
        "due": fields.get("duedate"),
        "answer": answers[0],
        "meeting_ask": asked[0],
    }


SCENES = (scene_risk_warning,)
