"""Build each collaboration request's stage tree in Jira exactly once, and extend it when departments join.

Exactly-once, step by step (each step is safe to repeat):

1. Claim the request in the store (`tree_requests`, primary key = request key, with a lease).
   A second worker, a duplicate `crossdept apply` or a redelivered webhook that finds a live
   claim backs off with TreeBusyError (transient: the queue retries it later). A crashed
   worker's claim expires after LEASE_SECONDS and the next attempt takes over.
2. Read the request once (fields + the `crossdept.tree` issue property: ref -> key). With the
   store's own `tree_items` rows this says which planned items already exist.
3. Before each bulk create, record the intent (`tree_items` rows without a key). Every created
   issue carries the issue property `crossdept.item` = {request, ref}, set in the bulk payload
   itself, so an issue can never exist without its identity.
4. After the call, record the keys. A crash between 3 and 4 leaves intents without keys: the
   next attempt searches the intended items' parents for children carrying `crossdept.item`
   and adopts them instead of creating them again. Issue properties are only JQL-searchable
   when an app indexes them, so the search goes by parent and reads the property from the
   results. Jira Cloud's search index lags writes, so the adoption search waits until the
   intent is SETTLE_SECONDS old (TreeBusyError with retry_after until then). Steps 3 and 4
   are `plugin.process.creation.ExactlyOnce`, the one way every rule creates issues.
5. Finally write `crossdept.tree` on the request (one PUT) and release the claim.

Nothing is ever deleted: a department added later only adds its missing items, and decision
makers named later add theirs and take over what the plan gives them from the requester.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from plugin.atlassian.ports import BULK_LIMIT, IssueType, JiraPort, NewIssue
from plugin.atlassian.queries import Placement
from plugin.process.config import Rules
from plugin.process.creation import ExactlyOnce
from plugin.process.groups import News, people_words, tell_groups, wanted
from plugin.process.items import (
    ITEM_PROPERTY,
    TREE_PROPERTY,
    RecordedTree,
    item_mark,
    may_be_request,
    person_of,
    read_tree_record,
)
from plugin.process.notices import COMMENTS_PROPERTY, Notices, RuleComments, find_own_comment
from plugin.process.owners import owner_label
from plugin.process.wording import department_name, join_names, plain
from plugin.rules.trees.planning import (
    PlannedItem,
    RequestSnapshot,
    TreePlan,
    is_request,
    plan_tree,
    read_request,
    request_fields,
    rules_digest,
)
from plugin.rules.trees.tree_records import ItemRecord, TreeRecords
from plugin.rules.trees.wording import say
from plugin.spine.context import Context
from plugin.spine.errors import (
    NotYetError,
    RefusedError,
    RequestProblemError,
)
from plugin.spine.events import JiraEvent
from plugin.spine.leases import new_holder
from plugin.spine.routing import Router
from plugin.spine.schedule import Schedule

log = logging.getLogger(__name__)

TREE_RECORD_VERSION = 1
RULE = "tree"  # how this rule signs its notices
PROBLEMS = "tree-problems"  # the request's one comment on what keeps its tree from being built
REFUSALS = "tree-refusals"  # the request's one comment on the items Jira refused
# A claim is renewed before every create, so it need only outlast one Jira call (30 s at most)
# and the budget's wait; a crashed worker's claim frees the tree a minute later.
LEASE_SECONDS = 60.0
BUSY_RETRY_S = 3.0  # how soon a job that found the tree claimed by another worker looks again
# Where each level of the tree goes in Jira.
PLACEMENTS: dict[str, Placement] = {
    "epic": "linked_epic",
    "stage": "epic_child",
    "deliverable": "subtask",
}

Status = Literal["complete", "partial", "blocked", "skipped"]


class TreeBusyError(NotYetError):
    """Another worker is building this request's tree (or Jira's index must settle): retry later."""


@dataclass
class TreeOutcome:
    """What one apply did: the tree's status, every ref -> key Jira holds, and what changed now.

    `deleted`: items people deleted in Jira, left deleted. `dropped`: records Jira contradicted
    (the issue is gone or is not this item), forgotten before anything was built.
    """

    request: str
    status: Status
    keys: dict[str, str] = field(default_factory=dict)
    created: dict[str, str] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    plan: TreePlan | None = None
    deleted: dict[str, str] = field(default_factory=dict)
    dropped: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Confirmation:
    """What Jira confirmed of the recorded items, in one bulk read."""

    keys: dict[str, str]
    deleted: dict[str, str]
    dropped: dict[str, str]


def confirm_items(
    request: str,
    recorded: RecordedTree,
    stored: Mapping[str, str],
    found: Sequence[Mapping[str, Any]],
) -> Confirmation:
    """Decide which recorded items Jira really holds, from the issues a bulk read returned.

    An item is confirmed only by an issue carrying `crossdept.item` = {request, ref}; a key is
    never believed alone. An item named in the request's own `crossdept.tree` whose issue no
    longer exists was deleted by a person: it stays deleted. Any other unconfirmed record (the
    store's, or a key that now belongs to another issue) is dropped.
    """
    keys: dict[str, str] = {}
    present: set[str] = set()
    for hit in found:
        present.add(str(hit.get("key", "")).upper())
        mark = (hit.get("properties") or {}).get(ITEM_PROPERTY)
        if isinstance(mark, Mapping) and mark.get("request") == request and mark.get("ref"):
            keys.setdefault(str(mark["ref"]), str(hit["key"]))
    deleted = {ref: key for ref, key in recorded.deleted.items() if ref not in keys}
    for ref, key in recorded.items.items():
        if ref not in keys and key.upper() not in present:
            deleted[ref] = key
    dropped: dict[str, str] = {}
    for source in (stored, recorded.items):
        for ref, key in source.items():
            if keys.get(ref) != key and ref not in deleted:
                dropped.setdefault(ref, key)
    return Confirmation(keys, deleted, dropped)


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


def apply_tree(
    key: str, context: Context, *, recreate_deleted: bool = False, hand_over: bool = False
) -> TreeOutcome:
    """Create whatever of the request's tree is missing; safe to repeat and to race.

    Items people deleted in Jira stay deleted unless `recreate_deleted` (crossdept apply
    --recreate-deleted). `hand_over` (the request's decision makers were just named) gives the
    decision makers what the plan gives them and the requester still holds.
    """
    records = TreeRecords(context.store)
    holder = new_holder("tree")
    now = context.clock().timestamp()
    if not records.claim(key, holder, now, LEASE_SECONDS):
        wait = records.lease_left(key, now)
        # Builds take seconds; the lease only bounds a crashed holder. Look again soon.
        raise TreeBusyError(
            f"{key}: another worker is building this tree",
            retry_after=min(wait, BUSY_RETRY_S) or BUSY_RETRY_S,
        )
    status = "building"
    digest = rules_digest(context.rules)
    try:
        outcome = _Builder(key, context, records, holder, recreate_deleted, hand_over).build()
        status = outcome.status
        return outcome
    finally:
        records.release(key, holder, status, context.clock().timestamp(), digest)


@dataclass(frozen=True)
class _TreeIntents:
    """A request's intents, for the one way crossdept creates anything (ExactlyOnce)."""

    records: TreeRecords
    request: str

    def intend(self, issues: Mapping[str, NewIssue], now: float) -> None:
        self.records.intend(self.request, list(issues), now)

    def created(self, keys: Mapping[str, str], now: float) -> None:
        self.records.record_created(self.request, keys, now)

    def forget(self, refs: Sequence[str]) -> None:
        self.records.drop_intents(self.request, refs)


class _Builder:
    """One apply of one request's tree, with the claim held."""

    def __init__(
        self,
        key: str,
        context: Context,
        records: TreeRecords,
        holder: str,
        recreate_deleted: bool = False,
        hand_over: bool = False,
    ) -> None:
        self.key = key
        self.holder = holder
        self.recreate_deleted = recreate_deleted
        self.hand_over = hand_over
        self.context = context
        self.rules = context.rules
        self.jira: JiraPort = context.jira
        self.records = records
        self.creating = ExactlyOnce(
            self.jira,
            _TreeIntents(records, key),
            self.now,
            key,
            waiting=TreeBusyError,
            epic_link_field=self.rules.jira.epic_link_field,
        )
        self.extra = {"delivery": context.delivery_key, "issue": key}
        self.issue: Mapping[str, Any] = {"key": key}  # the request as read by build()

    def now(self) -> float:
        return self.context.clock().timestamp()

    def build(self) -> TreeOutcome:
        issue = self.jira.get_issue(
            self.key, request_fields(self.rules), [TREE_PROPERTY, COMMENTS_PROPERTY]
        )
        self.issue = issue
        snapshot = read_request(issue, self.rules)
        if not is_request(snapshot, self.rules):
            log.info("not a collaboration request; no tree", extra=self.extra)
            return TreeOutcome(self.key, "skipped")
        recorded = read_tree_record(issue)
        stored = self.records.items(self.key)
        confirmed = self._confirm(recorded, stored)
        keys = dict(confirmed.keys)
        deleted = {} if self.recreate_deleted else dict(confirmed.deleted)
        stored = {ref: row for ref, row in stored.items() if ref not in confirmed.dropped}
        calendar = self.rules.work_calendar
        try:
            plan = plan_tree(snapshot, self.rules, calendar, cloud=self.jira.is_cloud)
            missing = [item for item in plan.items if self._wanted(item, keys, deleted)]
            types = self._check_jira(plan, missing) if missing else {}
        except RequestProblemError as problem:
            self._tell_problems(problem.problems)
            return TreeOutcome(
                self.key,
                "blocked",
                keys,
                problems=problem.problems,
                deleted=deleted,
                dropped=confirmed.dropped,
            )

        self._tell_problems([])
        created: dict[str, str] = {}
        refused: list[tuple[PlannedItem, str]] = []
        for level in ("epic", "stage", "deliverable"):
            todo = [item for item in plan.level(level) if self._wanted(item, keys, deleted)]
            ready = [item for item in todo if self._parent_key(item, keys) is not None]
            refused += [(item, "") for item in todo if item not in ready]
            pending = [item for item in ready if item.ref in stored]
            if pending:
                adopted = self._adopt(level, pending, keys, stored)
                keys.update(adopted)
                ready = [item for item in ready if item.ref not in keys]
            for start in range(0, len(ready), BULK_LIMIT):
                chunk = ready[start : start + BULK_LIMIT]
                new, failed = self._create(chunk, plan, keys, types)
                keys.update(new)
                created.update(new)
                refused += failed

        if self.hand_over:
            self._hand_over(plan, keys, created, snapshot.reporter)
        comment = self._tell_tree(
            snapshot.topic, plan, keys, deleted, recorded, existed=bool(confirmed.keys)
        )
        if (keys, deleted, comment) != (
            recorded.items,
            recorded.deleted,
            (recorded.comment_id, recorded.comment_digest),
        ):
            self._write_tree_record(keys, deleted, comment)
        status: Status = "complete"
        self._tell_refusals(refused, len(created))
        if refused:
            status = "partial"
        elif created:
            log.info(
                "tree built: %d issues created",
                len(created),
                extra={**self.extra, "issues_created": len(created)},
            )
            self._tell_groups(snapshot, plan, keys)
        return TreeOutcome(
            self.key, status, keys, created, plan=plan, deleted=deleted, dropped=confirmed.dropped
        )

    def _hand_over(
        self,
        plan: TreePlan,
        keys: Mapping[str, str],
        created: Mapping[str, str],
        requester: str | None,
    ) -> None:
        """Items the plan gives a decision maker (stage 5), made while the request named none and
        so still its requester's, go to the first decision maker when they are named (only then:
        a later edit of the request never takes an item back from whoever holds it); an item a
        person gave to someone else stays theirs."""
        moving = {
            keys[item.ref]: item.owner.account
            for item in plan.items
            if item.owner.role == "decision_maker"
            and item.ref in keys
            and item.ref not in created
            and item.owner.account != requester
        }
        if not moving or requester is None:
            return
        found = self.jira.read_issues(sorted(moving), fields=["assignee"])
        handed = []
        for issue in found:
            key = str(issue.get("key"))
            if person_of((issue.get("fields") or {}).get("assignee")) == requester:
                self.jira.assign(key, moving[key])
                handed.append(key)
        if handed:
            log.info("items handed to the decision makers", extra={**self.extra, "items": handed})

    def _wanted(
        self, item: PlannedItem, keys: Mapping[str, str], deleted: Mapping[str, str]
    ) -> bool:
        """Say whether an item is still to be created: not in Jira, not deleted on purpose."""
        return item.ref not in keys and item.ref not in deleted and item.parent not in deleted

    # -- Jira is the truth ---------------------------------------------------------------------

    def _confirm(self, recorded: RecordedTree, stored: Mapping[str, ItemRecord]) -> Confirmation:
        """Check every recorded item against Jira in one bulk read, and forget what Jira denies."""
        keyed = {ref: row.issue_key for ref, row in stored.items() if row.issue_key}
        wanted = sorted(set(keyed.values()) | set(recorded.items.values()))
        found = (
            self.jira.read_issues(wanted, fields=["summary"], properties=[ITEM_PROPERTY])
            if wanted
            else []
        )
        confirmed = confirm_items(self.key, recorded, keyed, found)
        self.records.forget_items(
            self.key, [ref for ref, key in keyed.items() if confirmed.keys.get(ref) != key]
        )
        if confirmed.dropped:
            if not confirmed.keys and not recorded.items:
                # Nothing of the stored tree is in this Jira (a restored or recreated project, a
                # data directory moved to another Jira): its notices belong to another issue too.
                Notices(self.context.store).forget(self.key)
            log.warning(
                "stored tree record contradicts Jira: forgot %d items (%s)",
                len(confirmed.dropped),
                ", ".join(f"{ref}={key}" for ref, key in sorted(confirmed.dropped.items())),
                extra={**self.extra, "items_dropped": len(confirmed.dropped)},
            )
        if confirmed.deleted.keys() - recorded.deleted.keys():
            log.info(
                "items deleted in Jira are left deleted: %s",
                ", ".join(f"{ref}={key}" for ref, key in sorted(confirmed.deleted.items())),
                extra={**self.extra, "items_deleted": len(confirmed.deleted)},
            )
        unrecorded = {ref: key for ref, key in confirmed.keys.items() if keyed.get(ref) != key}
        self.records.record_created(self.key, unrecorded, self.now())
        return confirmed

    # -- checks before anything is created ---------------------------------------------------

    def _check_jira(self, plan: TreePlan, missing: Sequence[PlannedItem]) -> dict[str, IssueType]:
        """Check issue types and people once, so a bad tree is refused whole, not half-made."""
        problems: list[str] = []
        offered = self.jira.issue_types(plan.project)
        settings = {
            self.rules.jira.issue_types.stage: "jira.issue_types.stage",
            self.rules.jira.issue_types.deliverable: "jira.issue_types.deliverable",
        }
        if plan.epic == "create":
            settings[self.rules.jira.request.epic_issue_type] = "jira.request.epic_issue_type"
        for name, setting in settings.items():
            if name not in offered:
                problems.append(
                    say(
                        self.rules,
                        "tree.missing_type",
                        project=plan.project,
                        name=name,
                        setting=setting,
                    )
                )
        deliverable = offered.get(self.rules.jira.issue_types.deliverable)
        if deliverable is not None and not deliverable.subtask:
            problems.append(say(self.rules, "tree.not_subtask", name=deliverable.name))
        owners = {item.owner.account: item.owner for item in missing}
        for account in self.jira.missing_users(owners):
            role = owner_label(self.rules, owners[account])
            problems.append(say(self.rules, "tree.missing_user", account=account, role=role))
        if not self.jira.is_cloud and any(item.level == "stage" for item in missing):
            if self.jira.epic_link_field(self.rules.jira.epic_link_field) is None:
                problems.append(say(self.rules, "tree.no_epic_link"))
        if problems:
            raise RequestProblemError(problems)
        return offered

    # -- creating ------------------------------------------------------------------------------

    def _parent_key(self, item: PlannedItem, keys: Mapping[str, str]) -> str | None:
        return self.key if item.parent == self.key else keys.get(item.parent)

    def _new_issue(
        self,
        item: PlannedItem,
        plan: TreePlan,
        keys: Mapping[str, str],
        types: Mapping[str, IssueType],
    ) -> NewIssue:
        parent = self._parent_key(item, keys)
        assert parent is not None  # only items whose parent exists are created
        return NewIssue(
            project=plan.project,
            issue_type_id=types[item.issue_type].id,
            summary=item.summary,
            description=item.description,
            due=item.due,
            assignee=item.owner.account,
            parent=parent,
            placement=PLACEMENTS[item.level],
            properties={ITEM_PROPERTY: item_record(self.key, item, plan.requesting_department)},
        )

    def _create(
        self,
        chunk: Sequence[PlannedItem],
        plan: TreePlan,
        keys: Mapping[str, str],
        types: Mapping[str, IssueType],
    ) -> tuple[dict[str, str], list[tuple[PlannedItem, str]]]:
        issues = {item.ref: self._new_issue(item, plan, keys, types) for item in chunk}
        if not self.records.claim(self.key, self.holder, self.now(), LEASE_SECONDS):
            # Too slow: the claim ran out and another worker took the tree over. Leave it to it.
            raise TreeBusyError(f"{self.key}: another worker took this tree over", BUSY_RETRY_S)
        outcome = self.creating.create(issues)
        failed = [
            (item, outcome.refused[item.ref]) for item in chunk if item.ref in outcome.refused
        ]
        for item, reason in failed:
            log.warning(
                "jira refused %s (%s): %s", item.ref, item.summary, reason, extra=self.extra
            )
        return outcome.keys, failed

    def _adopt(
        self,
        level: str,
        pending: Sequence[PlannedItem],
        keys: Mapping[str, str],
        stored: Mapping[str, Any],
    ) -> dict[str, str]:
        """Find issues an interrupted attempt created, by their `crossdept.item` property."""
        parents = sorted({key for item in pending if (key := self._parent_key(item, keys))})

        def ref_of(hit: Mapping[str, Any]) -> str | None:
            mark = item_mark(hit)
            return mark.ref if mark is not None and mark.request == self.key else None

        adopted = self.creating.adopt(
            {item.ref: stored[item.ref].intended_at for item in pending},
            parents,
            PLACEMENTS[level],
            ref_of,
        )
        if adopted:
            log.info("adopted %d issues an earlier attempt created", len(adopted), extra=self.extra)
        return adopted

    def _write_tree_record(
        self,
        keys: Mapping[str, str],
        deleted: Mapping[str, str],
        comment: tuple[str | None, str | None],
    ) -> None:
        value: dict[str, Any] = {
            "version": TREE_RECORD_VERSION,
            "rules": rules_digest(self.rules),
            "items": dict(sorted(keys.items())),
        }
        if deleted:
            value["deleted"] = dict(sorted(deleted.items()))
        if comment[0]:
            value["comment"] = {"id": comment[0], "digest": comment[1]}
        self.jira.set_issue_property(self.key, TREE_PROPERTY, value)

    # -- telling people ----------------------------------------------------------------------

    def _comment_once(self, text: str) -> None:
        Notices(self.context.store).comment_once(self.jira, self.key, RULE, text, self.now())

    def _tell_tree(
        self,
        topic: str,
        plan: TreePlan,
        keys: Mapping[str, str],
        deleted: Mapping[str, str],
        recorded: RecordedTree,
        *,
        existed: bool,
    ) -> tuple[str | None, str | None]:
        """Keep one summary comment on the request in step with the tree: posted once, then edited.

        `existed`: some items were there before this run, so an earlier run may have posted the
        summary and died before recording it; only then are the request's comments searched.
        """
        kept = (recorded.comment_id, recorded.comment_digest)
        if not self.rules.jira.request.summary_comment or not keys:
            return kept
        stages = [item for item in plan.level("stage") if item.ref in keys]
        url = self.jira.tree_url([keys[item.ref] for item in stages])
        text = render_tree_summary(self.rules, self.key, topic, plan, keys, deleted, url)
        digest = _digest(text)
        if recorded.comment_id and recorded.comment_digest == digest:
            return kept
        # Only when items existed before this run can an earlier run have posted the summary
        # and died before recording it.
        found = find_own_comment(self.jira, self.key, f"tree:{self.key}") if existed else None
        comment_id = recorded.comment_id or found
        if comment_id:
            try:
                self.jira.edit_comment(self.key, comment_id, text)
                return comment_id, digest
            except RefusedError as error:
                if error.status != 404:
                    raise
                # Someone deleted the summary; the tree changed since, so say it once more.
        return self.jira.add_comment(self.key, text), digest

    def _tell_groups(
        self, snapshot: RequestSnapshot, plan: TreePlan, keys: Mapping[str, str]
    ) -> None:
        """The departments' groups hear that the tree is there, once per request, with a link."""
        if not wanted(self.rules, "tree_built"):
            return
        stages = [item for item in plan.level("stage") if item.ref in keys]
        departments = tuple(
            dict.fromkeys([d for d in (snapshot.requesting_department, *snapshot.departments) if d])
        )
        names = join_names(self.rules, [department_name(self.rules, d) for d in departments])
        news = News(
            "tree_built",
            f"tree_built:{self.key}",
            say(self.rules, "tree.group.title", key=self.key, topic=people_words(snapshot.topic)),
            (
                say(
                    self.rules,
                    "tree.group.line",
                    count=len(keys),
                    stages=len(stages),
                    departments=names,
                ),
            ),
            link=self.jira.tree_url([keys[item.ref] for item in stages]),
            link_text=say(self.rules, "tree.group.link"),
            issue=self.key,
            request=self.key,
            departments=departments,
        )
        tell_groups(self.context, news)

    def _tell_problems(self, problems: Sequence[str]) -> None:
        """One living comment on the request naming what to fix, edited as that changes and
        closed once the tree can be built (none: close it if open)."""
        comments = RuleComments(self.jira)
        if not problems:
            comments.close(self.issue, PROBLEMS, self._signed("tree.problems_fixed", PROBLEMS))
            return
        log.warning(
            "request %s cannot get its tree: %s", self.key, "; ".join(problems), extra=self.extra
        )
        lines = [say(self.rules, "tree.problems", key=self.key)]
        lines += [f"* {problem}" for problem in problems]
        lines += ["", say(self.rules, "tree.problems_fix", key=self.key)]
        text = "\n".join(lines) + self._signed(None, PROBLEMS)
        comments.show(self.issue, PROBLEMS, text, marker=f"{PROBLEMS}:{self.key}")

    def _tell_refusals(self, refused: Sequence[tuple[PlannedItem, str]], created: int) -> None:
        """One living comment on the items Jira refused, closed once every one is created."""
        comments = RuleComments(self.jira)
        if not refused:
            comments.close(self.issue, REFUSALS, self._signed("tree.refusals_fixed", REFUSALS))
            return
        lines = [say(self.rules, "tree.refused", key=self.key, created=created, count=len(refused))]
        for item, reason in refused:
            entry = "tree.refused_item" if reason else "tree.skipped_item"
            lines.append(
                "* "
                + say(self.rules, entry, summary=plain(item.summary), ref=item.ref, reason=reason)
            )
        lines += ["", say(self.rules, "tree.refused_fix", key=self.key)]
        text = "\n".join(lines) + self._signed(None, REFUSALS)
        comments.show(self.issue, REFUSALS, text, marker=f"{REFUSALS}:{self.key}")

    def _signed(self, entry: str | None, rule: str) -> str:
        """An entry (or nothing) and the last line naming the comment, as crossdept signs it."""
        head = say(self.rules, entry, key=self.key) if entry else ""
        return head + say(self.rules, "tree.signature", marker=f"{rule}:{self.key}")


def item_record(request: str, item: PlannedItem, requesting: str | None = None) -> dict[str, Any]:
    """The `crossdept.item` property of a new item: its identity, what the ownership rule checks
    it against (its department, when its stage starts), and the request's 需求部门, to which the
    figures count the items of the requester and the PM (they have no department of their own)."""
    record: dict[str, Any] = {"request": request, "ref": item.ref}
    if item.supporting:
        record["supporting"] = list(item.supporting)
    if item.department:
        record["department"] = item.department
    elif requesting:
        record["requesting"] = requesting
    if item.starts:
        record["stage_start"] = item.starts.isoformat()
    return record


def render_tree_summary(
    rules: Rules,
    key: str,
    topic: str,
    plan: TreePlan,
    keys: Mapping[str, str],
    deleted: Mapping[str, str],
    url: str,
) -> str:
    """The request's summary comment: a table of stages with owner and due date, and a link to all."""
    stages = [item for item in plan.level("stage") if item.ref in keys]
    lines = [
        say(rules, "tree.summary_heading", key=key, topic=plain(topic)),
        say(rules, "tree.summary_intro", count=len(keys), stages=len(stages)),
        say(rules, "tree.summary_columns"),
    ]
    for item in stages:
        number = item.stage or 0
        stage = rules.stages[number - 1]
        name = say(
            rules, "tree.summary_stage", number=number, name=rules.text(stage.name, stage.name_en)
        )
        owner = owner_label(rules, item.owner)
        owner = owner[:1].upper() + owner[1:]  # a table cell starts with a capital in English
        lines.append(f"|{name}|{keys[item.ref]}|{owner}|{item.due.isoformat()}|")
    deliverables = sum(1 for item in plan.level("deliverable") if item.ref in keys)
    lines += [
        "",
        say(rules, "tree.summary_rest", deliverables=deliverables, count=len(keys), url=url),
    ]
    if deleted:
        names = plan.by_ref()
        listed = [
            f"{deleted[ref]}（{names[ref].summary}）" if ref in names else deleted[ref]
            for ref in sorted(deleted)
        ]
        lines += ["", say(rules, "tree.summary_deleted", key=key, items=join_names(rules, listed))]
    lines += ["", say(rules, "tree.summary_marker", key=key)]
    return "\n".join(lines)


# -- webhook routing --------------------------------------------------------------------------

router = Router()
schedule = Schedule()  # the tree rule has no periodic work


def touches_departments(event: JiraEvent, rules: Rules, jira: JiraPort) -> bool:
    """Say whether an update changed a department field (which adds items)."""
    wanted = rules.jira.request.fields
    return _changed(event, {wanted.departments, wanted.requesting_department}, jira)


def names_decision_makers(event: JiraEvent, rules: Rules, jira: JiraPort) -> bool:
    """Say whether an update changed the request's decision makers field (which adds their
    items and hands them what the plan gives them)."""
    field_id = rules.jira.request.fields.decision_makers
    return field_id is not None and _changed(event, {field_id}, jira)


def _changed(event: JiraEvent, ids: set[str], jira: JiraPort) -> bool:
    """Whether the update's changelog names one of these fields (it names custom fields by
    name, so an unnamed one is looked up)."""
    if event.changelog is None:
        return False
    unnamed = []
    for item in event.changelog.items:
        if item.field_id in ids or item.field in ids:
            return True
        if item.field_id is None and item.fieldtype == "custom":
            unnamed.append(item.field)
    if not unnamed:
        return False
    names = jira.field_names()
    return any(names.get(name) in ids for name in unnamed)


@router.register("jira:issue_created")
def build_tree(event: JiraEvent, context: Context) -> None:
    """A new collaboration request gets its whole tree."""
    if may_be_request(event, context.rules):
        apply_tree(str(event.issue_key), context)


@router.register("jira:issue_updated")
def extend_tree(event: JiraEvent, context: Context) -> None:
    """An edited request: add departments' missing items, or retry a tree that was blocked."""
    if not may_be_request(event, context.rules):
        return
    key = str(event.issue_key)
    status = TreeRecords(context.store).status(key)
    if status is None:
        return  # filed before crossdept: only `crossdept apply` builds its tree
    named = names_decision_makers(event, context.rules, context.jira)
    if (
        named
        or status in ("blocked", "partial", "building")
        or touches_departments(event, context.rules, context.jira)
    ):
        apply_tree(key, context, hand_over=named)
