"""Loading the rules file: the shipped default process, and every mistake as FILE:LINE: path: message."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest

from plugin.composition import load_rules, parse_rules
from plugin.process.rulesfile import LineMap, format_path, read_yaml
from plugin.spine.errors import ConfigError

SHIPPED = Path(__file__).resolve().parents[2] / "config" / "rules.yaml"

# Line numbers matter below: each test's YAML is written out in full so they can be counted.
VALID = """\
jira:
  projects: [XD]
  request:
    issue_type: 跨部门协作需求
    fields:
      requesting_department: customfield_10050
      departments: customfield_10051
departments:
  市场部: {head: marketing.head, contact: marketing.contact}
  技术部: {head: engineering.head, contact: engineering.contact}
stages:
  - name: 需求发起
    days: 3
    deliverables:
      - name: 《跨部门合作需求表》
        days: 1
"""


def problems_in(text: str) -> list[str]:
    """Every problem parse_rules reports for `text`, read as rules.yaml."""
    with pytest.raises(ConfigError) as raised:
        parse_rules(text, "rules.yaml")
    assert str(raised.value) == "\n".join(raised.value.problems)
    return raised.value.problems


# ------------------------------------------------------------------------ the shipped file


def test_the_shipped_rules_load() -> None:
    rules = load_rules(SHIPPED)
    assert rules.jira.projects == ["XD"]
    assert list(rules.departments) == ["市场部", "技术部", "产品部", "财务部"]


def test_the_shipped_rules_encode_the_six_steps_with_their_leads() -> None:
    rules = load_rules(SHIPPED)
    assert [(stage.name, stage.owner) for stage in rules.stages] == [
        ("需求发起与目标对齐", "requester"),
        ("需求对接与职责分工", "requester"),
        ("方案制定与共识确认", "requester"),
        ("执行推进与进度跟踪", "pm"),
        ("成果验收", "decision_maker"),  # the decision maker accepts (else the requester)
        ("复盘优化", "requester"),
    ]
    assert all(stage.name_en and stage.description_en for stage in rules.stages)


def test_the_shipped_meetings_last_as_the_guides_say() -> None:
    rules = load_rules(SHIPPED)
    lengths = {
        stage.meeting.kind_en: (stage.meeting.min_minutes, stage.meeting.max_minutes)
        for stage in rules.stages
        if stage.meeting
    }
    assert lengths == {
        "Kickoff meeting": (30, 60),
        "Planning meeting": (60, 90),
        "Plan review meeting": (60, 120),
        "Acceptance meeting": (60, 60),
        "Retrospective": (60, 90),
    }


def test_the_shipped_deadlines_match_the_t_plus_offsets() -> None:
    rules = load_rules(SHIPPED)
    due = []
    total = 0
    for stage in rules.stages:
        total += stage.days
        due.append(total)
    assert due[0] == 3  # requirements documented by T+3
    assert due[3] == 15  # development done by T+15
    assert due[4] == 20  # test report / acceptance by T+20
    assert rules.stages[5].days == 5  # retrospective within 5 working days of the end
    for stage in rules.stages:
        assert all((d.days or 0) <= stage.days for d in stage.deliverables)


def test_the_shipped_deliverables_are_every_output_with_one_owner_each() -> None:
    rules = load_rules(SHIPPED)
    outputs = {
        d.name: (d.owner, d.each_department) for stage in rules.stages for d in stage.deliverables
    }
    assert outputs == {
        "《跨部门合作需求表》": ("requester", False),
        "《合作目标共识函》": ("head", True),  # signed by every department head
        "《合作需求明细表》": ("contact", True),
        "《跨部门合作计划表》": ("requester", False),
        "《各部门实施方案》": ("contact", True),
        "《协作方案审批表》": ("head", True),  # signed by every department
        "《决策层审批意见》": ("decision_maker", False),  # one each (each_decision_maker)
        "《验收结论》": ("decision_maker", False),
        "本部门任务执行": ("contact", True),
        "《项目进度跟踪表》": ("pm", False),
        "《风险应对记录表》": ("pm", False),
        "《成果自检表》": ("contact", True),
        "《协作复盘总结表》": ("requester", False),
    }


def test_the_shipped_descriptions_carry_the_rules_people_must_follow() -> None:
    rules = load_rules(SHIPPED)
    acceptance, retrospective = rules.stages[4], rules.stages[5]
    assert "3 working days" in (acceptance.description_en or "")
    assert "3个工作日" in (acceptance.description or "")
    for point in ("goal achievement", "highlights", "problems", "suggestions"):
        assert point in (retrospective.description_en or "")
    assert "within 5 working days" in (retrospective.description_en or "").lower()
    assert "5个工作日内" in (retrospective.description or "")


def test_the_shipped_timings_are_the_guides_numbers() -> None:
    rules = load_rules(SHIPPED)
    assert rules.ownership.overdue_after_days == 2
    assert rules.ownership.warn_before_due == timedelta(hours=24)
    assert [(s.after, s.to, s.clock) for s in rules.escalation.reminders] == [
        (timedelta(hours=2), "asked", "working_hours"),  # a simple question: 2 working hours
        (timedelta(hours=24), "asked", None),  # a complex one: a progress reply in 24 hours
    ]
    assert [(s.after, s.to) for s in rules.escalation.ladder] == [
        (timedelta(hours=48), "head"),
        (timedelta(hours=72), "pm"),  # "then the project manager"
    ]
    assert rules.meetings is not None
    assert rules.meetings.notice == timedelta(days=3)
    assert rules.meetings.minutes_within == timedelta(hours=24)
    assert rules.project_manager == "557058:00000000-0000-4000-8000-000000000009"
    assert rules.jira.request.fields.requesting_department == "customfield_10050"
    assert rules.confluence is not None and rules.confluence.space == "XD"


def test_the_shipped_file_says_its_people_are_placeholders() -> None:
    head = SHIPPED.read_text(encoding="utf-8").splitlines()[:20]
    assert head[0] == "# yaml-language-server: $schema=rules.schema.json"
    assert any("PLACEHOLDERS" in line for line in head)


# ------------------------------------------------------------------------- reading a file


def test_a_valid_file_loads() -> None:
    rules = parse_rules(VALID, "rules.yaml")
    assert rules.stages[0].deliverables[0].days == 1


def test_a_missing_file_is_named() -> None:
    with pytest.raises(ConfigError) as raised:
        load_rules("no/such/rules.yaml")
    assert raised.value.problems == [
        "no/such/rules.yaml: cannot read the rules file: No such file or directory"
    ]


def test_an_empty_file_is_reported() -> None:
    assert problems_in("# nothing yet\n") == ["rules.yaml:1: the rules file is empty"]


def test_a_file_that_is_not_a_mapping_is_reported() -> None:
    assert problems_in("- a\n- b\n") == [
        "rules.yaml:1: expected settings (key: value lines), not a list"
    ]


def test_yaml_syntax_errors_have_a_line() -> None:
    text = "jira:\n  projects: [XD\nstages: []\n"
    [problem] = problems_in(text)
    assert problem.startswith("rules.yaml:3: YAML syntax error: expected ',' or ']'")
    assert "began on line 2" in problem


def test_duplicate_keys_are_syntax_errors_on_the_second_key() -> None:
    text = VALID + "jira: {}\n"
    [problem] = problems_in(text)
    assert problem.startswith('rules.yaml:17: YAML syntax error: found duplicate key "jira"')


def test_unknown_department_owner_names_the_known_ones() -> None:
    text = VALID.replace("        days: 1\n", "        days: 1\n        owner: 研发部\n")
    assert problems_in(text) == [
        'rules.yaml:17: stages[0].deliverables[0].owner: unknown department "研发部"; '
        "known: 市场部, 技术部"
    ]


def test_misspelt_role_gets_a_suggestion() -> None:
    text = VALID.replace("    days: 3\n", "    days: 3\n    owner: contacts\n")
    assert problems_in(text) == [
        'rules.yaml:14: stages[0].owner: unknown department "contacts"; '
        'known: 市场部, 技术部; did you mean "contact"?'
    ]


def test_days_in_words_are_refused_on_their_line() -> None:
    text = VALID.replace("    days: 3\n", "    days: three\n")
    assert problems_in(text) == [
        'rules.yaml:13: stages[0].days: expected a whole number of working days, not "three"'
    ]


def test_misspelt_key_gets_did_you_mean_on_the_key_line() -> None:
    text = VALID.replace("  request:\n", "  requst:\n")
    assert problems_in(text) == [
        "rules.yaml:1: jira.request: required key is missing",
        'rules.yaml:3: jira.requst: unknown key; did you mean "request"?',
    ]


def test_unknown_key_with_no_near_match_lists_the_known_keys() -> None:
    text = VALID.replace("    days: 3\n", "    days: 3\n    colour: red\n")
    [problem] = problems_in(text)
    assert problem.startswith(
        "rules.yaml:14: stages[0].colour: unknown key; expected one of: name,"
    )


def test_missing_key_points_at_its_parent() -> None:
    text = VALID.replace("      departments: customfield_10051\n", "")
    assert problems_in(text) == [
        "rules.yaml:5: jira.request.fields.departments: required key is missing"
    ]


def test_bad_choice_lists_the_choices() -> None:
    text = VALID + "language: english\n"
    assert problems_in(text) == [
        'rules.yaml:17: language: expected one of zh-CN, en; not "english"'
    ]


def test_bad_duration_is_reported_on_its_line() -> None:
    text = VALID + "escalation:\n  ladder:\n    - after: soon\n      to: head\n"
    assert problems_in(text) == [
        "rules.yaml:19: escalation.ladder[0].after: expected a duration such as 24h, 3d or 90m "
        '(a bare number means hours), not "soon"'
    ]


def test_deliverable_due_after_its_stage_is_refused() -> None:
    text = VALID.replace("        days: 1\n", "        days: 4\n")
    assert problems_in(text) == [
        "rules.yaml:16: stages[0].deliverables[0].days: due 4 working days into a stage that "
        "lasts 3; no child may be due after its parent"
    ]


def test_stage_names_must_be_unique() -> None:
    text = VALID + "  - name: 需求发起\n    days: 2\n"
    assert problems_in(text) == [
        'rules.yaml:17: stages[1].name: "需求发起" is already the name of stages[0]; '
        "stage names must be unique"
    ]


def test_pm_owner_needs_a_project_manager() -> None:
    text = VALID.replace("        days: 1\n", "        days: 1\n        owner: pm\n")
    assert problems_in(text) == [
        'rules.yaml:17: stages[0].deliverables[0].owner: owner "pm" needs a project manager: '
        "set project_manager at the top of the file or jira.request.fields.project_manager"
    ]
    parse_rules(text + "project_manager: pm\n", "rules.yaml")
    with_field = text.replace(
        "      departments: customfield_10051\n",
        "      departments: customfield_10051\n      project_manager: customfield_10070\n",
    )
    parse_rules(with_field, "rules.yaml")


def test_escalating_to_pm_needs_a_project_manager() -> None:
    text = VALID + "escalation:\n  ladder:\n    - {after: 48h, to: pm}\n"
    [problem] = problems_in(text)
    assert problem.startswith(
        'rules.yaml:19: escalation.ladder[0].to: "pm" needs a project manager'
    )


def test_each_department_copy_cannot_belong_to_one_fixed_department() -> None:
    text = VALID.replace(
        "        days: 1\n",
        "        days: 1\n        owner: 技术部\n        each_department: true\n",
    )
    [problem] = problems_in(text)
    assert problem.startswith(
        "rules.yaml:17: stages[0].deliverables[0].owner: with each_department"
    )


def test_head_and_contact_owners_are_fine_with_or_without_each_department() -> None:
    text = VALID.replace("        days: 1\n", "        days: 1\n        owner: head\n")
    text += "  - name: 规划\n    days: 2\n    owner: contact\n"
    text += "    deliverables:\n      - {name: 明细, owner: contact, each_department: true}\n"
    rules = parse_rules(text, "rules.yaml")
    assert rules.stages[1].deliverables[0].each_department


def test_unknown_timezone_is_reported_with_a_suggestion() -> None:
    text = "timezone: Asia/Shanghia\n" + VALID
    assert problems_in(text) == [
        'rules.yaml:1: timezone: unknown timezone "Asia/Shanghia"; did you mean "Asia/Shanghai"?'
    ]


def test_unknown_holiday_country_is_reported() -> None:
    text = VALID + "calendar:\n  holidays: XX\n"
    assert problems_in(text) == [
        'rules.yaml:18: calendar.holidays: unknown holiday country "XX"; use an ISO 3166 code '
        "such as CN, or null for no public holidays"
    ]


def test_dates_work_written_plain_or_quoted() -> None:
    text = VALID + 'calendar:\n  extra_holidays: [2025-12-31, "2026-01-02"]\n'
    rules = parse_rules(text, "rules.yaml")
    assert rules.calendar.extra_holidays == [date(2025, 12, 31), date(2026, 1, 2)]


def test_a_day_cannot_be_both_holiday_and_workday() -> None:
    text = VALID + (
        "calendar:\n"
        "  extra_holidays: [2025-12-31]\n"
        "  extra_workdays:\n"
        "    - 2025-12-27\n"
        '    - "2025-12-31"\n'
    )
    assert problems_in(text) == [
        "rules.yaml:21: calendar.extra_workdays[1]: 2025-12-31 is also in "
        "calendar.extra_holidays; a day cannot be both a holiday and a working day"
    ]


def test_ladder_steps_must_come_in_increasing_order() -> None:
    text = VALID + (
        "escalation:\n  ladder:\n    - {after: 48h, to: head}\n    - {after: 1d, to: requester}\n"
    )
    assert problems_in(text) == [
        "rules.yaml:20: escalation.ladder[1].after: 24h is not later than the step before "
        "(48h); list the steps in increasing order of after"
    ]


def test_meetings_need_their_fields() -> None:
    text = VALID + "meetings:\n  issue_type: 会议\n  held_status: 已召开\n"
    assert problems_in(text) == ["rules.yaml:17: meetings.fields: required key is missing"]


def test_people_must_not_be_blank() -> None:
    text = VALID.replace("head: engineering.head", 'head: ""')
    assert problems_in(text) == ["rules.yaml:10: departments.技术部.head: must not be empty"]


def test_departments_and_stages_must_not_be_empty() -> None:
    text = VALID.split("departments:\n")[0] + "departments: {}\nstages: []\n"
    assert problems_in(text) == [
        "rules.yaml:8: departments: must not be empty",
        "rules.yaml:9: stages: must not be empty",
    ]


def test_waiting_status_asks_need_waiting_statuses() -> None:
    text = VALID + "escalation:\n  asks: [mention, waiting_status]\n"
    [problem] = problems_in(text)
    assert problem.startswith("rules.yaml:18: escalation.asks[1]: waiting_status needs")


def test_every_mistake_is_reported_at_once_in_file_order() -> None:
    text = """\
timezone: Mars/Olympus
jira:
  projects: [XD]
  requst:
    issue_type: 跨部门协作需求
departments:
  市场部: {head: marketing.head, contact: marketing.contact, deputy: someone}
calendar:
  workdays: [mon, tues]
stages:
  - name: 需求发起
    days: three
    meeting: {kind: 启动会, min_minutes: 60, max_minutes: 30}
"""
    assert problems_in(text) == [
        'rules.yaml:1: timezone: unknown timezone "Mars/Olympus"; use an IANA name such as '
        '"Asia/Shanghai"',
        "rules.yaml:2: jira.request: required key is missing",
        'rules.yaml:4: jira.requst: unknown key; did you mean "request"?',
        "rules.yaml:7: departments.市场部.deputy: unknown key; expected one of: name_en, head, "
        "contact, members, channel",
        "rules.yaml:9: calendar.workdays[1]: expected one of mon, tue, wed, thu, fri, sat, sun; "
        'not "tues"; did you mean "tue"?',
        'rules.yaml:12: stages[0].days: expected a whole number of working days, not "three"',
        "rules.yaml:13: stages[0].meeting.max_minutes: max_minutes (30) is less than "
        "min_minutes (60)",
    ]


def test_every_cross_reference_mistake_is_reported_at_once() -> None:
    text = VALID.replace("        days: 1\n", "        days: 9\n        owner: 研发部\n")
    text += "  - name: 需求发起\n    days: 2\n    owner: pm\n"
    problems = problems_in(text)
    assert [p.split(": ")[0] + ": " + p.split(": ")[1] for p in problems] == [
        "rules.yaml:16: stages[0].deliverables[0].days",
        "rules.yaml:17: stages[0].deliverables[0].owner",
        "rules.yaml:18: stages[1].name",
        "rules.yaml:20: stages[1].owner",
    ]


# --------------------------------------------------------------------------- the line map


def test_line_map_knows_keys_items_and_falls_back_to_the_parent() -> None:
    _, lines = read_yaml(VALID, "rules.yaml")
    assert isinstance(lines, LineMap)
    assert lines.key_line(("jira", "request")) == 3
    assert lines.value_line(("stages", 0, "days")) == 13
    assert lines.key_line(("stages", 0, "deliverables", 0)) == 15
    assert lines.value_line(("stages", 0, "owner")) == 12  # default: not in the file
    assert lines.key_line(()) == 1


def test_paths_read_like_yaml() -> None:
    assert format_path(("stages", 1, "deliverables", 0, "owner")) == (
        "stages[1].deliverables[0].owner"
    )
    assert format_path(("departments", "市场部", "head")) == "departments.市场部.head"
    assert format_path(()) == ""


def test_impossible_dates_are_reported_with_their_path() -> None:
    text = VALID + "calendar:\n  extra_holidays:\n    - 2025-13-01\n    - 2025-01-01 10:00:00\n"
    assert problems_in(text) == [
        "rules.yaml:19: calendar.extra_holidays[0]: expected a date such as 2025-10-01, "
        'not "2025-13-01"',
        "rules.yaml:20: calendar.extra_holidays[1]: expected a date such as 2025-10-01 "
        "(without a time), not 2025-01-01T10:00:00",
    ]


def test_wrong_shapes_say_what_was_expected() -> None:
    text = VALID.replace("  - name: 需求发起\n", "  - just a name\n  - name: 需求发起\n")
    text += "ownership: {single_owner: maybe}\ncalendar: {workdays: mon}\n"
    assert problems_in(text) == [
        'rules.yaml:12: stages[0]: expected a mapping (key: value lines), not "just a name"',
        'rules.yaml:18: ownership.single_owner: expected true or false, not "maybe"',
        'rules.yaml:19: calendar.workdays: expected a list, not "mon"',
    ]


def test_department_keys_must_be_text() -> None:
    text = VALID.replace("  技术部:", "  123:")
    assert problems_in(text) == [
        'rules.yaml:10: departments.123: keys must be text; quote it: "123"'
    ]


# -------------------------------------------------------------- every mistake in one run

TWO_STAGES = (
    VALID
    + """\
  - name: 需求对接
    days: 5
    owner: head
    deliverables:
      - name: 《合作需求明细表》
        days: 2
        owner: 研发部
"""
)


def test_a_field_mistake_and_an_unknown_department_are_reported_in_one_run() -> None:
    text = TWO_STAGES.replace("    days: 3\n", "    days: three\n")
    assert problems_in(text) == [
        'rules.yaml:13: stages[0].days: expected a whole number of working days, not "three"',
        # The first stage is set aside for its mistake: the second keeps its own place and line.
        'rules.yaml:23: stages[1].deliverables[0].owner: unknown department "研发部"; '
        "known: 市场部, 技术部",
    ]


def test_a_department_with_a_mistake_is_not_also_called_unknown() -> None:
    text = TWO_STAGES.replace("owner: 研发部", "owner: 技术部\n        each_department: false")
    text = text.replace("{head: engineering.head, contact: engineering.contact}", "{head: []}")
    problems = problems_in(text)
    assert {p.split(": ")[1] for p in problems} == {
        "departments.技术部.head",
        "departments.技术部.contact",
    }  # the stage naming 技术部 is not blamed for the department's own mistake


def test_an_unknown_placeholder_in_the_page_title_is_refused_before_publishing() -> None:
    text = VALID + 'confluence:\n  space: XD\n  title: "{date} {meeting} 会议纪要"\n'
    assert problems_in(text) == [
        "rules.yaml:19: confluence.title: unknown placeholder {meeting}; known: {date}, "
        "{request_summary}, {meeting_summary}, {meeting_key}, {kind}, {lead_department}; "
        'did you mean "meeting_key"?'
    ]
    lone = VALID + 'confluence:\n  space: XD\n  title: "{date 会议纪要"\n'
    [problem] = problems_in(lone)
    assert problem.startswith("rules.yaml:19: confluence.title: ") and "{{" in problem


def test_two_mistakes_in_one_stage_leave_the_next_stage_checked_in_its_own_place() -> None:
    text = TWO_STAGES.replace("    days: 3\n", "    days: three\n    colour: red\n")
    problems = problems_in(text)
    assert [p.split(": ")[1] for p in problems] == [
        "stages[0].days",
        "stages[0].colour",
        "stages[1].deliverables[0].owner",
    ]
    assert problems[2].startswith("rules.yaml:24: ")


# ------------------------------------------------------------------------ group messages

NOTIFY = """\
notify:
  channels:
    技术部群: {kind: dingtalk, url_env: CROSSDEPT_ROBOT_TECH_URL, secret_env: CROSSDEPT_ROBOT_TECH_SECRET}
people:
  engineering.head: {mobile: "13800000001"}
"""


def test_channels_and_people_load_with_a_department_group() -> None:
    text = VALID.replace(
        "contact: engineering.contact}", "contact: engineering.contact, channel: 技术部群}"
    )
    rules = parse_rules(text + NOTIFY, "rules.yaml")
    assert rules.notify is not None and rules.notify.channels["技术部群"].kind == "dingtalk"
    assert rules.departments["技术部"].channel == "技术部群"
    assert rules.people["engineering.head"].mobile == "13800000001"
    assert rules.notify.send == ["tree_built", "escalation", "delay", "minutes", "weekly"]


def test_a_department_group_that_is_no_channel_is_refused_on_its_line() -> None:
    text = VALID.replace(
        "contact: engineering.contact}", "contact: engineering.contact, channel: 技术群}"
    )
    assert problems_in(text + NOTIFY) == [
        'rules.yaml:10: departments.技术部.channel: no notify channel is called "技术群"; '
        'known: 技术部群; did you mean "技术部群"?'
    ]


def test_a_robot_address_is_never_written_in_the_file() -> None:
    text = VALID + NOTIFY.replace(
        "url_env: CROSSDEPT_ROBOT_TECH_URL",
        "url_env: https://oapi.dingtalk.com/robot/send?access_token=abc",
    )
    [problem] = problems_in(text)
    assert problem == (
        "rules.yaml:19: notify.channels.技术部群.url_env: the name of an environment variable "
        "starting with CROSSDEPT_ROBOT_, e.g. CROSSDEPT_ROBOT_TECH_URL: a robot's address and "
        'secret stay out of this file, not "https://oapi.dingtalk.com/robot/send?access_token=abc"'
    )


def test_a_weekly_title_names_only_what_a_weekly_page_has() -> None:
    text = VALID + 'reports:\n  weekly: {title: "{date} {meeting_summary}"}\n'
    [problem] = problems_in(text)
    assert problem.startswith("rules.yaml:18: reports.weekly.title: unknown placeholder ")
    assert "{lead_department}" in problem and "{meeting_summary}" in problem


def test_a_deadline_counted_from_a_stage_names_stages_that_exist_in_order() -> None:
    text = VALID + "ownership:\n  after_done:\n    - {stage_done: 1, redates: 2, within: 5}\n"
    [missing] = problems_in(text)
    assert missing == (
        "rules.yaml:19: ownership.after_done[0].redates: there is no stage 2: the file has 1 stage"
    )
    backwards = VALID + "ownership:\n  after_done:\n    - {stage_done: 1, redates: 1, within: 5}\n"
    [problem] = problems_in(backwards)
    assert "stage 1 is not after stage 1" in problem


def test_one_item_per_decision_maker_must_be_owned_by_them() -> None:
    text = SHIPPED.read_text(encoding="utf-8").replace(
        "        owner: decision_maker\n        each_decision_maker: true\n        days: 4",
        "        owner: head\n        each_decision_maker: true\n        days: 4",
    )
    [problem] = problems_in(text)
    assert "stages[2].deliverables[2].each_decision_maker" in problem
    assert "use owner: decision_maker" in problem


def test_a_feedback_deadline_names_stages_the_file_has() -> None:
    text = SHIPPED.read_text(encoding="utf-8").replace(
        "label: 验收不通过, stages: [5]", "label: 验收不通过, stages: [9]"
    )
    [problem] = problems_in(text)
    assert "ownership.feedback[0].stages[0]: there is no stage 9: the file has 6 stages" in problem


def test_feedback_is_a_status_or_a_label_not_both() -> None:
    text = SHIPPED.read_text(encoding="utf-8").replace(
        "{kind: revision, label: 待修订, within: 3}",
        "{kind: revision, label: 待修订, status: 待修订, within: 3}",
    )
    [problem] = problems_in(text)
    assert "ownership.feedback[1]" in problem and "exactly one of status or label" in problem


def test_a_risk_level_must_be_one_of_the_levels_and_is_named_with_its_line() -> None:
    text = SHIPPED.read_text(encoding="utf-8").replace(
        "  meeting_levels: [高] #", "  meeting_levels: [极高] #"
    )
    line = next(n for n, row in enumerate(text.splitlines(), 1) if row.startswith("risks:"))
    [problem] = problems_in(text)
    assert "risks" in problem and "极高 is not one of the levels (高, 中, 低)" in problem
    assert f":{line}" in problem or f"line {line}" in problem


def test_a_cadence_needs_the_meetings_organiser_field_and_names_its_line() -> None:
    text = SHIPPED.read_text(encoding="utf-8").replace(
        "    organiser: customfield_10063 #", "    # organiser: customfield_10063 #"
    )
    line = next(n for n, row in enumerate(text.splitlines(), 1) if row.startswith("cadence:"))
    [problem] = problems_in(text)
    assert f":{line}: cadence: " in problem and "meetings.fields needs organiser" in problem


def test_a_goal_alignment_meeting_names_departments_the_file_has_and_organises_among_them() -> None:
    text = SHIPPED.read_text(encoding="utf-8").replace(
        "{departments: [市场部, 技术部, 产品部, 财务部], day: 1,",
        "{departments: [市场部, 研发部], organiser: 财务部, day: 1,",
    )
    problems = problems_in(text)
    assert any(
        'cadence.goal_alignment[0].departments[1]: unknown department "研发部"' in p
        for p in problems
    ), problems
    assert any(
        'cadence.goal_alignment[0].organiser: "财务部" is not one of this meeting\'s' in p
        for p in problems
    ), problems
