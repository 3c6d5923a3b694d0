"""The minutes rule: a meeting held, its minutes in Confluence, each action an item."""

from __future__ import annotations

import re
from datetime import UTC, datetime, time

from demo.harness import Demo, DemoError
from plugin.process.wording import mention
from plugin.rules.minutes.config import meeting_rules
from sandbox.confluence import ConfluenceFake


def scene_minutes(demo: Demo) -> None:
    """11. A meeting is held: its minutes go to Confluence, each action becomes a tracked item."""
    rules = demo.rules
    meetings, space = meeting_rules(rules), rules.confluence
    if meetings is None or space is None or demo.sandbox.confluence is None:
        raise DemoError("the rules file has no meetings or confluence section")
    cloud = demo.seed.is_cloud
    engineering, finance = rules.departments["技术部"], rules.departments["财务部"]

    def person(account: str) -> dict[str, str]:
        return {"accountId": account} if cloud else {"name": account}

    # The meeting falls on the request's fourth working day at 10:00, and its actions on working
    # days after it: the demo keeps the rules it enforces.
    calendar = rules.work_calendar
    day = calendar.add_working_days(demo.start, 3)
    start = datetime.combine(day, time(10, 0), tzinfo=rules.tz).astimezone(UTC)
    created = demo.requester.create_bulk(
        [
            {
                "fields": {
                    "project": {"key": rules.jira.projects[0]},
                    "issuetype": {"name": meetings.issue_type},
                    "summary": "规划会",
                    "description": "议程：\n1. 确认各部门分工\n2. 确认时间表和预算",
                    meetings.fields.start: start.strftime("%Y-%m-%dT%H:%M:%S.000+0000"),
                    meetings.fields.attendees: [
                        person(engineering.contact),
                        person(finance.contact),
                    ],
                }
            }
        ]
    )
    if created.refused:
        raise DemoError(f"Jira refused the meeting: {created.refused[0].reason()}")
    meeting = created.created[0].key
    demo.requester.link_issues(meeting, demo.request_key)
    demo.requester.add_comment(
        meeting,
        "会议记录\n"
        "* 决议：采用方案 B，按计划启动开发\n"
        f"* 待办：{mention(engineering.contact, cloud=cloud)} "
        f"{calendar.add_working_days(day, 5).isoformat()} 提交技术方案\n"
        f"* 待办：{mention(finance.contact, cloud=cloud)} "
        f"{calendar.add_working_days(day, 8):%-m月%-d日} 完成预算复核\n"
        "* 待定：市场投放预算由谁最终签字？\n"
        f"记录人：{mention(rules.project_manager or engineering.head, cloud=cloud)}",
    )
    demo.settle()
    if not demo.requester.transition_to(meeting, meetings.held_status):
        raise DemoError(f"{meeting}: no transition to {meetings.held_status}")
    demo.wait_for(
        "the minutes to be published",
        lambda: (
            any(c.startswith("h4. 会议纪要已发布") for c in demo.crossdept_comments(meeting))
            or any(c.startswith("h4. Minutes published") for c in demo.crossdept_comments(meeting))
        ),
    )
    demo.settle()
    published = next(c for c in demo.crossdept_comments(meeting) if "minutes:" + meeting in c)
    title = published.splitlines()[0].split("：", 1)[-1].split(": ", 1)[-1]
    confluence = demo.sandbox.confluence
    assert isinstance(confluence, ConfluenceFake)
    page = confluence.find_page(space.space, title)
    if page is None:
        raise DemoError(f"no page titled {title} in {space.space}")
    address = re.search(r"\|(http[^\]]+)\]", published)
    record = demo.requester.get_issue(meeting, ["issuelinks"])
    linked = [
        str(end["key"])
        for link in record["fields"].get("issuelinks") or []
        for end in (link.get("inwardIssue"), link.get("outwardIssue"))
        if end and end.get("key") != demo.request_key
    ]
    items = [
        demo.requester.get_issue(key, ["summary", "assignee", "duedate"])
        for key in sorted(linked, key=lambda key: int(key.rsplit("-", 1)[-1]))
    ]
    demo.say("11. Minutes: a planning meeting is held; crossdept publishes its minutes")
    demo.say(f"   {meeting} 规划会, linked to {demo.request_key}; the record is a comment; held")
    demo.say(f"   page: {page['title']} (version {page['version']})")
    demo.say(f"         {address.group(1) if address else '?'}")
    for decision in re.findall(r"<li>(.*?)</li>", page["body"]):
        demo.say(f"   decision: {decision}")
    actions = []
    for item in items:
        fields = item["fields"]
        assignee = fields.get("assignee") or {}
        owner = assignee.get("displayName") or assignee.get("name") or "?"
        demo.say(f"   action {item['key']}: {fields['summary']} — {owner}, due {fields['duedate']}")
        actions.append({"key": item["key"], "owner": owner, "due": fields["duedate"]})
    if len(actions) != 2:
        raise DemoError(f"{meeting}: expected 2 action items, found {len(actions)}")
    demo.say("")
    demo.summary["minutes"] = {
        "meeting": meeting,
        "title": page["title"],
        "url": address.group(1) if address else None,
        "version": page["version"],
        "decisions": re.findall(r"<li>(.*?)</li>", page["body"]),
        "actions": actions,
    }


SCENES = (scene_minutes,)
