"""The stage tree rule: the tree crossdept built, a webhook delivered again, crossdept's own
events ignored, the Jira calls it took, and the decision makers' items added."""

from __future__ import annotations

import re
from collections import Counter

from demo.harness import REQUEST_SUMMARY, Demo, DemoError, TreeIssue, endpoint_of
from demo.scenes.service import finished

DECISION_MAKERS = ("director", "coo")  # the seed's two decision makers


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


def scene_decision_makers(demo: Demo) -> None:
    """8. The requester names two decision makers (决策人): each gets the plan approval and the
    acceptance decision, a joint decision, added to the tree and nothing else touched."""
    field = demo.rules.jira.request.fields.decision_makers
    if field is None:
        raise DemoError("the rules name no decision makers field")
    key = demo.request_key
    people = [user for user in demo.seed.users if user.login in DECISION_MAKERS]
    value = [
        {"accountId": user.account_id} if demo.seed.is_cloud else {"name": user.login}
        for user in people
    ]
    before_items = {item.ref for item in demo.tree}
    before = len(demo.jobs())
    demo.requester._call(
        "PUT", "/rest/api/2/issue/{key}", path={"key": key}, body={"fields": {field: value}}
    )
    demo.wait_for("the decision makers' items", lambda: finished(demo, before, 1))
    tree = demo.read_tree(key)
    added = [item for item in tree if item.ref not in before_items]
    if len(added) != 2 * len(people):
        raise DemoError(f"expected {2 * len(people)} decision items, Jira shows {len(added)}")
    by_key = {item.key: item for item in tree}
    demo.say(f"8. Decision makers: the requester names {len(people)} on {key} (决策人)")
    for item in added:
        stage = by_key.get(item.parent)
        where = stage.summary.split("】")[-1].strip() if stage else item.parent
        demo.say(f"   {item.key}  {item.summary}  — {item.assignee_name}, due {item.duedate}")
        demo.say(f"     under {where}")
    demo.say(
        "   a joint decision: one item each, decided when all are; the stage gate holds the"
        " next stage until then"
    )
    demo.say("")
    demo.summary["decision_makers"] = {
        "people": [user.display_name for user in people],
        "added": [
            {"key": item.key, "ref": item.ref, "summary": item.summary, "owner": item.assignee_name}
            for item in added
        ],
        "tree_after": len(tree),
    }


SCENES = (
    scene_tree,
    scene_redelivery,
    scene_loop_safety,
    scene_jira_calls,
    scene_decision_makers,
)
