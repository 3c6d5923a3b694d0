"""Write-once issue properties crossdept knows by issue id: what Data Center's search cannot return.

Jira Cloud returns issue properties with search results; Jira Data Center does not (its search
bean has no `properties`, see sandbox/specs/jira-dc.contract.json), only `GET /issue/{key}` does.
Reading each found issue once more would cost a call per item on every tree, sweep and board.
So the gateway records here every such property it writes when it creates an issue, and every one
it reads from an issue, and fills DC search results from this book: an issue is read once, ever.

Only properties set when an issue is created and never changed belong here (`crossdept.item`).
A person editing one later is not believed: the book keeps what crossdept first saw. The book is
also how the gateway tells a sealed mark copied to another issue from crossdept's own
(plugin.atlassian.seals): it recorded which issue crossdept created with it.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from sqlalchemy import Column, Float, String, Table, Text, select
from sqlalchemy.dialects import postgresql, sqlite

from plugin.spine.store import Store, metadata

# One row per issue and property: its value as JSON, or NULL when the issue has none.
issue_marks = Table(
    "issue_marks",
    metadata,
    Column("issue_id", String(32), primary_key=True),
    Column("property", String(191), primary_key=True),
    Column("value", Text, nullable=True),
    Column("recorded_at", Float, nullable=False),
)

# SQLite takes at most 999 bound parameters in old builds; stay well under it.
LOOKUP_CHUNK = 500


class MarkBook:
    """The issue_marks table: what crossdept wrote or read of its write-once properties."""

    def __init__(self, store: Store, clock: Callable[[], float] = time.time) -> None:
        self.store = store
        self.clock = clock

    def lookup(self, name: str, issue_ids: Iterable[str]) -> dict[str, Any]:
        """The recorded value of property `name` by issue id (None: known to have none).

        Issues the book has never seen are left out, so the caller reads them from Jira.
        """
        wanted = sorted(set(issue_ids))
        found: dict[str, Any] = {}
        with self.store.begin() as db:
            for start in range(0, len(wanted), LOOKUP_CHUNK):
                chunk = wanted[start : start + LOOKUP_CHUNK]
                rows = db.execute(
                    select(issue_marks.c.issue_id, issue_marks.c.value).where(
                        issue_marks.c.property == name, issue_marks.c.issue_id.in_(chunk)
                    )
                )
                for issue_id, value in rows:
                    found[str(issue_id)] = None if value is None else json.loads(value)
        return found

    def holders(self, name: str, seal: str) -> list[str]:
        """The issues whose recorded property `name` carries this seal (plugin.atlassian.seals).

        Asked only for an issue the book has never seen, to tell a copy from a lost record.
        """
        if not seal:
            return []
        pattern = "%" + seal.replace("\\", "").replace("%", "").replace("_", "") + "%"
        with self.store.begin() as db:
            rows = db.execute(
                select(issue_marks.c.issue_id).where(
                    issue_marks.c.property == name, issue_marks.c.value.like(pattern)
                )
            )
            return sorted(str(issue_id) for (issue_id,) in rows)

    def record(self, name: str, values: Mapping[str, Any]) -> None:
        """Remember property `name` of these issues (None: none); the first value recorded wins."""
        if not values:
            return
        now = self.clock()
        rows = [
            {
                "issue_id": str(issue_id),
                "property": name,
                "value": None if value is None else json.dumps(value, ensure_ascii=False),
                "recorded_at": now,
            }
            for issue_id, value in values.items()
        ]
        dialect = postgresql if self.store.engine.dialect.name == "postgresql" else sqlite
        statement = dialect.insert(issue_marks).on_conflict_do_nothing(
            index_elements=["issue_id", "property"]
        )
        with self.store.write() as db:
            db.execute(statement, rows)
