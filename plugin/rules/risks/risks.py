"""Risk warnings: an owner's warning on their item becomes a tracked 《风险预警表》 for the lead
department, and a risk meeting when it is high.

Seed 001: an owner who sees a risk to their item warns the lead and collaborating departments
with a 《风险预警表》 (type, impact, proposed solution), and the lead department organises the
assessment; seeds 000 and 002 call a risk meeting within 30 minutes for a high risk. In Jira:

1. the owner comments on their item, `风险预警` on the first line and a field per line (the
   delay reminder says how); only the item's owner, on an item crossdept made, is believed;
2. crossdept files the warning as an item under the request, owned by the lead department's
   head and due `risks.assess_within` working days later, linked to the item;
3. it answers on the item once, naming the head and the collaborating departments' contacts;
4. at a level in `risks.meeting_levels`, it asks the project manager on the new item to call a
   risk meeting within `risks.meeting_within`.

Each step is safe to repeat: the item is created exactly once (plugin.process.creation), and
the comments are said once. The register on the request's pages lists what was filed.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from plugin.atlassian.ports import NewIssue
from plugin.process.audit import Audit
from plugin.process.comment_events import comment_change, commented_issue
from plugin.process.config import Rules
from plugin.process.creation import ExactlyOnce
from plugin.process.items import (
    EPIC_REF,
    ITEM_PROPERTY,
    TREE_PROPERTY,
    epoch_of,
    is_done,
    item_mark,
    link_once,
    person_of,
    read_tree_record,
)
from plugin.process.notices import Notices
from plugin.process.wording import department_name, mention, plain, span_words
from plugin.rules.risks.config import RiskRules, risk_rules
from plugin.rules.risks.risk_records import RiskRecord, RiskRecords
from plugin.rules.risks.warning import is_warning, read_warning
from plugin.rules.risks.wording import say
from plugin.rules.trees import RequestSnapshot, read_request, request_fields
from plugin.spine.context import Context
from plugin.spine.errors import NotYetError
from plugin.spine.events import JiraEvent, created_by_crossdept
from plugin.spine.leases import Leases, new_holder
from plugin.spine.routing import Router

log = logging.getLogger(__name__)

RULE = "risks"
RISK_PREFIX = "risk:"  # the ref of a 《风险预警表》 item: risk:<item key>:<comment id>
LEASE_SECONDS = 60.0
BUSY_RETRY_S = 5.0

router = Router()


class RiskBusyError(NotYetError):
    """Another worker is filing this warning (Jira sends each comment twice), or Jira's search
    index has yet to show what an interrupted attempt created."""


def risk_ref(item_key: str, comment_id: str) -> str:
    """The ref of the 《风险预警表》 filed from one comment."""
    return f"{RISK_PREFIX}{item_key}:{comment_id}"


@router.register("comment_created")
@router.register("jira:issue_updated", "issue_commented")
def file_risk_warning(event: JiraEvent, context: Context) -> None:
    """An owner's risk warning on their item is filed for the lead department to assess."""
    section = risk_rules(context.rules)
    comment = event.comment
    if section is None or comment is None or comment_change(event) != "created":
        return
    if not isinstance(comment.body, str) or not is_warning(comment.body):
        return  # most comments: the payload says it is no warning, nothing to read
    key = commented_issue(event, context)
    if key is None:
        return
    leases, holder = Leases(context.store), new_holder("risk")
    name = risk_ref(key, comment.id)
    if not leases.take(name, holder, context.clock().timestamp(), LEASE_SECONDS):
        raise RiskBusyError(f"{key}: another worker is filing this risk warning", BUSY_RETRY_S)
    try:
        _Filing(key, comment.id, context, section).run()
    finally:
        leases.give_back(name, holder)


@dataclass(frozen=True)
class _Intents:
    """One warning's intent, kept with the warning itself (ExactlyOnce's Intents)."""

    records: RiskRecords

    def intend(self, issues: Mapping[str, NewIssue], now: float) -> None:
        for ref in issues:
            self.records.intend(ref, now)

    def created(self, keys: Mapping[str, str], now: float) -> None:
        self.records.created(keys)

    def forget(self, refs: Sequence[str]) -> None:
        self.records.forget(refs)


class _Filing:
    """One run of the risks rule for one comment."""

    def __init__(self, key: str, comment_id: str, context: Context, section: RiskRules) -> None:
        self.key = key
        self.comment_id = comment_id
        self.context = context
        self.rules: Rules = context.rules
        self.section = section
        self.jira = context.jira
        self.records = RiskRecords(context.store)
        self.notices = Notices(context.store)

    def now(self) -> float:
        return self.context.clock().timestamp()

    def mention(self, account: str) -> str:
        return mention(account, cloud=self.jira.is_cloud)

    def run(self) -> None:
        rules, jira = self.rules, self.jira
        issue = jira.get_issue(self.key, ["summary", "assignee", "status"], [ITEM_PROPERTY])
        mark = item_mark(issue)
        fields: Mapping[str, Any] = issue.get("fields") or {}
        if mark is None or mark.ref.startswith(RISK_PREFIX) or is_done(fields, rules):
            return  # not an item crossdept tracks, a warning's own item, or done already
        written = next(
            (c for c in jira.list_comments(self.key) if str(c.get("id")) == self.comment_id), None
        )
        if written is None:
            return  # deleted since
        author = person_of(written.get("author"))
        if author is None or author != person_of(fields.get("assignee")):
            log.info(
                "risk warning from someone other than the item's owner ignored",
                extra={"issue": self.key, "author": author},
            )
            return
        reading = read_warning(
            str(written.get("body") or ""), self.section.levels, self.section.default_level
        )
        if reading is None:
            return  # edited since into something else
        if reading.warning is None:
            lacks = [say(rules, f"risks.field.{name}") for name in reading.missing]
            if reading.unknown_level is not None:
                levels = " / ".join(self.section.levels)
                lacks.append(
                    say(
                        rules,
                        "risks.unknown_level",
                        level=plain(reading.unknown_level),
                        levels=levels,
                    )
                )
            self._comment(
                self.key,
                say(
                    rules,
                    "risks.incomplete",
                    key=self.key,
                    raised_by=self.mention(author),
                    missing="；".join(lacks) if rules.language == "zh-CN" else "; ".join(lacks),
                    levels=" / ".join(self.section.levels),
                ),
            )
            return
        ref = risk_ref(self.key, self.comment_id)
        record = self.records.note(
            ref,
            request_key=mark.request,
            item_key=self.key,
            raised_by=author,
            raised_at=epoch_of(written.get("created")) or self.now(),
            warning=reading.warning,
        )
        request = jira.get_issue(record.request_key, request_fields(rules), [TREE_PROPERTY])
        snapshot = read_request(request, rules)
        lead = snapshot.requesting_department
        if lead is None or lead not in rules.departments:
            self._comment(
                self.key,
                say(
                    rules,
                    "risks.no_head",
                    key=self.key,
                    raised_by=self.mention(author),
                    lead=lead or "—",
                ),
            )
            return
        head = rules.departments[lead].head
        contacts = [
            rules.departments[name].contact
            for name in dict.fromkeys(snapshot.departments)
            if name != lead
            and name in rules.departments
            and rules.departments[name].contact != author  # who warned knows already
        ]
        due = self._due(record, snapshot)
        parent = read_tree_record(request).items.get(EPIC_REF) or snapshot.key
        risk_key = record.issue_key or self._create(
            record, snapshot, parent, str(fields.get("summary") or ""), head, contacts, due
        )
        if risk_key is None:
            return
        link_once(self.jira, [risk_key], self.key)
        self._tell_filed(record, risk_key, lead, head, contacts, due)
        if record.level in self.section.meeting_levels:
            self._ask_for_meeting(record, risk_key, snapshot.project_manager or head)

    def _due(self, record: RiskRecord, snapshot: RequestSnapshot) -> date:
        """`assess_within` working days after the warning, never after the request's own due
        date (no child is due after its parent)."""
        raised = datetime.fromtimestamp(record.raised_at, self.rules.tz).date()
        due = self.rules.work_calendar.add_working_days(raised, self.section.assess_within)
        if snapshot.due is not None and raised <= snapshot.due < due:
            return snapshot.due
        return due

    def _create(
        self,
        record: RiskRecord,
        snapshot: RequestSnapshot,
        parent: str,
        item_summary: str,
        head: str,
        contacts: Sequence[str],
        due: date,
    ) -> str | None:
        """The warning's 《风险预警表》 item, created exactly once; None when Jira refused it."""
        rules = self.rules
        creating = ExactlyOnce(
            self.jira,
            _Intents(self.records),
            self.now,
            self.key,
            waiting=RiskBusyError,
            epic_link_field=rules.jira.epic_link_field,
        )
        if record.intended_at is not None:

            def ref_of(hit: Mapping[str, Any]) -> str | None:
                mark = item_mark(hit)
                return mark.ref if mark is not None and mark.ref == record.ref else None

            adopted = creating.adopt(
                {record.ref: record.intended_at}, [parent], "epic_child", ref_of
            ).get(record.ref)
            if adopted is not None:
                return adopted
        type_name = rules.jira.issue_types.stage
        kind = self.jira.issue_types(snapshot.project).get(type_name)
        if kind is None:
            self._refused(f"no issue type {type_name} in {snapshot.project}")
            return None
        warning = record.warning
        lead = snapshot.requesting_department or ""
        new = NewIssue(
            project=snapshot.project,
            issue_type_id=kind.id,
            summary=say(rules, "risks.summary", item=self.key, kind=warning.kind)[:255],
            description=say(
                rules,
                "risks.description",
                item=self.key,
                item_summary=plain(item_summary),
                raised_by=self.mention(record.raised_by),
                day=datetime.fromtimestamp(record.raised_at, rules.tz).date().isoformat(),
                kind=plain(warning.kind),
                impact=plain(warning.impact),
                plan=plain(warning.plan),
                level=plain(warning.level),
                trigger=plain(warning.trigger) or say(rules, "risks.no_trigger"),
                head=self.mention(head),
                lead=department_name(rules, lead),
                due=due.isoformat(),
                contacts=" ".join(self.mention(c) for c in contacts) or say(rules, "risks.nobody"),
            ),
            due=due,
            assignee=head,
            parent=parent,
            placement="epic_child",
            properties={
                ITEM_PROPERTY: {
                    "request": snapshot.key,
                    "ref": record.ref,
                    "risk": {"level": warning.level, "item": self.key},
                }
            },
        )
        made = creating.create({record.ref: new})
        if record.ref not in made.keys:
            self._refused(made.refused.get(record.ref, "refused"))
            return None
        risk_key = made.keys[record.ref]
        self.context.announce(created_by_crossdept(risk_key, on_behalf_of=record.raised_by))
        Audit(self.context.store).record(
            self.now(),
            risk_key,
            RULE,
            "risk warning filed",
            f"{warning.level}: raised on {self.key} by {record.raised_by}, assessed by {head} by {due.isoformat()}",
            self.context.delivery_key,
        )
        log.info("risk warning filed", extra={"issue": self.key, "risk": risk_key})
        return risk_key

    def _tell_filed(
        self,
        record: RiskRecord,
        risk_key: str,
        lead: str,
        head: str,
        contacts: Sequence[str],
        due: date,
    ) -> None:
        """Answer the owner on their item, once, naming who assesses it and who is told."""
        lines = [
            say(
                self.rules,
                "risks.filed",
                risk=risk_key,
                raised_by=self.mention(record.raised_by),
                level=plain(record.level),
                head=self.mention(head),
                lead=department_name(self.rules, lead),
                due=due.isoformat(),
            )
        ]
        if contacts:
            people = " ".join(self.mention(c) for c in dict.fromkeys(contacts))
            lines.append(say(self.rules, "risks.filed_contacts", contacts=people))
        self._comment(self.key, "\n".join(lines))

    def _ask_for_meeting(self, record: RiskRecord, risk_key: str, pm: str) -> None:
        """Ask the project manager, once, to call the risk meeting within `meeting_within`."""
        within = self.section.meeting_within
        deadline = datetime.fromtimestamp(record.raised_at, self.rules.tz) + within
        self._comment(
            risk_key,
            say(
                self.rules,
                "risks.meeting",
                risk=risk_key,
                pm=self.mention(pm),
                level=plain(record.level),
                deadline=deadline.strftime("%Y-%m-%d %H:%M"),
                within=span_words(self.rules, within),
            ),
        )

    def _refused(self, reason: str) -> None:
        """Jira refused the item: said once on the warned item, where its owner looks."""
        log.warning("risk warning not filed", extra={"issue": self.key, "reason": reason})
        self._comment(
            self.key, say(self.rules, "risks.refused", key=self.key, reason=plain(reason))
        )

    def _comment(self, key: str, text: str) -> None:
        marked = f"{text.rstrip()}\n\n{say(self.rules, 'risks.marker', key=key)}"
        self.notices.comment_once(self.jira, key, RULE, marked, self.now())
