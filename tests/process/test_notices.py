"""What a rule says on an issue it says once: recorded before posting, forgotten if posting fails."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from plugin.process.notices import Notices
from plugin.spine.errors import TransientGatewayError
from plugin.spine.store import Store
from tests.fakes import ALL_TABLES, FakeJira


@pytest.fixture
def notices(tmp_path: Path) -> Iterator[Notices]:
    store = Store(f"sqlite:///{tmp_path / 'crossdept.db'}")
    store.create_all(ALL_TABLES)
    yield Notices(store)
    store.dispose()


def test_the_same_words_are_posted_once_per_issue_and_rule(notices: Notices) -> None:
    jira = FakeJira()
    assert notices.comment_once(jira, "XD-1", "tree", "Fix the department.", 1.0)
    assert not notices.comment_once(jira, "XD-1", "tree", "Fix the department.", 2.0)
    assert notices.comment_once(jira, "XD-1", "ownership", "Fix the department.", 3.0)
    assert notices.comment_once(jira, "XD-2", "tree", "Fix the department.", 4.0)
    assert jira.comments == {"XD-1": ["Fix the department."] * 2, "XD-2": ["Fix the department."]}


def test_a_comment_jira_did_not_take_is_posted_next_time(notices: Notices) -> None:
    class Down(FakeJira):
        def add_comment(self, key: str, body: str) -> str:
            raise TransientGatewayError("POST comment: HTTP 503", status=503)

    with pytest.raises(TransientGatewayError):
        notices.comment_once(Down(), "XD-1", "tree", "Fix it.", 1.0)
    jira = FakeJira()
    assert notices.comment_once(jira, "XD-1", "tree", "Fix it.", 2.0)
    assert jira.comments == {"XD-1": ["Fix it."]}


def test_racing_workers_post_once(notices: Notices) -> None:
    jira = FakeJira()
    posted: list[bool] = []
    threads = [
        threading.Thread(
            target=lambda: posted.append(notices.comment_once(jira, "XD-1", "tree", "Once.", 1.0))
        )
        for _ in range(4)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(posted) == [False, False, False, True]
    assert jira.comments == {"XD-1": ["Once."]}


def test_forgetting_an_issue_lets_every_rule_speak_again(notices: Notices) -> None:
    jira = FakeJira()
    notices.comment_once(jira, "XD-1", "tree", "A.", 1.0)
    notices.comment_once(jira, "XD-1", "ownership", "B.", 1.0)
    notices.forget("XD-1", "tree")
    assert notices.comment_once(jira, "XD-1", "tree", "A.", 2.0)
    assert not notices.comment_once(jira, "XD-1", "ownership", "B.", 2.0)
    notices.forget("XD-1")
    assert notices.comment_once(jira, "XD-1", "ownership", "B.", 3.0)


def test_an_own_comment_is_found_by_its_marker_never_by_a_longer_one() -> None:
    from plugin.process.notices import find_own_comment

    jira = FakeJira()
    jira.add_comment("XD-1", "h4. …\n_本评论由 crossdept 维护（ownership:XD-10）。_")
    assert find_own_comment(jira, "XD-1", "ownership:XD-1") is None
    jira.add_comment("XD-1", "h4. …\n_crossdept keeps this comment up to date (ownership:XD-1)._")
    assert find_own_comment(jira, "XD-1", "ownership:XD-1") == "2"
