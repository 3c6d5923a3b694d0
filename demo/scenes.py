"""The demo's scenes: each acts as a user or as Jira would, says what happened, records the facts.

New scenes slot into `SCENES`, in the order they play.
"""

from __future__ import annotations

import json
import logging
import re
from collections import Counter
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import requests

from demo.harness import (
    REQUEST_SUMMARY,
    Demo,
    DemoError,
    TreeIssue,
    count_of,
    endpoint_of,
    next_monday,
)
from plugin.process.audit import Audit
from plugin.process.wording import mention
from plugin.rules.minutes.config import meeting_rules
from plugin.rules.reports.wording import say
from plugin.spine.deliveries import Delivery, DeliveryState
from plugin.spine.errors import RefusedError
from sandbox.confluence import ConfluenceFake

log = logging.getLogger(__name__)


def scene_started(demo: Demo) -> None:
    """1. Say what runs, and how crossdept was configured."""
    flavour = "Jira Cloud" if demo.seed.is_cloud else "Jira Data Center"
    login = (
        "the crossdept account's email and API token"
        if demo.seed.is_cloud
        else "the crossdept account's personal access token"
    )
    demo.say("1. Started on this machine (nothing leaves it)")
    rules = (
        f"the rules file {demo.rules_path}"
        if demo.options.rules
        else "the shipped rules file config/rules.yaml"
    )
    if not demo.seed.is_cloud:
        rules += " with its people as Data Center usernames"
    sandbox, service = f"{flavour} sandbox", "crossdept serve"
    width = max(len(sandbox), len(service)) + 2
    demo.say(f"   {sandbox.ljust(width)}{demo.sandbox_server.url}  (a stand-in Jira, test users)")
    demo.say(f"   {service.ljust(width)}{demo.service_url}  (web edge + queue worker)")
    demo.say("   crossdept is set up as for a real Jira, only through CROSSDEPT_* variables:")
    demo.say(f"   the sandbox's URL, {login}, a generated webhook secret,")
    demo.say(f"   and {rules}.")
    demo.say("")
    demo.summary["flavour"] = demo.flavour
    demo.summary["sandbox_url"] = demo.sandbox_server.url
    demo.summary["service_url"] = demo.service_url


def scene_request_filed(demo: Demo) -> None:
    """2. The requester files a collaboration request through Jira's REST API."""
    rules = demo.rules
    calendar = rules.work_calendar
    # A request starts on a working day: next Monday, or the first working day after it.
    start = calendar.next_working_day(demo.options.start or next_monday(date.today()))
    demo.start = start
    fields_of = rules.jira.request.fields
    departments = list(rules.departments)[:4]
    requesting, collaborating = departments[0], departments[1:]
    fields: dict[str, Any] = {
        "project": {"key": rules.jira.projects[0]},
        "issuetype": {"name": rules.jira.request.issue_type},
        "summary": REQUEST_SUMMARY,
        "description": "目标：Q1 新品 X 上市推广，市场部牵头，技术、产品、财务配合。",
        fields_of.requesting_department: {"value": requesting},
        fields_of.departments: [{"value": name} for name in collaborating],
    }
    if fields_of.start:
        fields[fields_of.start] = start.isoformat()
    demo.calls_before_request = len(demo.sandbox.calls)
    # Jira sometimes delivers a webhook twice (a lost acknowledgement): make the next one so.
    demo.sandbox.duplicate_next(1)
    try:
        result = demo.requester.create_bulk([{"fields": fields}])
    except RefusedError as error:
        raise DemoError(f"Jira refused the request: {error.reason()}") from None
    if result.refused:
        raise DemoError(f"Jira refused the request: {result.refused[0].reason()}")
    key = result.created[0].key
    demo.request_key = key
    reporter = demo.requester.get_issue(key, ["reporter"])["fields"].get("reporter") or {}
    demo.say("2. A collaboration request is filed in Jira")
    demo.say(f"   {key}  {REQUEST_SUMMARY}  ({rules.jira.request.issue_type})")
    demo.say(f"   by {reporter.get('displayName')}, through the Jira REST API")
    demo.say(f"   需求部门 {requesting}; 协作部门 {', '.join(collaborating)}; start {start}")
    demo.say("")
    demo.summary["request"] = {
        "key": key,
        "summary": REQUEST_SUMMARY,
        "reporter": reporter.get("displayName"),
        "requesting_department": requesting,
        "departments": collaborating,
        "start": start.isoformat(),
    }


def scene_webhook_processed(demo: Demo) -> None:
    """3. Jira's webhook reaches the service, which queues a job; the worker processes it."""
    key = demo.request_key

    def creation() -> Delivery | None:
        return next(
            (j for j in demo.jobs() if j.event == "jira:issue_created" and j.issue == key), None
        )

    def finished() -> bool:
        job = creation()
        if job is not None and job.state == DeliveryState.FAILED:
            raise DemoError(f"the job for {key} failed: {job.last_error}" + demo.log_tail())
        return job is not None and job.state == DeliveryState.DONE

    seconds = demo.wait_for(f"the tree of {key}", finished)
    demo.settle()
    job = creation()
    assert job is not None
    first = next(a for a in demo.answers if a.identifier == job.key and a.retry == 0)
    demo.say("3. Jira's webhook arrives; crossdept queues it and a worker processes it")
    demo.say(
        f"   {first.event} for {key}, delivery {job.key}: answered {first.status} {first.outcome}"
    )
    demo.say(
        f"   job {job.id}: {job.state.value} after {count_of(job.attempts, 'attempt')}, "
        f"{seconds:.1f} s after filing (`crossdept jobs` lists it)"
    )
    demo.say("")
    demo.summary["delivery"] = {
        "id": job.id,
        "key": job.key,
        "event": job.event,
        "issue": job.issue,
        "state": job.state.value,
        "attempts": job.attempts,
        "answer": {"status": first.status, "outcome": first.outcome},
        "seconds_to_tree": round(seconds, 2),
    }


def scene_tree(demo: Demo) -> None:
    """4. The tree crossdept built, read back from Jira as the requester sees it."""
    key = demo.request_key
    demo.tree = demo.read_tree(key)
    if not demo.tree:
        raise DemoError(f"crossdept reported {key} done but Jira shows no tree" + demo.log_tail())
    children: dict[str, list[TreeIssue]] = {}
    for item in demo.tree:
        children.setdefault(item.parent, []).append(item)
    demo.say(f"4. The tree crossdept built under {key} (read back from Jira)")
    demo.say(f"   {key}  {REQUEST_SUMMARY}")

    def show(parent: str, depth: int) -> None:
        for item in children.get(parent, []):
            owner = item.assignee_name or item.assignee or "nobody"
            demo.say(f"   {'  ' * depth}{item.key}  {item.summary}  — {owner}, due {item.duedate}")
            show(item.key, depth + 1)

    show(key, 1)
    kinds = Counter(item.issuetype for item in demo.tree)
    owned = sum(1 for item in demo.tree if item.assignee and item.duedate)
    demo.say(
        f"   {len(demo.tree)} issues ("
        + ", ".join(f"{count} {kind}" for kind, count in kinds.items())
        + f"); {owned} of them with one owner and a due date."
    )
    marker = re.compile(rf"tree:{re.escape(key)}[)）]")
    summaries = [
        str(comment.get("body", ""))
        for comment in demo.requester.list_comments(key)
        if marker.search(str(comment.get("body", "")))
    ]
    if len(summaries) != 1:
        raise DemoError(f"{key} has {len(summaries)} summary comments from crossdept, not one")
    demo.say(
        f"   crossdept's one comment on {key} (edited, never repeated, when the tree changes):"
    )
    for line in summaries[0].splitlines():
        if line.startswith("h3. "):
            demo.say(f"     {line.removeprefix('h3. ')}")
        elif line.startswith("|") and not line.startswith("||"):
            demo.say("       " + "  ".join(cell for cell in line.strip("|").split("|")))
    demo.say("")
    demo.summary["summary_comment"] = {"count": len(summaries), "body": summaries[0]}
    demo.summary["issues"] = [
        {
            "key": item.key,
            "ref": item.ref,
            "summary": item.summary,
            "issuetype": item.issuetype,
            "assignee": item.assignee,
            "assignee_name": item.assignee_name,
            "duedate": item.duedate,
            "parent": item.parent,
        }
        for item in demo.tree
    ]
    demo.summary["issue_count"] = len(demo.tree)


def scene_redelivery(demo: Demo) -> None:
    """5. Jira delivered the creation webhook twice; the second is a duplicate and does nothing."""
    job = demo.summary["delivery"]
    sends = [a for a in demo.answers if a.identifier == job["key"]]
    again = [a for a in sends if a.retry > 0]
    if not again:
        raise DemoError("the sandbox did not redeliver the request's webhook")
    stored = [j for j in demo.jobs() if j.key == job["key"]]
    project = demo.rules.jira.projects[0]
    in_project = demo.project_issue_count(project)
    still = len(demo.read_tree(demo.request_key))
    demo.say("5. Jira delivers the same webhook again (as when an acknowledgement is lost)")
    for answer in again:
        demo.say(
            f"   delivery {answer.identifier} (X-Atlassian-Webhook-Retry: {answer.retry}): "
            f"answered {answer.status} {answer.outcome}"
        )
    demo.say(
        f"   jobs for it: {len(stored)}; issues in the tree: still {still}; "
        f"issues in project {project}: {in_project} (the request + its tree)"
    )
    demo.say("")
    demo.summary["duplicate"] = {
        "delivery": job["key"],
        "answers": [{"retry": a.retry, "status": a.status, "outcome": a.outcome} for a in sends],
        "jobs": len(stored),
        "issues_in_tree_after": still,
        "issues_in_project": in_project,
    }


def scene_loop_safety(demo: Demo) -> None:
    """6. The webhooks caused by crossdept's own changes are ignored: no feedback loop."""
    own = [a for a in demo.answers if a.actor == demo.own_identity]
    outcomes = Counter(a.outcome for a in own)
    events = Counter(a.event for a in own)
    own_keys = {a.identifier for a in own}
    jobs = [j for j in demo.jobs() if j.key in own_keys]
    demo.say("6. Loop safety: Jira reports crossdept's own changes back to crossdept")
    demo.say(
        f"   {len(own)} webhooks caused by crossdept's account ("
        + ", ".join(f"{n} {event}" for event, n in events.items())
        + ")"
    )
    demo.say(
        "   answered: "
        + ", ".join(f"{n} {outcome}" for outcome, n in outcomes.items())
        + f"; jobs queued for them: {len(jobs)}"
    )
    demo.say("")
    demo.summary["own_events"] = {
        "sent": len(own),
        "by_event": dict(events),
        "answers": dict(outcomes),
        "ignored": outcomes.get("ignored", 0),
        "jobs": len(jobs),
    }


def scene_jira_calls(demo: Demo) -> None:
    """7. How many Jira calls the whole tree cost."""
    calls = demo.crossdept_calls()
    by_endpoint = Counter(endpoint_of(method, path) for method, path, _status in calls)
    refused = [c for c in calls if c[2] >= 400]
    demo.say(f"7. Jira calls crossdept made for {demo.request_key}: {len(calls)}")
    for endpoint, count in sorted(by_endpoint.items(), key=lambda item: -item[1]):
        demo.say(f"   {count:>3}  {endpoint}")
    if refused:
        demo.say(f"   of which refused or failed: {len(refused)}")
    demo.say("")
    demo.summary["jira_calls"] = {
        "total": len(calls),
        "by_endpoint": dict(by_endpoint),
        "failed": len(refused),
    }


def scene_ownership(demo: Demo) -> None:
    """8. A person breaks two ownership rules; crossdept answers once each, and sees one fixed."""
    by_ref = {item.ref: item for item in demo.tree}
    signoff, stage = by_ref["s1.d2.技术部"], by_ref["s4"]
    # A day off inside stage 4 (a weekend or a holiday), so only the working-day rule breaks.
    calendar = demo.rules.work_calendar
    due = date.fromisoformat(str(stage.duedate))
    day_off = next(
        due - timedelta(days=n)
        for n in range(1, 10)
        if not calendar.is_working_day(due - timedelta(days=n))
    )
    before = len(demo.jobs())
    demo.requester._call(
        "PUT",
        "/rest/api/2/issue/{key}",
        path={"key": signoff.key},
        body={"fields": {"assignee": None}},
    )
    demo.requester._call(
        "PUT",
        "/rest/api/2/issue/{key}",
        path={"key": stage.key},
        body={"fields": {"duedate": day_off.isoformat()}},
    )
    demo.wait_for("both edits to be checked", lambda: _finished(demo, before, 2))
    demo.say("8. Ownership: the requester breaks two rules; crossdept answers in Jira, once each")
    demo.say(
        f"   {signoff.key}: assignee cleared;  {stage.key}: due date moved to {day_off} (a day off)"
    )
    for item in (signoff, stage):
        comments = demo.rule_comments(item.key, "ownership")
        if len(comments) != 1:
            raise DemoError(f"{item.key} has {len(comments)} comments from crossdept, not one")
        bullet = next(line for line in comments[0].splitlines() if line.startswith("* "))
        demo.say(
            f"   {item.key} comment: {bullet[2:60]}…  labels: {', '.join(demo.labels(item.key))}"
        )
    before = len(demo.jobs())
    owner = signoff.assignee or ""
    person = {"accountId": owner} if demo.seed.is_cloud else {"name": owner}
    demo.requester._call(
        "PUT",
        "/rest/api/2/issue/{key}",
        path={"key": signoff.key},
        body={"fields": {"assignee": person}},
    )
    demo.wait_for("the fix to be checked", lambda: _finished(demo, before, 1))
    [fixed] = demo.rule_comments(signoff.key, "ownership")
    demo.say(f"   the requester assigns {signoff.key} again: its comment now says")
    demo.say(
        f"     {fixed.splitlines()[1]}  labels: {', '.join(demo.labels(signoff.key)) or 'none'}"
    )
    demo.say(f"   crossdept audit {signoff.key}:")
    entries = [e for e in Audit(demo.store).entries(signoff.key) if e.rule == "ownership"]
    for entry in entries:
        detail = f"  {entry.detail}" if entry.detail else ""
        demo.say(f"     {entry.rule}  {entry.action}{detail}")
    demo.say("")
    demo.summary["ownership"] = {
        "broken": {signoff.key: "single_owner", stage.key: "due_on_workday"},
        "comments": {
            item.key: len(demo.rule_comments(item.key, "ownership")) for item in (signoff, stage)
        },
        "fixed_comment": fixed,
        "audit": [entry.action for entry in entries],
    }


def scene_escalation(demo: Demo) -> None:
    """9. A contact asked in a comment does not answer: reminded, then the head hears; once each."""
    stage = {item.ref: item for item in demo.tree}["s2"]
    engineering = demo.rules.departments["技术部"]
    cloud = demo.seed.is_cloud
    before = len(demo.jobs())
    sent_before = len(demo.answers)
    asked_at = datetime.now(UTC)
    demo.requester.add_comment(
        stage.key, f"{mention(engineering.contact, cloud=cloud)} 技术方案的预算能在周五前确认吗？"
    )
    demo.wait_for("the ask to be recorded", lambda: _finished(demo, before, 1))
    demo.say("9. Escalation: the requester asks the engineering contact in a comment; no answer")
    demo.say(
        f'   {stage.key}: "{mention(engineering.contact, cloud=cloud)} 技术方案的预算能在周五前确认吗？"'
    )
    for sent in demo.answers[sent_before:]:
        if sent.retry == 0 and sent.event in ("comment_created", "jira:issue_updated"):
            carried = (
                f"with {sent.issue}"
                if sent.issue
                else "the comment only: Data Center names the issue in comment.self"
            )
            demo.say(f"   Jira sent {sent.event} ({carried}) → {sent.outcome}")
    asks = demo.crossdept_command("asks")
    started = [line for line in asks.splitlines() if line.startswith(f"{stage.key} ")]
    if len(started) != 1:
        raise DemoError(
            f"{stage.key}: expected one ask from the comment, `crossdept asks` says {asks!r}"
        )
    demo.say(f"   `crossdept asks` → {started[0]}")
    said: list[str] = []
    for hours in (25, 49, 49):
        moment = (asked_at + timedelta(hours=hours)).isoformat(timespec="seconds")
        demo.crossdept_command("periodic", "sweep_asks", "--now", moment)
        comments = [c for c in demo.crossdept_comments(stage.key) if "ask:" in c]
        new = comments[len(said) :]
        said += new
        shown = "; ".join(c.splitlines()[0].removeprefix("h4. ") for c in new) or "nothing new"
        demo.say(f"   `crossdept periodic sweep_asks`, {hours} hours later → {shown}")
    head_heard = any(mention(engineering.head, cloud=cloud) in c for c in said)
    if len(said) != 2 or not head_heard:
        raise DemoError(
            f"{stage.key}: expected a reminder and one escalation to the head, got {len(said)}"
        )
    demo.say(
        f"   the head ({mention(engineering.head, cloud=cloud)}) is mentioned once; labels: {', '.join(demo.labels(stage.key))}"
    )
    demo.say("")
    demo.summary["escalation"] = {
        "issue": stage.key,
        "ask": started[0],
        "comments": said,
        "head_mentioned": head_heard,
    }


def scene_minutes(demo: Demo) -> None:
    """10. A meeting is held: its minutes go to Confluence, each action becomes a tracked item."""
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
    demo.say("10. Minutes: a planning meeting is held; crossdept publishes its minutes")
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


def scene_board(demo: Demo) -> None:
    """11. The goal board: its address, and the department figures for this run."""
    token = demo.environment["CROSSDEPT_BOARD_TOKEN"]
    address = f"{demo.service_url}/board"
    answer = requests.get(address, headers={"Authorization": f"Bearer {token}"}, timeout=30)
    title = say(demo.rules, "board.title")
    if answer.status_code != 200 or title not in answer.text:
        raise DemoError(f"the board answered {answer.status_code} without its title {title!r}")
    refused = requests.get(address, timeout=30).status_code
    table = demo.crossdept_command("report", "departments")
    figures = json.loads(demo.crossdept_command("report", "departments", "--format", "json"))
    demo.say("11. The goal board (without the token it answers " + str(refused) + ")")
    demo.say(f"   {address}?token={token}")
    for line in table.splitlines():
        demo.say(f"   {line}")
    demo.say("")
    demo.summary["board"] = {
        "url": address,
        "status": answer.status_code,
        "without_token": refused,
        "departments": figures["departments"],
    }


def _finished(demo: Demo, before: int, count: int) -> bool:
    jobs = demo.jobs()[before:]
    done = [job for job in jobs if job.state.value in ("done", "failed")]
    return len(done) >= count and len(done) == len(jobs)


Scene = Callable[[Demo], None]


SCENES: tuple[Scene, ...] = (
    scene_started,
    scene_request_filed,
    scene_webhook_processed,
    scene_tree,
    scene_redelivery,
    scene_loop_safety,
    scene_jira_calls,
    scene_ownership,
    scene_escalation,
    scene_minutes,
    scene_board,
)
