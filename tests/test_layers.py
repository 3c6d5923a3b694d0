"""The house's rules, checked on the source: who may import the clients, Flask, and whom."""

from __future__ import annotations

import ast
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def imports_of(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module.split(".")[0])
    return found


def modules(package: str) -> dict[str, set[str]]:
    return {
        path.relative_to(REPO).as_posix(): imports_of(path)
        for path in sorted((REPO / package).rglob("*.py"))
    }


def test_only_the_gateways_import_the_atlassian_clients() -> None:
    users = {
        name: sorted(imported & {"jira", "atlassian"})
        for package in ("plugin", "webhooks", "demo")
        if (REPO / package).is_dir()
        for name, imported in modules(package).items()
        if imported & {"jira", "atlassian"}
    }
    assert users == {
        "plugin/confluence_gateway.py": ["atlassian"],
        "plugin/jira_gateway.py": ["jira"],
    }


def test_the_domain_imports_neither_the_web_edge_nor_the_sandbox_nor_flask() -> None:
    for name, imported in modules("plugin").items():
        assert not imported & {"webhooks", "sandbox", "demo", "flask", "werkzeug"}, name


def test_rules_reach_jira_only_through_the_port() -> None:
    for name in ("plugin/trees.py", "plugin/items.py", "plugin/notices.py", "plugin/owners.py"):
        source = (REPO / name).read_text(encoding="utf-8")
        assert "jira_gateway" not in source and "confluence_gateway" not in source, name
