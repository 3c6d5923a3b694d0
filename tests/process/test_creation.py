"""Creating issues exactly once: intents first, refusals forgotten, lost answers adopted."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

import pytest

from plugin.atlassian.ports import BulkResult, CreatedIssue, ItemRefusal, NewIssue
from plugin.atlassian.queries import Children
from plugin.process.creation import SETTLE_SECONDS, ExactlyOnce
from plugin.process.items import ITEM_PROPERTY
from plugin.spine.errors import NotYetError, RefusedError, TransientGatewayError


class Book:
    """Intents in memory: ref -> None (intended) or the key Jira gave."""

    def __init__(self) -> None:
        self.rows: dict[str, str | None] = {}
        self.at: dict[str, float] = {}

    def intend(self, issues: Mapping[str, NewIssue], now: float) -> None:
        for ref in issues:
            self.rows.setdefault(ref, None)
            self.at[ref] = now

    def created(self, keys: Mapping[str, str], now: float) -> None:
        self.rows.update(keys)

    def forget(self, refs: Sequence[str]) -> None:
        for ref in refs:
            if self.rows.get(ref) is None:
                self.rows.pop(ref, None)


class Jira:
    """Answers one create with `answer` (a BulkResult or an error); children as given."""

    def __init__(self, answer: BulkResult | Exception, children: list[dict[str, Any]] = []) -> None:  # noqa: B006
        self.answer = answer
        self.children = children
        self.searched: list[list[str]] = []

    def create_issues(self, issues: list[NewIssue], *, epic_link_field: str | None) -> BulkResult:
        if isinstance(self.answer, Exception):
            raise self.answer
        return self.answer

    def search(self, query: Children, **_: Any) -> list[dict[str, Any]]:
        self.searched.append(list(query.parents))
        return self.children


def issue(ref: str) -> NewIssue:
    return NewIssue(
        project="XD",
        issue_type_id="10001",
        summary=ref,
        description="",
        due=date(2026, 12, 10),
        assignee="alice",
        parent="XD-1",
        placement="epic_child",
        properties={ITEM_PROPERTY: {"request": "XD-1", "ref": ref}},
    )


def creating(jira: Jira, book: Book, now: float = 1000.0) -> ExactlyOnce:
    return ExactlyOnce(jira, book, lambda: now, "XD-1")  # type: ignore[arg-type]


def marked(ref: str, key: str) -> dict[str, Any]:
    return {"key": key, "properties": {ITEM_PROPERTY: {"request": "XD-1", "ref": ref}}}


def ref_of(hit: Mapping[str, Any]) -> str | None:
    return str(hit["properties"][ITEM_PROPERTY]["ref"])


def test_what_jira_created_is_recorded_and_what_it_refused_is_forgotten() -> None:
    book = Book()
    answer = BulkResult({0: CreatedIssue("1", "XD-2")}, {1: ItemRefusal(400, ("no such user",))})
    made = creating(Jira(answer), book).create({"s1": issue("s1"), "s2": issue("s2")})
    assert made.keys == {"s1": "XD-2"} and made.refused == {"s2": "no such user"}
    assert book.rows == {"s1": "XD-2"}


@pytest.mark.parametrize(
    ("error", "kept"),
    [
        (RefusedError("no", 400, ["bad project"]), False),  # refused whole: nothing exists
        (TransientGatewayError("busy", retry_after=5, status=429), False),  # turned away unread
        (TransientGatewayError("bad gateway", status=502), True),  # may have created some
        (TransientGatewayError("no answer"), True),
    ],
)
def test_an_intent_stays_only_when_jira_may_have_acted(error: Exception, kept: bool) -> None:
    book = Book()
    once = creating(Jira(error), book)
    if isinstance(error, RefusedError):
        assert once.create({"s1": issue("s1")}).refused == {"s1": "bad project"}
    else:
        with pytest.raises(TransientGatewayError):
            once.create({"s1": issue("s1")})
    assert ("s1" in book.rows) is kept


def test_adoption_waits_for_the_search_index_then_adopts_what_was_created_and_no_more() -> None:
    book = Book()
    book.intend({"s1": issue("s1"), "s2": issue("s2")}, 1000.0)
    jira = Jira(BulkResult({}, {}), children=[marked("s1", "XD-7"), marked("other", "XD-8")])

    with pytest.raises(NotYetError) as early:
        creating(jira, book, now=1010.0).adopt(dict(book.at), ["XD-1"], "epic_child", ref_of)
    assert early.value.retry_after == pytest.approx(SETTLE_SECONDS - 10)
    assert jira.searched == []  # a search before the index settles would miss what exists

    settled = 1000.0 + SETTLE_SECONDS + 1
    adopted = creating(jira, book, now=settled).adopt(dict(book.at), ["XD-1"], "epic_child", ref_of)
    assert adopted == {"s1": "XD-7"}
    assert book.rows == {"s1": "XD-7"}  # s2 was never created: its intent goes, it is created anew
