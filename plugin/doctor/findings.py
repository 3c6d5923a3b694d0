"""One line of doctor's answer: a check, whether it passed, where the rules file asks for it, and
how to fix it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from plugin.process.config import FieldPath
from plugin.process.rulesfile import LineMap, format_path

Status = Literal["pass", "warn", "fail"]


@dataclass(frozen=True)
class Finding:
    """What one check found. `warn` is worth reading but does not fail doctor."""

    check: str  # connection, projects, permissions, issue types, fields, workflows, ...
    status: Status
    subject: str  # what was checked, e.g. "XD: transition issues"
    detail: str = ""  # what was found, when it is not simply right
    path: FieldPath | None = None  # the rules file's place that needs it
    fix: str = ""  # the admin page or the command that fixes it
    by_setup: bool = False  # `crossdept setup --apply` fixes it

    def where(self, filename: str, lines: LineMap | None) -> str:
        """`config/rules.yaml:41 jira.projects[0]`, or "" for a check the file does not drive."""
        if self.path is None:
            return ""
        line = lines.key_line(self.path) if lines is not None else 1
        return f"{filename}:{line} {format_path(self.path)}"

    def as_json(self, filename: str, lines: LineMap | None) -> dict[str, Any]:
        return {
            "check": self.check,
            "status": self.status,
            "subject": self.subject,
            "detail": self.detail,
            "where": self.where(filename, lines) or None,
            "fix": self.fix or None,
            "by_setup": self.by_setup,
        }


def failed(findings: list[Finding]) -> list[Finding]:
    return [finding for finding in findings if finding.status == "fail"]


def render(findings: list[Finding], filename: str, lines: LineMap | None) -> str:
    """Doctor's answer as an admin reads it: one block per finding, a summary last."""
    out: list[str] = []
    for finding in findings:
        mark = {"pass": "PASS", "warn": "WARN", "fail": "FAIL"}[finding.status]
        head = f"{mark}  {finding.check}: {finding.subject}"
        out.append(head + (f": {finding.detail}" if finding.detail else ""))
        where = finding.where(filename, lines)
        if where and finding.status != "pass":
            out.append(f"      in {where}")
        if finding.fix and finding.status != "pass":
            out.append(f"      fix: {finding.fix}")
    counts = {s: sum(1 for f in findings if f.status == s) for s in ("pass", "warn", "fail")}
    settable = sum(1 for f in findings if f.status == "fail" and f.by_setup)
    summary = f"{counts['pass']} passed, {counts['warn']} warnings, {counts['fail']} failed"
    if settable:
        summary += f" ({settable} fixed by `crossdept setup --apply`)"
    out.append(summary)
    return "\n".join(out)
