"""The check-config and schema commands, through click's test runner."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from webhooks.cli.config import check_config, schema

SHIPPED = Path(__file__).resolve().parents[2] / "config" / "rules.yaml"


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


def write(directory: Path, text: str) -> Path:
    path = directory / "rules.yaml"
    path.write_text(text, encoding="utf-8")
    return path


BROKEN = """\
jira:
  projects: [XD]
  request:
    issue_type: 跨部门协作需求
    fields: {requesting_department: customfield_10050, departments: customfield_10051}
departments:
  市场部: {head: marketing.head, contact: marketing.contact}
stages:
  - name: 需求发起
    days: three
    deliverables:
      - {name: 《跨部门合作需求表》, owner: 研发部}
"""


def test_check_config_summarises_a_valid_file(runner: CliRunner) -> None:
    result = runner.invoke(check_config, [str(SHIPPED)])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == f"{SHIPPED}: OK"
    assert "  projects: XD" in lines
    assert "  departments: 4 (市场部, 技术部, 产品部, 财务部)" in lines
    assert "  stages: 6 (5 with a meeting)" in lines
    assert "  deliverables: 13 (6 made once per department, 2 once per decision maker)" in lines
    # 6 stage tasks + 5 single sub-tasks + 6 per-department deliverables x 4 departments
    assert (
        "  a request with 4 departments yields 35 issues: 6 stage tasks + 29 deliverable sub-tasks"
        ", and 2 more per decision maker it names" in lines
    )
    assert any(
        line.startswith("  calendar: mon, tue, wed, thu, fri 09:00-18:00, CN") for line in lines
    )
    # The meetings crossdept files itself, and when it files the next of each (a preview).
    assert "  cadence: a weekly meeting of each active request, fri 15:00 for 1h" in lines
    assert (
        "  cadence: a goal-alignment meeting of 市场部, 技术部, 产品部, 财务部, day 1 of each "
        "month 10:00 for 90m" in lines
    )
    assert any(line.startswith("  next weekly meeting: ") for line in lines)
    assert result.stderr == ""


def test_check_config_prints_every_problem_on_stderr_and_exits_1(
    runner: CliRunner, tmp_path: Path
) -> None:
    path = write(tmp_path, BROKEN)
    result = runner.invoke(check_config, [str(path)])
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr.splitlines() == [
        f'{path}:10: stages[0].days: expected a whole number of working days, not "three"',
        f"1 problem in {path}",
    ]


def test_check_config_reports_cross_reference_problems(runner: CliRunner, tmp_path: Path) -> None:
    path = write(tmp_path, BROKEN.replace("days: three", "days: 3"))
    result = runner.invoke(check_config, [str(path)])
    assert result.exit_code == 1
    assert result.stderr.splitlines()[0] == (
        f'{path}:12: stages[0].deliverables[0].owner: unknown department "研发部"; known: 市场部'
    )


def test_check_config_reads_the_path_from_the_environment(
    runner: CliRunner, tmp_path: Path
) -> None:
    path = write(tmp_path, BROKEN)
    result = runner.invoke(check_config, [], env={"CROSSDEPT_RULES": str(path)})
    assert result.exit_code == 1
    assert str(path) in result.stderr


def test_check_config_defaults_to_config_rules_yaml(
    runner: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(SHIPPED.parent.parent)
    result = runner.invoke(check_config, [], env={"CROSSDEPT_RULES": None})
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("config/rules.yaml: OK")


def test_check_config_on_a_missing_file_exits_1(runner: CliRunner, tmp_path: Path) -> None:
    missing = tmp_path / "nope.yaml"
    result = runner.invoke(check_config, [str(missing)])
    assert result.exit_code == 1
    assert f"{missing}: cannot read the rules file" in result.stderr


def test_check_config_help_explains_the_default_and_the_output(runner: CliRunner) -> None:
    result = runner.invoke(check_config, ["--help"])
    assert result.exit_code == 0
    words = " ".join(result.output.split())
    assert "CROSSDEPT_RULES" in words
    assert "config/rules.yaml" in words
    assert "FILE:LINE: path.to.field: message" in words


def test_schema_prints_the_json_schema(runner: CliRunner) -> None:
    result = runner.invoke(schema, [])
    assert result.exit_code == 0
    printed = json.loads(result.stdout)
    assert printed["title"] == "crossdept rules file"
    assert "stages" in printed["properties"]


def test_schema_writes_the_file_given(runner: CliRunner, tmp_path: Path) -> None:
    target = tmp_path / "rules.schema.json"
    result = runner.invoke(schema, ["--output", str(target)])
    assert result.exit_code == 0
    shipped = (SHIPPED.parent / "rules.schema.json").read_text(encoding="utf-8")
    assert target.read_text(encoding="utf-8") == shipped


def test_both_commands_are_registered_on_crossdept(runner: CliRunner) -> None:
    from webhooks.cli import cli

    result = runner.invoke(cli, ["check-config", str(SHIPPED)])
    assert result.exit_code == 0, result.output
    assert json.loads(runner.invoke(cli, ["schema"]).stdout)["title"] == "crossdept rules file"
