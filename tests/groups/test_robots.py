"""The robots' contracts, on data: addresses, signatures, mentions, and what each answer means."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from urllib.parse import parse_qs, unquote_plus, urlsplit

from plugin.groups.robots import (
    GroupMessage,
    Mention,
    Robot,
    answer_of,
    dingtalk_sign,
    feishu_sign,
    request_for,
)

NOW_MS = 1_796_000_000_123
HEAD = Mention("王工", mobile="13800000001")
MESSAGE = GroupMessage(
    "升级：XD-7 48 小时未答复",
    ("**问题**：技术方案能在周三前给出吗？",),
    link="https://jira.example.com/browse/XD-7",
    link_text="XD-7",
    mentions=(HEAD,),
)


def test_dingtalk_signs_the_timestamp_and_secret_as_its_document_shows() -> None:
    # The document's own recipe: HmacSHA256 keyed by the secret over "timestamp\nsecret",
    # base64, then URL-encoded.
    expected = base64.b64encode(
        hmac.new(b"SECabc", b"1577262236757\nSECabc", hashlib.sha256).digest()
    ).decode()
    assert unquote_plus(dingtalk_sign(1577262236757, "SECabc")) == expected
    # A 32-byte digest's base64 ends in "=": it travels URL-encoded.
    assert dingtalk_sign(1577262236757, "SECabc").endswith("%3D")


def test_a_signed_dingtalk_request_carries_timestamp_and_sign_beside_the_token() -> None:
    robot = Robot("dingtalk", "https://oapi.dingtalk.com/robot/send?access_token=tok", "SECabc")
    request = request_for(robot, MESSAGE, NOW_MS)

    query = parse_qs(urlsplit(request.url).query)
    assert query["access_token"] == ["tok"] and query["timestamp"] == [str(NOW_MS)]
    assert query["sign"] == [unquote_plus(dingtalk_sign(NOW_MS, "SECabc"))]
    assert request.body["msgtype"] == "markdown"
    assert request.body["at"] == {"isAtAll": False, "atMobiles": ["13800000001"]}
    text = request.body["markdown"]["text"]
    assert "@13800000001" in text  # DingTalk highlights only a mention written in the text
    assert "[XD-7](https://jira.example.com/browse/XD-7)" in text


def test_feishu_signs_in_the_body_with_seconds_and_an_empty_message() -> None:
    robot = Robot("feishu", "https://open.feishu.cn/open-apis/bot/v2/hook/abc", "s3cret")
    mention = Mention("王工", user_id="ou_123")
    body = request_for(robot, GroupMessage("标题", mentions=(mention,)), NOW_MS).body

    assert body["timestamp"] == str(NOW_MS // 1000)
    key = f"{NOW_MS // 1000}\ns3cret".encode()
    assert body["sign"] == base64.b64encode(hmac.new(key, b"", hashlib.sha256).digest()).decode()
    assert body["sign"] == feishu_sign(NOW_MS // 1000, "s3cret")
    assert body["msg_type"] == "text"
    assert '<at user_id="ou_123">王工</at>' in body["content"]["text"]


def test_wecom_calls_on_people_by_mobile_only_in_a_text_message() -> None:
    robot = Robot("wecom", "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k")

    by_mobile = request_for(robot, MESSAGE, NOW_MS).body
    assert by_mobile["msgtype"] == "text"
    assert by_mobile["text"]["mentioned_mobile_list"] == ["13800000001"]
    assert "**" not in by_mobile["text"]["content"]  # text shows markdown marks as they are

    by_id = GroupMessage("标题", mentions=(Mention("王工", user_id="wanggong"),))
    markdown = request_for(robot, by_id, NOW_MS).body
    assert markdown["msgtype"] == "markdown" and "<@wanggong>" in markdown["markdown"]["content"]


def test_a_long_message_is_cut_to_the_platforms_limit_at_a_character() -> None:
    robot = Robot("wecom", "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k")
    long = GroupMessage("标题", tuple("很长的一行说明文字" * 20 for _ in range(40)))

    content = request_for(robot, long, NOW_MS).body["markdown"]["content"]
    assert len(content.encode("utf-8")) <= 4096 and content.endswith("…")


def test_a_person_named_with_markup_cannot_break_out_of_the_mention() -> None:
    robot = Robot("feishu", "https://open.feishu.cn/open-apis/bot/v2/hook/abc")
    sly = Mention('x"></at><at user_id="all', user_id="ou_1")
    text = request_for(robot, GroupMessage("t", mentions=(sly,)), NOW_MS).body["content"]["text"]
    assert text.count("<at ") == 1


def test_answers_read_as_sent_over_the_limit_busy_or_refused() -> None:
    ok = json.dumps({"errcode": 0, "errmsg": "ok"})
    assert answer_of("dingtalk", 200, ok).outcome == "sent"
    assert answer_of("feishu", 200, json.dumps({"code": 0, "msg": "success"})).outcome == "sent"
    limited = answer_of("dingtalk", 200, json.dumps({"errcode": 130101, "errmsg": "send too fast"}))
    assert (limited.outcome, limited.wait_s) == ("over_limit", 600.0)  # held for 10 minutes
    assert answer_of("wecom", 200, json.dumps({"errcode": 45009})).outcome == "over_limit"
    assert answer_of("feishu", 200, json.dumps({"code": 11232})).outcome == "over_limit"
    assert answer_of("wecom", 200, json.dumps({"errcode": -1})).outcome == "busy"
    assert answer_of("dingtalk", 502, "Bad Gateway").outcome == "busy"
    bad_sign = answer_of(
        "dingtalk", 200, json.dumps({"errcode": 310000, "errmsg": "sign not match"})
    )
    assert (bad_sign.outcome, bad_sign.code, bad_sign.said) == ("refused", 310000, "sign not match")
    assert answer_of("wecom", 200, json.dumps({"errcode": 93000})).outcome == "refused"
    assert answer_of("feishu", 200, json.dumps({"code": 19021})).outcome == "refused"
    assert answer_of("feishu", 400, "not json").outcome == "refused"
