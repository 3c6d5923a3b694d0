"""`crossdept notify test CHANNEL`: an admin sees a robot's test message arrive, or why not."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from demo.harness import rules_with_groups
from sandbox.app import installed_sandbox, system_clock
from sandbox.seed import SEEDS
from webhooks.cli import cli

CLOUD = "https://crossdept-sandbox.atlassian.net"


def set_up(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, sandbox: object) -> dict[str, str]:
    text, robots = rules_with_groups(
        Path("config/rules.yaml").read_text(encoding="utf-8"),
        sandbox.robots,  # type: ignore[attr-defined]
    )
    rules = tmp_path / "rules.yaml"
    rules.write_text(text, encoding="utf-8")
    environ = {
        "CROSSDEPT_DATA_DIR": str(tmp_path / "data"),
        "CROSSDEPT_JIRA_URL": CLOUD,
        "CROSSDEPT_MARK_KEY": "test-mark-key-not-in-jira",
        "CROSSDEPT_JIRA_EMAIL": "crossdept@example.com",
        "CROSSDEPT_JIRA_API_TOKEN": "t",
        "CROSSDEPT_RULES": str(rules),
        **robots,
    }
    for name, value in environ.items():
        monkeypatch.setenv(name, value)
    return robots


def test_a_test_message_reaches_the_group_signed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with installed_sandbox(SEEDS["cloud"], jira_url=CLOUD, clock=system_clock) as sandbox:
        set_up(tmp_path, monkeypatch, sandbox)
        result = CliRunner().invoke(cli, ["notify", "test", "技术部群"])

        assert result.exit_code == 0, result.output
        assert "sent to 技术部群 (dingtalk)" in result.output
        [post] = sandbox.robots.received("技术部群")
        assert "crossdept 测试消息" in post.text and sandbox.robots.refusals == []


def test_a_refused_robot_says_why_without_its_address(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with installed_sandbox(SEEDS["cloud"], jira_url=CLOUD, clock=system_clock) as sandbox:
        robots = set_up(tmp_path, monkeypatch, sandbox)
        secret = next(name for name in robots if name.endswith("_SECRET"))
        monkeypatch.setenv(secret, "SEC-the-wrong-one")
        result = CliRunner().invoke(cli, ["notify", "test", "技术部群"])

        assert result.exit_code == 1
        assert "310000" in result.output and "sign not match" in result.output
        address = robots[secret.replace("_SECRET", "_URL")]
        assert address.split("=")[-1] not in result.output  # the robot's token is a secret
        unknown = CliRunner().invoke(cli, ["notify", "test", "技术群"])
        assert unknown.exit_code == 1 and "known: 技术部群, 市场部群, 产品部群" in unknown.output
