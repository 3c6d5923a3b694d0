"""The item mirror: the items the goal board counts, kept in the store so that a board view, a
/metrics scrape or a report costs no Jira call.

Jira stays the truth; the mirror is a cache that follows it three ways:
- webhooks (an item created, changed or deleted) update a row from the delivery's own fields at
  once, keeping what only crossdept's sealed mark tells (request, department, stage);
- once a minute one search for the items changed since the last one (`refresh_mirror`, one
  lease for every worker) brings in what webhooks do not carry: marks, crossdept's own changes,
  lost deliveries;
- once a night a full search compares every row, repairs what drifted and says how much did
  (`check_mirror`, hourly, acting after 02:00 in the rules' time zone; a lease of its own, two
  hours long, since reading every item of a large site can take minutes).
`crossdept mirror rebuild` drops the rows and reads them all again.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, replace
from dataclasses import fields as dataclass_fields
from datetime import datetime, time, timedelta
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Date,
    Float,
    Integer,
    String,
    Table,
    Text,
    delete,
    func,
    insert,
    select,
)
from sqlalchemy.dialects import postgresql, sqlite

from plugin.atlassian.queries import Items
from plugin.process.audit import Audit
from plugin.process.config import Rules
from plugin.process.items import ITEM_PROPERTY, epoch_of
from plugin.rules.reports.board import ItemFact, department_of, item_fact, marked_department
from plugin.spine.context import Context
from plugin.spine.events import JiraEvent
from plugin.spine.routing import Router
from plugin.spine.schedule import Schedule
from plugin.spine.store import Store, metadata

log = logging.getLogger(__name__)
router = Router()
schedule = Schedule()

MIRROR_FIELDS = ("summary", "assignee", "duedate", "status", "resolutiondate", "updated")
RECONCILE_OVERLAP_MINUTES = 2  # searched again each time: Jira's index lags its writes by seconds
NIGHTLY_AT = time(2, 0)  # the full reconcile, in the rules' time zone
ROWS_PER_STATEMENT = 500  # rows (or keys in one IN) per statement, well under SQLite's limits

item_mirror = Table(
    "item_mirror",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("summary", Text, nullable=False),
    Column("request", String(64), nullable=True, index=True),
    Column("marked_department", String(64), nullable=True),  # from crossdept's sealed mark
    Column("department", String(64), nullable=True),  # the mark's, else the owner's
    Column("owner", String(200), nullable=True),
    Column("owner_name", String(200), nullable=True),
    Column("due", Date, nullable=True),
    Column("done", Boolean, nullable=False),
    Column("done_on", Date, nullable=True),
    Column("stage", Integer, nullable=True),
    Column("started", Boolean, nullable=False),
    Column("supporting", JSON, nullable=True),  # 配合部门, from the mark (a list of keys)
    Column("updated", Float, nullable=False),  # Jira's `updated`: older news never overwrites
)

mirror_state = Table(
    "mirror_state",
    metadata,
    Column("name", String(32), primary_key=True),
    Column("at", Float, nullable=False),
    Column("detail", Text, nullable=True),
)
LAST_SEARCH = "last_search"  # when the last incremental (or full) search started
LAST_FULL = "last_full"  # when the last full reconcile ran, and what it found


@dataclass(frozen=True)
class MirrorRow:
    """One item as the mirror keeps it: the board's fact, the mark's department, Jira's updated."""

    fact: ItemFact
    marked_department: str | None
    updated: float


@dataclass(frozen=True)
class Drift:
    """What a full reconcile found the mirror had wrong, by kind."""

    missing: int = 0  # in Jira, not in the mirror
    stale: int = 0  # in both, different
    extra: int = 0  # in the mirror, no longer in Jira

    @property
    def total(self) -> int:
        """Rows that were wrong."""
        return self.missing + self.stale + self.extra

    def __str__(self) -> str:
        return f"{self.missing} missing, {self.stale} stale, {self.extra} extra"


def row_of(issue: Mapping[str, Any], rules: Rules) -> MirrorRow:
    """A searched item (its fields and crossdept's sealed mark, as the gateway opened it)."""
    fields = issue.get("fields") or {}
    return MirrorRow(
        item_fact(issue, rules), marked_department(issue), epoch_of(fields.get("updated")) or 0.0
    )


def row_from_delivery(issue: Mapping[str, Any], kept: MirrorRow | None, rules: Rules) -> MirrorRow:
    """An item as a webhook shows it: its fields are Jira's, but a webhook carries no issue
    property, so what the mark tells is kept from the row (or unknown until the next search)."""
    fields = issue.get("fields") or {}
    fact = item_fact({"key": issue.get("key"), "fields": fields}, rules)
    marked = kept.marked_department if kept else None
    department = department_of(marked, fact.owner, rules)
    fact = replace(
        fact,
        request=kept.fact.request if kept else None,
        stage=kept.fact.stage if kept else None,
        department=department,
        supporting=kept.fact.supporting if kept else (),
    )
    return MirrorRow(fact, marked, epoch_of(fields.get("updated")) or 0.0)


FACT_COLUMNS = tuple(
    field.name for field in dataclass_fields(ItemFact)
)  # the table holds each by name


def _values(row: MirrorRow) -> dict[str, Any]:
    """A row's columns: the fact's, the mark's department, and Jira's `updated`."""
    fact = asdict(row.fact)
    fact["supporting"] = list(row.fact.supporting)
    return {
        **fact,
        "marked_department": row.marked_department,
        "updated": row.updated,
    }


def fact_of(record: Any) -> ItemFact:
    """A mirror record as the board's fact."""
    values = {name: record._mapping[name] for name in FACT_COLUMNS}
    values["supporting"] = tuple(values.get("supporting") or ())
    return ItemFact(**values)


def _mirror_row(record: Any) -> MirrorRow:
    return MirrorRow(fact_of(record), record.marked_department, float(record.updated))


class Mirror:
    """The mirror's rows and its two timestamps, behind the verbs the rule and the board use."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def put(self, rows: Iterable[MirrorRow]) -> None:
        """Insert or replace rows; a row Jira changed later than this news stays as it is."""
        values = [_values(row) for row in rows]
        if not values:
            return
        dialect = postgresql if self.store.engine.dialect.name == "postgresql" else sqlite
        statement = dialect.insert(item_mirror)
        changed = {
            column.name: statement.excluded[column.name]
            for column in item_mirror.columns
            if column.name != "key"
        }
        upsert = statement.on_conflict_do_update(
            index_elements=[item_mirror.c.key],
            set_=changed,
            where=item_mirror.c.updated <= statement.excluded.updated,
        )
        with self.store.begin() as db:
            for start in range(0, len(values), ROWS_PER_STATEMENT):
                db.execute(upsert, values[start : start + ROWS_PER_STATEMENT])

    def drop(self, keys: Iterable[str]) -> None:
        """Forget these items."""
        wanted = list(keys)
        with self.store.begin() as db:
            for start in range(0, len(wanted), ROWS_PER_STATEMENT):
                db.execute(
                    delete(item_mirror).where(
                        item_mirror.c.key.in_(wanted[start : start + ROWS_PER_STATEMENT])
                    )
                )

    def row(self, key: str) -> MirrorRow | None:
        """One item's row, if the mirror holds it."""
        with self.store.begin() as db:
            found = db.execute(select(item_mirror).where(item_mirror.c.key == key)).first()
        if found is None:
            return None
        return _mirror_row(found)

    def rows(self) -> dict[str, MirrorRow]:
        """Every row, by key (for the nightly comparison)."""
        with self.store.begin() as db:
            found = db.execute(select(item_mirror)).all()
        return {record.key: _mirror_row(record) for record in found}

    def count(self) -> int:
        """How many items the mirror holds."""
        with self.store.begin() as db:
            return int(db.execute(select(func.count()).select_from(item_mirror)).scalar_one())

    def stamp(self, name: str) -> tuple[float, str | None] | None:
        """When `name` (LAST_SEARCH, LAST_FULL) last happened, and what it noted."""
        with self.store.begin() as db:
            found = db.execute(
                select(mirror_state.c.at, mirror_state.c.detail).where(mirror_state.c.name == name)
            ).first()
        return (float(found.at), found.detail) if found else None

    def set_stamp(self, name: str, at: float, detail: str | None = None) -> None:
        """Record when `name` happened."""
        dialect = postgresql if self.store.engine.dialect.name == "postgresql" else sqlite
        statement = dialect.insert(mirror_state).values(name=name, at=at, detail=detail)
        with self.store.begin() as db:
            db.execute(
                statement.on_conflict_do_update(
                    index_elements=[mirror_state.c.name], set_={"at": at, "detail": detail}
                )
            )

    def is_built(self) -> bool:
        """Say whether a full read has filled the mirror (before it, figures would be untrue)."""
        return self.stamp(LAST_FULL) is not None


def item_types(rules: Rules) -> tuple[str, str]:
    """The issue types the board counts: stages and deliverables."""
    return (rules.jira.issue_types.stage, rules.jira.issue_types.deliverable)


def items_query(rules: Rules, *, updated_within: int | None = None) -> Items:
    """What the board counts: the stage and deliverable items of the enforced projects."""
    return Items(tuple(rules.jira.projects), item_types(rules), updated_within=updated_within)


# What a delivery must show to stand for the item: Jira's issue webhooks carry every field, but
# an Automation rule's body may carry a few; such a change waits for the minute's search.
DELIVERY_NEEDS = ("issuetype", "summary", "status", "updated")


@router.register("jira:issue_created")
@router.register("jira:issue_updated")
def mirror_changed_item(event: JiraEvent, context: Context) -> None:
    """Bring a changed item's row up to date from the delivery itself (no Jira call)."""
    if event.issue is None or not event.issue.key:
        return  # the composed router admitted only the enforced projects
    fields = event.issue.fields
    if any(not fields.get(name) for name in DELIVERY_NEEDS):
        return
    mirror = Mirror(context.store)
    issue = {"key": event.issue.key, "fields": fields}
    if (fields["issuetype"] or {}).get("name") not in item_types(context.rules):
        mirror.drop([event.issue.key])  # not an item, or no longer one (its type changed)
        return
    row = row_from_delivery(issue, mirror.row(event.issue.key), context.rules)
    mirror.put([row])


@router.register("jira:issue_deleted")
def forget_deleted_item(event: JiraEvent, context: Context) -> None:
    """A deleted item leaves the figures at once."""
    if event.issue is not None and event.issue.key:
        Mirror(context.store).drop([event.issue.key])


def read_every_item(context: Context) -> dict[str, MirrorRow]:
    """Every item the board counts, as Jira has it now (one paged search)."""
    found = context.jira.search(
        items_query(context.rules), fields=MIRROR_FIELDS, properties=[ITEM_PROPERTY]
    )
    return {row.fact.key: row for row in (row_of(issue, context.rules) for issue in found)}


def reconcile_all(context: Context) -> Drift:
    """Read every item, repair every row that differs and drop the rows Jira no longer has."""
    started = context.clock().timestamp()
    fresh = read_every_item(context)
    mirror = Mirror(context.store)
    kept = mirror.rows()
    missing = [row for key, row in fresh.items() if key not in kept]
    stale = [
        row
        for key, row in fresh.items()
        if key in kept
        and kept[key].updated <= row.updated  # a webhook since the search is newer news
        and (kept[key].fact, kept[key].marked_department) != (row.fact, row.marked_department)
    ]
    # A row Jira changed after the read began (its webhook came meanwhile) is not extra.
    extra = [key for key, row in kept.items() if key not in fresh and row.updated < started]
    mirror.put([*missing, *stale])
    mirror.drop(extra)
    drift = Drift(len(missing), len(stale), len(extra))
    mirror.set_stamp(LAST_FULL, started, str(drift))
    return drift


def reconcile_changes(context: Context, since: float) -> int:
    """Read the items changed since `since` (and a little before) and bring their rows up to date."""
    rules = context.rules
    started = context.clock().timestamp()
    minutes = int((started - since) // 60) + 1 + RECONCILE_OVERLAP_MINUTES
    found = context.jira.search(
        items_query(rules, updated_within=minutes),
        fields=MIRROR_FIELDS,
        properties=[ITEM_PROPERTY],
    )
    mirror = Mirror(context.store)
    mirror.put([row_of(issue, rules) for issue in found])
    mirror.set_stamp(LAST_SEARCH, started)
    return len(found)


def nightly_due(last_full: float, now: datetime, rules: Rules) -> bool:
    """A full reconcile is due once a night: none since last night's moment."""
    local = now.astimezone(rules.tz)
    moment = datetime.combine(local.date(), NIGHTLY_AT, tzinfo=rules.tz)
    if local < moment:
        moment -= timedelta(days=1)
    return last_full < moment.timestamp()


@schedule.every(minutes=1, exclusive=True)
def refresh_mirror(context: Context) -> str:
    """Once a minute, read the items changed since the last search (the first time, every item)."""
    mirror = Mirror(context.store)
    last = mirror.stamp(LAST_SEARCH)
    if last is None:
        started = context.clock().timestamp()
        reconcile_all(context)
        mirror.set_stamp(LAST_SEARCH, started)
        return f"first read: {mirror.count()} items"
    return f"changed items read: {reconcile_changes(context, last[0])}"


@schedule.every(minutes=60, exclusive=True)
def check_mirror(context: Context) -> str:
    """Once a night, read every item again: repair the rows that drifted and say how many did."""
    mirror = Mirror(context.store)
    full = mirror.stamp(LAST_FULL)
    now = context.clock()
    if full is None:
        return "not read yet"  # the minute's refresh reads everything first
    if not nightly_due(full[0], now, context.rules):
        return "not the time"
    drift = reconcile_all(context)
    if drift.total:
        log.warning("the item mirror had drifted from Jira and was repaired: %s", drift)
        Audit(context.store).record(
            now.timestamp(), "-", "reports", "mirror drift repaired", str(drift)
        )
    return f"drift: {drift}"


def rebuild(context: Context) -> int:
    """Drop the mirror and fill it again from Jira; returns how many items it holds.

    Jira is read first and the rows are swapped in one transaction, so a board view meanwhile
    sees the old figures, never an empty mirror."""
    started = context.clock().timestamp()
    fresh = read_every_item(context)
    values = [_values(row) for row in fresh.values()]
    with context.store.begin() as db:
        db.execute(delete(item_mirror))
        for start in range(0, len(values), ROWS_PER_STATEMENT):
            db.execute(insert(item_mirror), values[start : start + ROWS_PER_STATEMENT])
    mirror = Mirror(context.store)
    mirror.set_stamp(LAST_SEARCH, started)
    mirror.set_stamp(LAST_FULL, started)
    return len(values)
