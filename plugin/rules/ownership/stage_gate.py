"""The stage gate: stages run in order, so an item started while an earlier stage is open is held.

The collaboration process ("prototype done before development starts"): a stage must not start
before the previous one is done. When a stage task, or any item under it, moves into an
in-progress status while an item of an earlier stage is not done, `ownership.stage_gate` says
what happens: `revert` moves it back to the status it came from and comments which items of
which stage block it; `warn` only comments; `off` does nothing. crossdept never fights a person:
if the same person starts the same item again after a revert, it only warns. Where the workflow
has no way back, it warns and says so.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Column, Float, String, Table, and_, insert, select
from sqlalchemy.exc import IntegrityError

from plugin.process.audit import Audit
from plugin.process.config import Rules
from plugin.process.items import (
    ITEM_PROPERTY,
    TREE_PROPERTY,
    is_done,
    item_mark,
    read_tree_record,
    stage_of,
)
from plugin.process.notices import COMMENTS_PROPERTY, RuleComments, kept_comments
from plugin.process.wording import mention, plain
from plugin.rules.ownership.wording import say
from plugin.spine.context import Context
from plugin.spine.events import JiraEvent
from plugin.spine.routing import Router
from plugin.spine.schedule import Schedule
from plugin.spine.store import Store, metadata

log = logging.getLogger(__name__)

RULE = "stage_gate"

# One row per item and person crossdept moved back: the second time, it only warns.
gate_reverts = Table(
    "gate_reverts",
    metadata,
    Column("issue", String(64), primary_key=True),
    Column("actor", String(200), primary_key=True),
    Column("reverted_at", Float, nullable=False),
)

router = Router()
schedule = Schedule()  # the gate acts on changes only


def status_change(event: JiraEvent) -> tuple[str | None, str | None] | None:
    """(from, to) status names of an update that moved the issue, else None."""
    for item in event.changelog.items if event.changelog else []:
        if (item.field_id or item.field or "").lower() == "status":
            return item.from_string, item.to_string
    return None


def blocking_items(
    hits: Sequence[Mapping[str, Any]], refs_by_key: Mapping[str, str], rules: Rules
) -> list[tuple[int, Mapping[str, Any]]]:
    """The items of earlier stages that are not done, with their stage, in stage and key order."""
    found = []
    for hit in hits:
        fields = hit.get("fields") or {}
        ref = refs_by_key.get(str(hit.get("key")), "")
        number = stage_of(ref)
        if number is not None and not is_done(fields, rules):
            found.append((number, hit))
    return sorted(found, key=lambda pair: (pair[0], _key_number(str(pair[1].get("key")))))


def _key_number(key: str) -> int:
    tail = key.rsplit("-", 1)[-1]
    return int(tail) if tail.isdigit() else 0


@router.register("jira:issue_updated")
def hold_stages_in_order(event: JiraEvent, context: Context) -> None:
    """An item started too early: move it back (or warn), saying which items hold it."""
    rules = context.rules
    mode = rules.ownership.stage_gate
    change = status_change(event)
    if mode == "off" or change is None:  # the router admits enforced projects only
        return
    jira = context.jira
    key = str(event.issue_key)
    issue = jira.get_issue(key, ["summary", "status"], [ITEM_PROPERTY, COMMENTS_PROPERTY])
    mark = item_mark(issue)
    number = stage_of(mark.ref) if mark else None
    status = (issue.get("fields") or {}).get("status") or {}
    started = (status.get("statusCategory") or {}).get("key") == "indeterminate"
    if mark is None or number is None or number == 1:
        return
    comments = RuleComments(jira)
    if not started:
        _clear(issue, comments, context)
        return
    request = jira.get_issue(mark.request, ["summary"], [TREE_PROPERTY])
    tree = read_tree_record(request)
    if tree.items.get(mark.ref) != key:
        # Not the item the request's own tree names: never quote that tree's issues here.
        log.warning("stage gate: %s is not %s of %s's tree", key, mark.ref, mark.request)
        return
    refs_by_key = {
        item_key: ref
        for ref, item_key in tree.items.items()
        if (stage := stage_of(ref)) is not None and stage < number
    }
    hits = jira.read_issues(list(refs_by_key), fields=["summary", "status"]) if refs_by_key else []
    blocking = blocking_items(hits, refs_by_key, rules)
    if not blocking:
        _clear(issue, comments, context)
        return
    actor = event.actor.id if event.actor else None
    came_from = change[0] or ""
    store = context.store
    audit = Audit(store)
    now = context.clock().timestamp()
    if mode == "revert" and actor is not None and _reverted_before(store, key, actor):
        opening, action = "gate.again", "warned: started again by the same person"
    elif mode == "revert":
        if came_from and jira.transition_to(key, came_from):
            _remember_revert(store, key, actor or "", now)
            opening, action = "gate.reverted", f"reverted to {came_from}"
        else:
            opening, action = "gate.no_way_back", f"no transition back to {came_from}"
    else:
        opening, action = "gate.warned", "warned"
    who = mention(actor, cloud=jira.is_cloud) if actor else ""
    lines = [
        say(rules, "gate.heading", key=key),
        say(rules, opening, mention=who, status=came_from).strip(),
        say(rules, "gate.blocking"),
    ]
    for stage, hit in blocking:
        fields = hit.get("fields") or {}
        lines.append(
            "* "
            + say(
                rules,
                "gate.item",
                number=stage,
                key=hit.get("key"),
                summary=plain(str(fields.get("summary") or "")),
                status=(fields.get("status") or {}).get("name", ""),
            )
        )
    lines += ["", say(rules, "gate.rule"), "", say(rules, "gate.marker", key=key)]
    shown = comments.show(issue, RULE, "\n".join(lines), marker=f"stage-gate:{key}")
    audit.record(
        now,
        key,
        RULE,
        action,
        ",".join(str(h.get("key")) for _, h in blocking),
        context.delivery_key,
    )
    if shown != "unchanged":
        audit.record(now, key, RULE, f"comment {shown}", None, context.delivery_key)
    log.info("stage gate %s", action, extra={"issue": key, "delivery": context.delivery_key})


def _clear(issue: Mapping[str, Any], comments: RuleComments, context: Context) -> None:
    """The item may start (or is no longer started): close an open gate comment, if any."""
    kept = kept_comments(issue).get(RULE)
    if kept is None or not kept.open:
        return
    key = str(issue["key"])
    comments.close(issue, RULE, say(context.rules, "gate.cleared", key=key))
    Audit(context.store).record(
        context.clock().timestamp(), key, RULE, "comment edited", "cleared", context.delivery_key
    )


def _reverted_before(store: Store, issue: str, actor: str) -> bool:
    with store.begin() as db:
        found = db.execute(
            select(gate_reverts.c.reverted_at).where(
                and_(gate_reverts.c.issue == issue, gate_reverts.c.actor == actor)
            )
        ).first()
    return found is not None


def _remember_revert(store: Store, issue: str, actor: str, now: float) -> None:
    try:
        with store.begin() as db:
            db.execute(insert(gate_reverts).values(issue=issue, actor=actor, reverted_at=now))
    except IntegrityError:
        pass  # a redelivery reverted it already
