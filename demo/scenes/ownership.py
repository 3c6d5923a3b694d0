"""The ownership rule: two rules broken in Jira, answered once each, and fixed."""

from __future__ import annotations

from datetime import date, timedelta

from demo.harness import Demo, DemoError
from demo.scenes.service import finished
from plugin.process.audit import Audit


def scene_ownership(demo: Demo) -> None:
    """9. A person breaks two ownership rules; crossdept answers once each, and sees one fixed."""
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
    demo.wait_for("both edits to be checked", lambda: finished(demo, before, 2))
    demo.say("9. Ownership: the requester breaks two rules; crossdept answers in Jira, once each")
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
    demo.wait_for("the fix to be checked", lambda: finished(demo, before, 1))
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


SCENES = (scene_ownership,)
