"""The weekly progress page: every week, each active request's 《项目进度跟踪表》 in Confluence.

At `reports.weekly` (day and time in the rules' timezone), or on `crossdept report weekly KEY`,
crossdept re-reads the request's items from Jira, takes each delay's reason and measures from
the owner's latest comment (asking the owner once per due date when there is none), and
publishes one page per request under the request's own page (itself under
`confluence.parent_page`). The page is found again by its content property and updated in place
as a new version when the table changed.
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Column, Float, String, Table, insert, select, update
from sqlalchemy.exc import IntegrityError

from plugin.atlassian.pages import parent_page, publish_page
from plugin.atlassian.ports import Page
from plugin.atlassian.storage import People, preview_html
from plugin.process.audit import Audit
from plugin.process.config import WEEKDAYS, Rules
from plugin.process.groups import News, departments_led_by, people_words, tell_groups
from plugin.process.items import (
    EPIC_REF,
    ITEM_PROPERTY,
    TREE_PROPERTY,
    is_done,
    read_tree_record,
)
from plugin.process.notices import Notices
from plugin.process.page_access import request_page_restriction
from plugin.process.wording import lead_department_name, mention
from plugin.rules.reports.board import item_fact
from plugin.rules.reports.board_sources import ITEM_FIELDS
from plugin.rules.reports.config import report_rules
from plugin.rules.reports.progress_report import (
    ProgressRow,
    progress_rows,
    render_progress_page,
    report_title,
)
from plugin.rules.reports.wording import say
from plugin.rules.risks import register_rows, render_register
from plugin.rules.trees import TreeRecords, read_request, request_fields
from plugin.spine.context import Context
from plugin.spine.errors import TransientGatewayError
from plugin.spine.schedule import Schedule
from plugin.spine.store import Store, metadata

log = logging.getLogger(__name__)

REPORT_PROPERTY = "crossdept.report"  # on the weekly page: {request, report: "weekly"}
REQUEST_PROPERTY = "crossdept.request"  # on the request's page: {request}

schedule = Schedule()

weekly_reports = Table(
    "weekly_reports",
    metadata,
    Column("request_key", String(64), primary_key=True),
    Column("request_page_id", String(64), nullable=True),
    Column("request_page_digest", String(32), nullable=True),
    Column("page_id", String(64), nullable=True),
    Column("page_digest", String(32), nullable=True),
    Column("week", String(10), nullable=True),  # ISO week of the last scheduled publication
    Column("published_at", Float, nullable=True),
)


@dataclass
class WeeklyOutcome:
    """What one run did."""

    request: str
    status: str  # "published", "preview", "blocked", "skipped"
    title: str = ""
    page: Page | None = None
    rows: list[ProgressRow] = field(default_factory=list)
    asked: list[str] = field(default_factory=list)  # items whose owner was asked for a reason
    reason: str = ""  # why it was skipped


def _stored(store: Store, key: str) -> dict[str, Any]:
    with store.begin() as db:
        row = db.execute(select(weekly_reports).where(weekly_reports.c.request_key == key)).first()
    return dict(row._mapping) if row is not None else {}


def _record(store: Store, key: str, **values: Any) -> None:
    try:
        with store.begin() as db:
            db.execute(insert(weekly_reports).values(request_key=key, **values))
    except IntegrityError:
        with store.begin() as db:
            db.execute(
                update(weekly_reports).where(weekly_reports.c.request_key == key).values(**values)
            )


def publish_weekly(
    key: str, context: Context, *, preview: Path | None = None, week: str | None = None
) -> WeeklyOutcome:
    """Build the request's progress table; publish it, or with `preview` only write it locally."""
    rules, jira = context.rules, context.jira
    lead_field = rules.jira.request.fields.requesting_department
    request = jira.get_issue(key, request_fields(rules), [TREE_PROPERTY])
    if ((request.get("fields") or {}).get("issuetype") or {}).get(
        "name"
    ) != rules.jira.request.issue_type:
        return WeeklyOutcome(key, "skipped", reason="not a collaboration request")
    summary = str((request.get("fields") or {}).get("summary") or "")
    # The epic crossdept creates (epic: create) holds the work like the request does: it is no
    # row of the table, as the request is none under `epic: self`.
    record = read_tree_record(request).items
    keys = sorted({key for ref, key in record.items() if ref != EPIC_REF})
    if not keys:  # no tree (refused, or not built yet): an empty table would say nothing true
        return WeeklyOutcome(key, "skipped", reason="it has no tree, so nothing to report")
    issues = jira.read_issues(keys, ITEM_FIELDS, [ITEM_PROPERTY]) if keys else []
    facts = [item_fact(issue, rules) for issue in issues]
    now = context.clock()
    today = now.astimezone(rules.tz).date()
    calendar = rules.work_calendar
    late = [f.key for f in facts if not f.done and f.due is not None and f.due < today]
    comments = {item: jira.list_comments(item) for item in late}
    rows = progress_rows(facts, comments, today=today, calendar=calendar)
    lead = lead_department_name(rules, (request.get("fields") or {}).get(lead_field))
    title = report_title(rules, today, summary, key, lead)
    # Owners by the names Jira gave with the items: the preview shows people, not account ids.
    names = {fact.owner: fact.owner_name for fact in facts if fact.owner and fact.owner_name}
    risks = register_rows(context, key)
    names |= {risk.owner: risk.owner_name for risk in risks if risk.owner and risk.owner_name}
    people = People(names=names, cloud=jira.is_cloud)
    # The risk register (风险登记表) under the table, and on the request's own page.
    register = render_register(rules, risks, people, jira.issue_url)
    body = render_progress_page(
        rules,
        request_key=key,
        request_summary=summary,
        today=today,
        rows=rows,
        people=people,
        issue_url=jira.issue_url,
        register=register,
    )
    outcome = WeeklyOutcome(key, "preview", title, rows=rows)
    if preview is not None:
        preview.write_text(preview_html(title, body, people), encoding="utf-8")
        return outcome
    notices = Notices(context.store)
    for row in rows:
        if row.state == "delayed" and row.reason is None and row.owner and row.due:
            text = say(
                rules,
                "weekly.ask",
                key=row.key,
                mention=mention(row.owner, cloud=jira.is_cloud),
                due=row.due.isoformat(),
            )
            if notices.comment_once(jira, row.key, "weekly-reason", text, now.timestamp()):
                outcome.asked.append(row.key)
    confluence, settings = context.confluence, rules.confluence
    if confluence is None or settings is None:
        raise TransientGatewayError("Confluence is not configured (CROSSDEPT_CONFLUENCE_URL)")
    site = jira.issue_url("")[: -len("/browse/")]
    stored = _stored(context.store, key)
    snapshot = read_request(request, rules)
    restriction = request_page_restriction(
        rules,
        confluence,
        lead=snapshot.requesting_department,
        collaborating=snapshot.departments,
        people=(snapshot.project_manager,),
    )
    request_page = publish_page(
        confluence,
        space=settings.space,
        title=say(rules, "weekly.request_page", key=key, summary=summary),
        body=f'<p><a href="{jira.issue_url(key)}">{key}</a></p>{register}',
        parent=lambda: parent_page(confluence, settings.space, weekly_parent(rules)),
        name=REQUEST_PROPERTY,
        mark={"request": key, "site": site},
        known_id=stored.get("request_page_id"),
        known_digest=stored.get("request_page_digest"),
        restriction=restriction,
    )
    above = request_page.page
    report = publish_page(
        confluence,
        space=settings.space,
        title=title,
        body=body,
        parent=lambda: above,
        name=REPORT_PROPERTY,
        mark={"request": key, "report": "weekly", "site": site},
        known_id=stored.get("page_id"),
        known_digest=stored.get("page_digest"),
        restriction=restriction,
    )
    if report.page is None:
        log.warning("weekly report title taken: %s", title, extra={"issue": key})
        outcome.status = "blocked"
        return outcome
    for refused in {request_page.restriction_refused, report.restriction_refused} - {None}:
        log.warning("weekly page restrictions refused", extra={"issue": key, "reason": refused})
        Audit(context.store).record(
            now.timestamp(), key, "reports", "page restrictions refused", refused, None
        )
    values: dict[str, Any] = {
        "request_page_id": above.id if above else None,
        "request_page_digest": request_page.digest,
        "page_id": report.page.id,
        "page_digest": report.digest,
        "published_at": now.timestamp(),
    }
    if week is not None:
        values["week"] = week
    _record(context.store, key, **values)
    outcome.status, outcome.page = "published", report.page
    states = Counter(row.state for row in rows)
    owners = sorted({fact.owner for fact in facts if fact.owner})
    news = News(
        "weekly",
        f"weekly:{key}:{week or today.isoformat()}",
        say(rules, "weekly.group.title", key=key, summary=people_words(summary, limit=60)),
        (
            say(
                rules,
                "weekly.group.line",
                done=states["done"],
                open=sum(n for state, n in states.items() if state not in ("done", "delayed")),
                delayed=states["delayed"],
            ),
        ),
        link=report.page.url,
        link_text=report.page.title,
        issue=key,
        request=key,
        departments=departments_led_by(rules, owners),
    )
    tell_groups(context, news)
    return outcome


def weekly_parent(rules: Rules) -> str:
    """The title of the page the weekly pages go under: their own, never the minutes' one."""
    weekly = report_rules(rules).weekly
    if weekly is not None and weekly.parent_page:
        return weekly.parent_page
    return say(rules, "weekly.parent_page")


def due_week(rules: Rules, now: datetime) -> str | None:
    """This week's ISO id once its publication moment has passed, else None."""
    weekly = report_rules(rules).weekly
    if weekly is None:
        return None
    local = now.astimezone(rules.tz)
    monday = local.date() - timedelta(days=local.weekday())
    slot_day = monday + timedelta(days=WEEKDAYS.index(weekly.day))
    slot = datetime.combine(slot_day, weekly.at, tzinfo=rules.tz)
    if local < slot:
        return None
    year, number, _ = slot_day.isocalendar()
    return f"{year}-W{number:02d}"


@schedule.every(minutes=15, exclusive=True)
def publish_weekly_reports(context: Context) -> str:
    """Once its weekly moment has passed, publish each active request's progress table once."""
    week = due_week(context.rules, context.clock())
    if week is None:
        return "not the time"
    published = 0
    requests = TreeRecords(context.store).built()
    with context.store.begin() as db:
        done_weeks = {
            str(row.request_key): row.week
            for row in db.execute(select(weekly_reports.c.request_key, weekly_reports.c.week))
        }
    todo = [key for key in requests if done_weeks.get(key) != week]
    if todo:
        found = context.jira.read_issues(todo, ["status"])
        active = [str(i["key"]) for i in found if not is_done(i.get("fields") or {}, context.rules)]
        for key in active:
            if publish_weekly(key, context, week=week).status == "published":
                published += 1
    return f"{published} weekly pages published for {week}"
