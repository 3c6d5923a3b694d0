"""Mentions that ask someone: Cloud and Data Center markup, ADF, never in quotes, code or by oneself."""

from __future__ import annotations

import pytest

from plugin.process.config import EscalationRules
from plugin.process.mentions import asks_something, first_lines, mentioned

ALICE = "557058:00000000-0000-4000-8000-000000000004"
BOB = "5b10ac8d82e05b22cc7d4ef5"


@pytest.mark.parametrize(
    ("body", "author", "expected"),
    [
        (f"[~accountid:{ALICE}] 请确认预算", None, [ALICE]),
        (
            f"[~accountid:{ALICE}] and [~accountid:{BOB}], also [~accountid:{ALICE}]",
            None,
            [ALICE, BOB],
        ),
        ("[~engineering.contact] 请在周五前回复", None, ["engineering.contact"]),  # Data Center
        (f"自己提醒自己 [~accountid:{ALICE}]", ALICE, []),  # mentioning oneself asks nobody
        (f"{{quote}}[~accountid:{ALICE}] 之前说过{{quote}} 同意", None, []),
        (f"{{code:python}}print('[~accountid:{ALICE}]'){{code}}", None, []),
        ("{noformat}[~bob]{noformat}[~alice]", None, ["alice"]),
        (f"bq. [~accountid:{BOB}] wrote this\n[~accountid:{ALICE}] your turn", None, [ALICE]),
        (f"{{quote}}unclosed [~accountid:{ALICE}]", None, []),
        ("no mention here, just ~tilde and [brackets]", None, []),
        (None, None, []),
    ],
)
def test_mentions_in_wiki_markup(body: object, author: str | None, expected: list[str]) -> None:
    assert mentioned(body, author=author) == expected


def test_mentions_in_an_adf_document_outside_quotes_and_code() -> None:
    document = {
        "type": "doc",
        "version": 1,
        "content": [
            {
                "type": "paragraph",
                "content": [
                    {"type": "mention", "attrs": {"id": ALICE, "text": "@Alice"}},
                    {"type": "text", "text": " please review"},
                ],
            },
            {
                "type": "blockquote",
                "content": [
                    {"type": "paragraph", "content": [{"type": "mention", "attrs": {"id": BOB}}]}
                ],
            },
            {"type": "codeBlock", "content": [{"type": "mention", "attrs": {"id": BOB}}]},
        ],
    }
    assert mentioned(document) == [ALICE]
    assert mentioned(document, author=ALICE) == []


def test_the_first_lines_of_an_ask_leave_quotes_out_and_stay_short() -> None:
    body = f"{{quote}}old words{{quote}}\n[~accountid:{ALICE}] 请确认预算\n金额 50 万\n第三行"
    assert first_lines(body) == f"[~accountid:{ALICE}] 请确认预算 / 金额 50 万"
    assert first_lines("x" * 300).endswith("…") and len(first_lines("x" * 300)) == 120


WORDS = EscalationRules()


@pytest.mark.parametrize(
    ("body", "asks"),
    [
        ("[~accountid:a1] 预算能确认吗？", True),
        ("[~accountid:a1] 请在周五前给出报价", True),
        ("[~accountid:a1] what is the budget?", True),
        ("[~accountid:a1] Please review the draft", True),
        ("FYI [~accountid:a1]，方案已更新", False),
        (
            "[~accountid:a1] 供参考：https://wiki.example.com/x?page=2",
            False,
        ),  # a link's ? asks nothing
        ("[~accountid:a1] 已提交采购申请", False),  # 申请 holds 请 but asks nothing
        ("[~accountid:a1] 报价已确认，谢谢", False),
        ("[~accountid:a1] 确认书已上传，提供商已选定", False),  # documents and parties, not asks
        ("[~accountid:a1] 请查收确认函", True),  # 请 still asks beside the document
        ("[~accountid:a1] 补充协议见附件", False),
        (
            "[~accountid:a1] 见上 {quote}能否今天给出报价？{quote}",
            False,
        ),  # quoted words are not hers
        ("[~accountid:a1] [方案?|https://wiki.example.com/x?id=1] 已上传", False),
        (None, False),
    ],
)
def test_a_comment_asks_only_with_a_question_or_a_request(body: object, asks: bool) -> None:
    assert asks_something(body, WORDS.ask_words, WORDS.not_ask_words) is asks


def test_an_adf_comment_asks_in_its_own_words_only() -> None:
    def doc(*blocks: dict[str, object]) -> dict[str, object]:
        return {"type": "doc", "content": list(blocks)}

    def para(*nodes: dict[str, object]) -> dict[str, object]:
        return {"type": "paragraph", "content": list(nodes)}

    who = {"type": "mention", "attrs": {"id": "a1"}}
    fyi = para(who, {"type": "text", "text": " FYI, the plan is updated"})
    quoted = {"type": "blockquote", "content": [para({"type": "text", "text": "Can you?"})]}
    link = {"type": "text", "text": "x?y", "marks": [{"type": "link", "attrs": {"href": "h"}}]}
    assert not asks_something(doc(fyi, quoted, para(link)), WORDS.ask_words)
    question = para(who, {"type": "text", "text": " can you send the figures"})
    assert asks_something(doc(question), WORDS.ask_words)
