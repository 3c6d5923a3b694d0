"""The front door holds: a README that fits on a screen or two, links that lead somewhere, the
exact test command CI runs, and every setting documented."""

from __future__ import annotations

import re
from pathlib import Path

from webhooks.settings import Settings, variable_name

REPO = Path(__file__).resolve().parent.parent
README = REPO / "README.md"
DOCS = REPO / "docs"
LINK = re.compile(r"\]\(([^)\s]+)\)")


def anchor(heading: str) -> str:
    """The anchor a Markdown renderer gives a heading (GitHub's rules, for what we write)."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def anchors_of(page: Path) -> set[str]:
    return {
        anchor(line.lstrip("#"))
        for line in page.read_text(encoding="utf-8").splitlines()
        if line.startswith("#")
    }


def test_the_readme_fits_on_a_screen_or_two() -> None:
    assert len(README.read_text(encoding="utf-8").splitlines()) <= 120


def test_every_local_link_in_the_readme_and_the_docs_leads_somewhere() -> None:
    broken = []
    for page in [README, *sorted(DOCS.glob("*.md"))]:
        for target in LINK.findall(page.read_text(encoding="utf-8")):
            if re.match(r"[a-z]+:", target):
                continue  # a web address
            path, _, fragment = target.partition("#")
            found = (page.parent / path).resolve() if path else page
            if not found.exists():
                broken.append(f"{page.name}: {target}")
            elif fragment and fragment not in anchors_of(found):
                broken.append(f"{page.name}: {target} (no such heading)")
    assert broken == []


def test_every_page_in_docs_is_linked_from_the_readme() -> None:
    linked = {Path(target.partition("#")[0]).name for target in LINK.findall(README.read_text())}
    pages = {page.name for page in DOCS.glob("*.md")}
    assert pages <= linked, pages - linked


def test_ci_runs_the_readmes_test_command_verbatim() -> None:
    ci = (REPO / ".ci" / "run").read_text(encoding="utf-8").strip().splitlines()[-1]
    assert f"    {ci}\n" in README.read_text(encoding="utf-8")


def test_every_setting_is_documented() -> None:
    documented = (DOCS / "settings.md").read_text(encoding="utf-8")
    missing = [
        variable_name(name)
        for name in Settings.model_fields
        if variable_name(name) not in documented
    ]
    assert missing == []
