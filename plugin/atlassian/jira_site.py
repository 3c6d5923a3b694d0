"""Which Jira a store serves, so one store is never used against another Jira by mistake.

Jira's serverInfo carries no instance id (Cloud's ServerInformation has only the base URL,
version, build and title), so a Jira is known by the base URL it reports itself and by its
deployment type. A restored backup or a recreated project keeps both: there, crossdept's records
are checked against Jira item by item instead (see plugin.rules.trees.trees).
https://developer.atlassian.com/cloud/jira/platform/rest/v2/api-group-server-info/
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Column, Float, Integer, String, Table, delete, insert, select
from sqlalchemy.exc import IntegrityError

from plugin.spine.errors import TransientGatewayError
from plugin.spine.store import Store, metadata

# At most one row: the Jira this store has served since it was first used.
jira_site = Table(
    "jira_site",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("base_url", String(500), nullable=False),
    Column("deployment", String(32), nullable=False),
    Column("title", String(255), nullable=True),
    Column("recorded_at", Float, nullable=False),
)
_ONLY_ROW = 1


@dataclass(frozen=True)
class JiraSite:
    """A Jira as serverInfo describes it: its own base URL and its deployment type."""

    base_url: str
    deployment: str
    title: str | None = None

    @classmethod
    def from_server_info(cls, info: Mapping[str, Any], fallback_url: str) -> JiraSite:
        """Read serverInfo; a Jira that reports no base URL is known by the URL we called."""
        url = str(info.get("baseUrl") or fallback_url)
        deployment = "Cloud" if str(info.get("deploymentType", "")).lower() == "cloud" else "Server"
        title = info.get("serverTitle")
        return cls(url.rstrip("/").lower(), deployment, str(title) if title else None)

    def same_as(self, other: JiraSite) -> bool:
        """The title may be renamed; the address and the deployment make the site."""
        return (self.base_url, self.deployment) == (other.base_url, other.deployment)

    def describe(self) -> str:
        """How people recognise it: `https://x.atlassian.net (Jira Cloud)`."""
        kind = "Jira Cloud" if self.deployment == "Cloud" else "Jira Data Center"
        return f"{self.base_url} ({kind})"


class JiraMismatchError(TransientGatewayError):
    """The store belongs to another Jira: acting would mix two Jiras' records. Retried slowly,
    so nothing accepted is lost while an operator points crossdept at the right Jira."""

    def __init__(self, recorded: JiraSite, current: JiraSite) -> None:
        super().__init__(
            f"this store serves {recorded.describe()}, not {current.describe()}", retry_after=300.0
        )
        self.recorded = recorded
        self.current = current


def recorded_site(store: Store) -> JiraSite | None:
    """The Jira this store serves, or None before its first connection."""
    with store.begin() as db:
        row = db.execute(select(jira_site).where(jira_site.c.id == _ONLY_ROW)).first()
    if row is None:
        return None
    return JiraSite(row.base_url, row.deployment, row.title)


def _row(site: JiraSite, now: float) -> dict[str, object]:
    return {
        "id": _ONLY_ROW,
        "base_url": site.base_url,
        "deployment": site.deployment,
        "title": site.title,
        "recorded_at": now,
    }


def check_site(store: Store, current: JiraSite, now: float) -> JiraSite:
    """Record the Jira on first use; raise JiraMismatchError when the store serves another."""
    recorded = recorded_site(store)
    if recorded is None:
        try:
            with store.begin() as db:
                db.execute(insert(jira_site).values(**_row(current, now)))
            return current
        except IntegrityError:  # another process recorded it first: compare with theirs
            recorded = recorded_site(store)
            assert recorded is not None
    if not recorded.same_as(current):
        raise JiraMismatchError(recorded, current)
    return recorded


def rebind_site(store: Store, current: JiraSite, now: float) -> JiraSite | None:
    """Make `current` the store's Jira (the same Jira at a new address); return the old one."""
    previous = recorded_site(store)
    with store.begin() as db:
        db.execute(delete(jira_site))
        db.execute(insert(jira_site).values(**_row(current, now)))
    return previous
