"""The escalation rule: a question nobody answers, reminded, then escalated to the head."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from demo.harness import Demo, DemoError
from demo.scenes.service import finished
from plugin.process.wording import mention


def scene_escalation(demo: Demo) -> None:
    """10. A contact asked in a comment does not answer: reminded, then the head hears; once each."""
    stage = {item.ref: item for item in demo.tree}["s2"]
    engineering = demo.rules.departments["技术部"]
    cloud = demo.seed.is_cloud
    before = len(demo.jobs())
    sent_before = len(demo.answers)
    asked_at = datetime.now(UTC)
    demo.requester.add_comment(
        stage.key, f"{mention(engineering.contact, cloud=cloud)} 技术方案的预算能在周五前确认吗？"
    )
    demo.wait_for("the ask to be recorded", lambda: finished(demo, before, 1))
    demo.say("10. Escalation: the requester asks the engineering contact in a comment; no answer")
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


SCENES = (scene_escalation,)
