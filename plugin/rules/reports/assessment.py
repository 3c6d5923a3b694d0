"""The departments' assessment, decided purely: each period's figures against the baseline.

Seed 003 puts the on-time completion of collaboration items at 15% of a department's assessment,
collects the figures every two weeks, measures them against where the pilot started, and names a
"协作之星" each month. crossdept keeps a snapshot of each department's figures every
`reports.assessment.every_days` (plugin.rules.reports.snapshots); this module turns snapshots
into what people read: each period's on-time rate and its weighted part of the assessment, the
change against the first snapshot (the baseline) and whether the configured targets are met,
and the candidates for 协作之星, for people to decide.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date

from plugin.rules.reports.config import AssessmentRules


@dataclass(frozen=True)
class PeriodFigures:
    """One department's figures in one period, as the snapshot kept them."""

    department: str
    on_time: int
    late: int
    delayed: int
    asks: int
    answered: int
    median_hours: float | None

    @property
    def on_time_rate(self) -> float | None:
        """Items done on time of those due in the period (done, or delayed); None when none."""
        measured = self.on_time + self.late + self.delayed
        return self.on_time / measured if measured else None


@dataclass(frozen=True)
class StarCandidate:
    """One person's record in a period: their items' on-time rate and how fast they answered."""

    account: str
    name: str | None
    on_time: int
    measured: int  # their items due in the period: done, or delayed
    median_hours: float | None

    @property
    def on_time_rate(self) -> float:
        """Their items done on time, of those measured (at least one)."""
        return self.on_time / self.measured


@dataclass(frozen=True)
class Snapshot:
    """What crossdept kept of one period: every department's figures and the period's stars."""

    start: date
    end: date
    departments: tuple[PeriodFigures, ...]
    stars: tuple[StarCandidate, ...] = ()


@dataclass(frozen=True)
class AssessmentRow:
    """One department in one period, as the assessment report shows it."""

    start: date
    end: date
    department: str
    on_time_rate: float | None
    contribution: float | None  # points of the assessment's `weight` the rate earns
    baseline_rate: float | None  # the department's first measured rate
    rate_change: float | None  # percent against the baseline
    rate_met: bool | None  # the target reached (None: nothing to compare yet)
    median_hours: float | None
    baseline_hours: float | None
    hours_change: float | None
    hours_met: bool | None


def change(now: float | None, base: float | None) -> float | None:
    """The relative change from `base` to `now`, in percent; None when either is unknown or the
    base is zero (no relative change of nothing)."""
    if now is None or base is None or base == 0:
        return None
    return (now - base) / base * 100


def rate_met(now: float | None, base: float | None, target: float) -> bool | None:
    """Whether a rate reached `target` percent over its baseline; a rate cannot pass 100%, so
    a department at 100% has met any rise, and from a baseline of nothing any rise counts (none
    does not: 0% against 0% met nothing)."""
    if now is None or base is None:
        return None
    if base == 0:
        return now > 0
    return now >= min(1.0, base * (1 + target / 100)) - 1e-9


def hours_met(now: float | None, base: float | None, target: float) -> bool | None:
    """Whether response time changed by `target` percent (negative: at least that much faster)."""
    moved = change(now, base)
    if moved is None:
        return None
    return moved <= target if target < 0 else moved >= target


def assess(snapshots: Sequence[Snapshot], settings: AssessmentRules) -> list[AssessmentRow]:
    """Every department in every snapshot, oldest period first; the baseline of a figure is the
    department's first snapshot that measured it."""
    rows = []
    base_rate: dict[str, float] = {}
    base_hours: dict[str, float] = {}
    for snapshot in sorted(snapshots, key=lambda kept: kept.end):
        for figures in snapshot.departments:
            name, rate, hours = figures.department, figures.on_time_rate, figures.median_hours
            if rate is not None:
                base_rate.setdefault(name, rate)
            if hours is not None:
                base_hours.setdefault(name, hours)
            targets = settings.targets
            rows.append(
                AssessmentRow(
                    start=snapshot.start,
                    end=snapshot.end,
                    department=name,
                    on_time_rate=rate,
                    contribution=None if rate is None else rate * settings.weight,
                    baseline_rate=base_rate.get(name),
                    rate_change=change(rate, base_rate.get(name)),
                    rate_met=rate_met(rate, base_rate.get(name), targets.on_time_rate),
                    median_hours=hours,
                    baseline_hours=base_hours.get(name),
                    hours_change=change(hours, base_hours.get(name)),
                    hours_met=hours_met(hours, base_hours.get(name), targets.median_hours),
                )
            )
    return rows


def rank_stars(people: Iterable[StarCandidate], count: int) -> tuple[StarCandidate, ...]:
    """The period's 协作之星 candidates: the best on-time rate, then the fastest answers, then
    the most items; only people with an item done on time are candidates."""
    measured = [person for person in people if person.measured > 0 and person.on_time > 0]

    def order(person: StarCandidate) -> tuple[float, float, int, str]:
        hours = person.median_hours if person.median_hours is not None else float("inf")
        return (-person.on_time_rate, hours, -person.measured, person.account)

    return tuple(sorted(measured, key=order)[:count])
