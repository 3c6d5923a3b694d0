"""The notify rule: the escalation the head was sent in Jira also reaches their group's robot."""

from __future__ import annotations

from demo.harness import DEMO_GROUPS, DEMO_MOBILES, Demo, DemoError


def scene_group_message(demo: Demo) -> None:
    """The engineering head's DingTalk group got the escalation, signed, calling on the head."""
    kind, group, _secret = DEMO_GROUPS["技术部"]
    robots = demo.sandbox.robots
    demo.wait_for("the escalation to reach the group", lambda: bool(robots.received(group)))
    posts = robots.received(group)
    escalations = [post for post in posts if "升级" in post.text or "Escalated" in post.text]
    if len(escalations) != 1:
        raise DemoError(f"{group}: expected one escalation, the robot received {len(escalations)}")
    [post] = escalations
    mobile = DEMO_MOBILES["技术部"]
    if post.mobiles != (mobile,) or f"@{mobile}" not in post.text:
        raise DemoError(f"{group}: the head ({mobile}) is not called on: {post.body}")
    demo.say(f"13. Group message: the engineering head's {kind} group ({group}) received")
    for line in post.text.splitlines():
        demo.say(f"   │ {line}")
    demo.say(
        f"   at.atMobiles {list(post.mobiles)}; signature checked by the robot; "
        f"refused: {len(robots.refusals)}"
    )
    demo.say("")
    demo.summary["group_message"] = {
        "group": group,
        "kind": kind,
        "text": post.text,
        "mobiles": list(post.mobiles),
        "refusals": len(robots.refusals),
    }


SCENES = (scene_group_message,)
