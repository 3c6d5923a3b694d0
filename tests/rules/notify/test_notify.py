"""Which groups hear a piece of news, and how each platform calls on people: on data alone."""

from __future__ import annotations

from pathlib import Path

from plugin.composition import parse_rules
from plugin.process.config import Rules
from plugin.process.groups import News, departments_led_by, people_words
from plugin.rules.notify.notify import channels_for, mentions_for

SHIPPED = Path(__file__).resolve().parents[3] / "config" / "rules.yaml"
HEAD = "557058:00000000-0000-4000-8000-000000000003"  # the engineering head in the shipped file


def rules_with(notify: str, *, channel: str | None = "技术部群") -> Rules:
    text = SHIPPED.read_text(encoding="utf-8")
    if channel:
        text = text.replace(
            '    contact: "557058:00000000-0000-4000-8000-000000000004" # Example Engineering Contact',
            '    contact: "557058:00000000-0000-4000-8000-000000000004" # Example Engineering Contact\n'
            f"    channel: {channel}",
        )
    return parse_rules(text + notify, "rules.yaml")


NOTIFY = """
notify:
  channels:
    技术部群: {kind: dingtalk, url_env: CROSSDEPT_ROBOT_TECH_URL}
    需求群: {kind: feishu, url_env: CROSSDEPT_ROBOT_REQUESTS_URL}
  request_channel: 需求群
people:
  "557058:00000000-0000-4000-8000-000000000003": {mobile: "13800000003", feishu: ou_head}
"""


def news(departments: tuple[str, ...] = ("技术部",)) -> News:
    return News("escalation", "escalation:XD-7:ask-1:2", "升级", departments=departments)


def test_both_routes_reach_the_request_group_then_each_departments_own_once() -> None:
    rules = rules_with(NOTIFY)
    assert rules.notify is not None
    assert channels_for(rules.notify, rules, news(("技术部", "技术部", "市场部")), "需求群") == [
        "需求群",
        "技术部群",
    ]  # 市场部 has no group of its own


def test_a_route_reaches_only_its_own_groups() -> None:
    rules = rules_with(
        NOTIFY.replace("request_channel: 需求群", "request_channel: 需求群\n  route: department")
    )
    assert rules.notify is not None
    assert channels_for(rules.notify, rules, news(), "需求群") == ["技术部群"]
    only_request = rules.notify.model_copy(update={"route": "request"})
    assert channels_for(only_request, rules, news(), "需求群") == ["需求群"]


def test_each_platform_calls_on_a_person_its_own_way() -> None:
    rules = rules_with(NOTIFY)
    names = {HEAD: "王工"}
    [dingtalk] = mentions_for(rules, "dingtalk", [HEAD], names)
    assert (dingtalk.name, dingtalk.mobile, dingtalk.user_id) == ("王工", "13800000003", None)
    [feishu] = mentions_for(rules, "feishu", [HEAD], names)
    assert feishu.user_id == "ou_head"
    [stranger] = mentions_for(rules, "wecom", ["someone-else"], {})
    assert (stranger.name, stranger.mobile, stranger.user_id) == ("someone-else", None, None)


def test_the_departments_a_head_leads_come_before_those_they_belong_to() -> None:
    rules = rules_with(NOTIFY)
    assert departments_led_by(rules, [HEAD]) == ("技术部",)


def test_peoples_words_cannot_call_on_anyone_or_make_links_in_a_group() -> None:
    said = people_words("<@all> 请看 [这里](http://x) @13800000000 **急**\n第二行")
    assert "<@" not in said and "](" not in said and "@1" not in said and "**" not in said
    assert "\n" not in said and "请看" in said
    assert people_words("长" * 500).endswith("…") and len(people_words("长" * 500)) == 140


def test_news_travels_through_its_delivery_body_unchanged() -> None:
    import json

    sent = News(
        "minutes",
        "minutes:XD-9",
        "会议纪要已发布",
        ("- 行动（负责人：王工）",),
        link="https://wiki.example/p/1",
        link_text="纪要",
        issue="XD-9",
        request="XD-1",
        departments=("技术部",),
        mention=(HEAD,),
    )
    assert News.from_body(json.loads(sent.as_body())) == sent
