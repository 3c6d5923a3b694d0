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
        "plugin/atlassian/confluence_gateway.py": ["atlassian"],
        "plugin/atlassian/jira_gateway.py": ["jira"],
    }


def test_the_domain_imports_neither_the_web_edge_nor_the_sandbox_nor_flask() -> None:
    for name, imported in modules("plugin").items():
        assert not imported & {"webhooks", "sandbox", "demo", "flask", "werkzeug"}, name


def test_rules_reach_jira_only_through_the_port() -> None:
    for name in (
        "plugin/rules/trees/trees.py",
        "plugin/process/items.py",
        "plugin/process/notices.py",
        "plugin/process/owners.py",
    ):
        source = (REPO / name).read_text(encoding="utf-8")
        assert "jira_gateway" not in source and "confluence_gateway" not in source, name


LAYERS = (
    "spine",
    "atlassian",
    "groups",
    "process",
    "rules",
    "doctor",
)  # each may import only itself and those before


def runtime_plugin_imports(path: Path) -> set[str]:
    """The plugin modules a file imports when it runs (not those named only for type checking)."""
    found: set[str] = set()

    def visit(nodes: list[ast.stmt]) -> None:
        for node in nodes:
            if isinstance(node, ast.If) and getattr(node.test, "id", "") == "TYPE_CHECKING":
                continue
            for inner in ast.walk(node):
                if isinstance(inner, ast.ImportFrom) and inner.module and inner.level == 0:
                    if inner.module.startswith("plugin."):
                        found.add(inner.module)
                elif isinstance(inner, ast.Import):
                    found.update(a.name for a in inner.names if a.name.startswith("plugin."))

    visit(ast.parse(path.read_text(encoding="utf-8")).body)
    return found


def test_the_spine_atlassian_process_and_rules_import_only_downwards() -> None:
    wrong = []
    for path in sorted((REPO / "plugin").rglob("*.py")):
        parts = path.relative_to(REPO / "plugin").parts
        if len(parts) < 2:
            continue  # plugin/composition.py composes everything
        allowed = LAYERS[: LAYERS.index(parts[0]) + 1]
        for module in sorted(runtime_plugin_imports(path)):
            if module.split(".")[1] not in allowed:
                wrong.append(f"{path.relative_to(REPO).as_posix()} imports {module}")
    assert wrong == []


def test_a_newcomer_finds_each_rule_in_its_own_folder() -> None:
    rules = sorted(
        p.name
        for p in (REPO / "plugin" / "rules").iterdir()
        if p.is_dir() and p.name != "__pycache__"
    )
    assert rules == [
        "cadence",
        "escalation",
        "minutes",
        "notify",
        "ownership",
        "reports",
        "risks",
        "trees",
    ]
    assert (REPO / "plugin" / "rules" / "minutes" / "minutes_parser.py").is_file()


def test_a_rule_never_reaches_into_another_rules_folder() -> None:
    """A rule may use another's public names (its package), never the modules inside it: what
    several rules share lives in plugin/process, and rules talk through events."""
    wrong = []
    for path in sorted((REPO / "plugin" / "rules").rglob("*.py")):
        parts = path.relative_to(REPO / "plugin" / "rules").parts
        if len(parts) < 2:
            continue
        own = parts[0]
        for module in sorted(runtime_plugin_imports(path) | type_checking_imports(path)):
            names = module.split(".")
            if names[:2] == ["plugin", "rules"] and len(names) > 3 and names[2] != own:
                wrong.append(f"{path.relative_to(REPO).as_posix()} imports {module}")
    assert wrong == []


def type_checking_imports(path: Path) -> set[str]:
    """The plugin modules a file names only for type checking."""
    found: set[str] = set()
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.If) and getattr(node.test, "id", "") == "TYPE_CHECKING":
            for inner in ast.walk(node):
                if isinstance(inner, ast.ImportFrom) and (inner.module or "").startswith("plugin."):
                    found.add(str(inner.module))
    return found


def test_the_spine_and_the_gateways_never_import_a_rule() -> None:
    wrong = [
        f"{path.relative_to(REPO).as_posix()} imports {module}"
        for layer in ("spine", "atlassian", "groups", "process")
        for path in sorted((REPO / "plugin" / layer).rglob("*.py"))
        for module in sorted(runtime_plugin_imports(path) | type_checking_imports(path))
        if module.startswith("plugin.rules")
    ]
    assert wrong == []


def test_the_sandboxs_parts_share_only_public_names() -> None:
    """A leading underscore means "this module's own": no sandbox module uses another's."""
    import re

    shared = []
    for package in ("sandbox/jira", "sandbox/confluence"):
        sources = {p: p.read_text(encoding="utf-8") for p in sorted((REPO / package).glob("*.py"))}
        defined = {
            path: set(re.findall(r"^\s*(?:def|class) (_[A-Za-z]\w*)", text, re.M))
            | set(re.findall(r"^(_[A-Za-z]\w*)\s*[:=]", text, re.M))
            | set(re.findall(r"self\.(_[a-z]\w*)\s*(?::[^=\n]*)?=(?!=)", text))
            for path, text in sources.items()
        }
        for path, text in sources.items():
            used = set(re.findall(r"(?<![\w])(_[A-Za-z]\w*)", text)) - {"__init__"}
            for other, names in defined.items():
                if other != path:
                    for name in sorted(used & names - defined[path]):
                        shared.append(f"{path.relative_to(REPO)} uses {other.name}'s {name}")
    assert shared == []
