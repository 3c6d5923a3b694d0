"""The goal board as one HTML page, purely: tables, inline SVG charts, filters; no script, no CDN.

Server-side rendered so it works on a phone and behind a firewall with no external network:
the charts are inline SVG, the styles inline, the filters a plain GET form.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from html import escape

from plugin.process.asks import RESPONSE_BUCKETS
from plugin.rules.reports.assessment import AssessmentRow, StarCandidate
from plugin.rules.reports.board import Board, figure_cells, hours_text, percent
from plugin.rules.reports.config import AssessmentRules
from plugin.rules.reports.wording import say_in

LANGUAGES = ("zh-CN", "en")
_STYLE = (
    "body{font-family:system-ui,sans-serif;margin:0 auto;max-width:84em;padding:.8em;color:#172b4d}"
    "h1{font-size:1.4em}h2{font-size:1.1em;margin-top:1.6em}"
    ".scroll{overflow-x:auto}table{border-collapse:collapse;min-width:100%}"
    "th,td{border-bottom:1px solid #dfe1e6;padding:.35em .5em;text-align:right;white-space:nowrap}"
    "th:first-child,td:first-child{text-align:left}form{display:flex;flex-wrap:wrap;gap:.5em}"
    ".note{color:#5e6c84;font-size:.9em}svg{max-width:100%;height:auto}a{color:#0052cc}"
)


def _bar_chart(rows: Sequence[tuple[str, float | None, str]], width: int = 600) -> str:
    """Horizontal bars (value 0..1), each labelled; a missing value draws no bar, says "—"."""
    height = 26 * len(rows) + 10
    parts = [f'<svg role="img" viewBox="0 0 {width} {height}" width="{width}" height="{height}">']
    for index, (label, value, shown) in enumerate(rows):
        y = 8 + index * 26
        bar = 0 if value is None else round(value * (width - 220))
        parts.append(
            f'<text x="0" y="{y + 14}" font-size="13">{escape(label)}</text>'
            f'<rect x="150" y="{y}" width="{bar}" height="18" fill="#36b37e"'
            f' data-value="{"" if value is None else f"{value:.4f}"}"></rect>'
            f'<text x="{156 + bar}" y="{y + 14}" font-size="13">{escape(shown)}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def response_histogram(hours: Sequence[float]) -> list[int]:
    """Answered asks per bucket of RESPONSE_BUCKETS, plus one for longer ones."""
    counts = [0] * (len(RESPONSE_BUCKETS) + 1)
    for value in hours:
        index = next((i for i, edge in enumerate(RESPONSE_BUCKETS) if value <= edge), None)
        counts[len(RESPONSE_BUCKETS) if index is None else index] += 1
    return counts


def render_board_page(
    board: Board,
    *,
    language: str,
    issue_url: Callable[[str], str],
    request_keys: Sequence[str],
    chosen_request: str | None,
    department_name: Callable[[str], str],
    assessment: AssessmentRules | None = None,
    trend: Sequence[AssessmentRow] = (),
    stars: Sequence[StarCandidate] = (),
) -> str:
    """The whole page; with the assessment's latest period (`trend`), its trend too."""

    def t(entry: str, **values: object) -> str:
        return escape(say_in(language, entry, **values))

    def name(department: str) -> str:
        return (
            department_name(department) if department else say_in(language, "board.no_department")
        )

    heads = [
        "board.department",
        "board.items",
        "board.on_time",
        "board.late",
        "board.not_started",
        "board.in_progress",
        "board.delayed",
        "board.rate",
        "board.asks",
        "board.answered",
        "board.median",
        "board.p90",
        "board.escalations",
        "board.supporting",
    ]
    rows = "".join(
        "<tr>"
        + "".join(f"<td>{escape(cell)}</td>" for cell in (name(row.department), *figure_cells(row)))
        + "</tr>"
        for row in board.departments
    )
    table = (
        '<div class="scroll"><table id="departments"><thead><tr>'
        + "".join(f"<th>{t(h)}</th>" for h in heads)
        + f"</tr></thead><tbody>{rows}</tbody></table></div>"
    )
    rate_chart = _bar_chart(
        [(name(r.department), r.on_time_rate, percent(r.on_time_rate)) for r in board.departments]
    )
    counts = response_histogram(board.response_hours)
    most = max(counts) or 1
    labels = [say_in(language, "board.hours_up_to", hours=f"{edge:g}") for edge in RESPONSE_BUCKETS]
    labels.append(say_in(language, "board.hours_over", hours=f"{RESPONSE_BUCKETS[-1]:g}"))
    histogram = _bar_chart(
        [(label, count / most, str(count)) for label, count in zip(labels, counts, strict=True)]
    )
    delayed = "".join(
        f'<tr><td><a href="{escape(issue_url(d.key))}">{escape(d.key)}</a> {escape(d.summary)}</td>'
        f"<td>{escape(name(d.department or ''))}</td><td>{escape(d.owner_name or d.owner or '—')}</td>"
        f"<td>{d.due.isoformat()}</td><td>{d.days_late}</td></tr>"
        for d in board.delayed
    )
    delayed_table = (
        '<div class="scroll"><table id="delayed"><thead><tr>'
        f"<th>{t('board.items')}</th><th>{t('board.department')}</th><th>{t('board.owner')}</th>"
        f"<th>{t('board.due')}</th><th>{t('board.days_late')}</th></tr></thead>"
        f"<tbody>{delayed}</tbody></table></div>"
        if delayed
        else f"<p>{t('board.none')}</p>"
    )
    if board.delayed_unlisted:
        delayed_table += (
            f'<p class="note">{t("board.more_delayed", count=board.delayed_unlisted)}</p>'
        )

    progress = "".join(
        f'<tr><td><a href="{escape(issue_url(p.request))}">{escape(p.request)}</a></td>'
        f"<td>{p.stages_done} / {p.stages}</td><td>{p.delayed}</td></tr>"
        for p in board.requests
    )
    progress_table = (
        f'<div class="scroll"><table id="progress"><thead><tr><th>{t("board.request")}</th>'
        f"<th>{t('board.stages_done')}</th><th>{t('board.delayed')}</th></tr></thead>"
        f"<tbody>{progress}</tbody></table></div>"
        if progress
        else f"<p>{t('board.none')}</p>"
    )
    trend_section = (
        _trend(t, name, assessment, trend, stars) if assessment is not None and trend else ""
    )
    options = f'<option value="">{t("board.all_requests")}</option>' + "".join(
        f'<option value="{escape(key)}"{" selected" if key == chosen_request else ""}>'
        f"{escape(key)}</option>"
        for key in request_keys
    )
    since = board.since.isoformat() if board.since else ""
    other = "en" if language == "zh-CN" else "zh-CN"
    form = (
        '<form method="get" action="">'
        f'<label>{t("board.period")} <input type="date" name="since" value="{since}"></label>'
        f'<label>{t("board.request")} <select name="request">{options}</select></label>'
        f'<input type="hidden" name="lang" value="{language}">'
        f'<button type="submit">{t("board.apply")}</button>'
        f'<a href="?lang={other}&amp;since={since}&amp;request={escape(chosen_request or "")}">'
        f"{'English' if other == 'en' else '中文'}</a></form>"
    )
    return (
        f'<!DOCTYPE html>\n<html lang="{language}"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{t('board.title')}</title><style>{_STYLE}</style></head><body>"
        f"<h1>{t('board.title')}</h1>"
        f'<p class="note">{t("board.generated", today=board.today.isoformat())}</p>{form}'
        f"<h2>{t('board.departments')}</h2>{table}"
        f'<p class="note">{t("board.unknown")}</p>'
        f"<h2>{t('board.rate_chart')}</h2>{rate_chart}"
        f"<h2>{t('board.response_chart')}</h2>{histogram}"
        f"<h2>{t('board.delayed_items')}</h2>{delayed_table}"
        f"<h2>{t('board.progress')}</h2>{progress_table}"
        f"{trend_section}"
        "</body></html>\n"
    )


def _trend(
    t: Callable[..., str],
    name: Callable[[str], str],
    settings: AssessmentRules,
    rows: Sequence[AssessmentRow],
    stars: Sequence[StarCandidate],
) -> str:
    """The latest period against the baseline, and its 协作之星 candidates."""

    def signed(value: float | None) -> str:
        return "—" if value is None else f"{value:+.0f}%"

    def met(value: bool | None) -> str:
        return "—" if value is None else t("board.yes" if value else "board.no")

    heads = (
        "board.department",
        "board.rate",
        "board.score",
        "board.baseline",
        "board.change",
        "board.target_met",
        "board.median",
        "board.baseline",
        "board.change",
        "board.target_met",
    )
    body = "".join(
        "<tr>"
        + "".join(
            f"<td>{cell}</td>"
            for cell in (
                escape(name(row.department)),
                percent(row.on_time_rate),
                "—"
                if row.contribution is None
                else f"{row.contribution:.1f} / {settings.weight:g}",
                percent(row.baseline_rate),
                signed(row.rate_change),
                met(row.rate_met),
                hours_text(row.median_hours),
                hours_text(row.baseline_hours),
                signed(row.hours_change),
                met(row.hours_met),
            )
        )
        + "</tr>"
        for row in rows
    )
    targets = settings.targets
    note = t(
        "board.trend_note",
        weight=f"{settings.weight:g}",
        rate_target=f"{targets.on_time_rate:+g}%",
        hours_target=f"{targets.median_hours:+g}%",
    )
    starred = "".join(
        "<li>"
        + t(
            "board.star_line",
            name=star.name or star.account,
            on_time=star.on_time,
            measured=star.measured,
            rate=percent(star.on_time_rate),
            hours=hours_text(star.median_hours),
        )
        + "</li>"
        for star in stars
    )
    return (
        f"<h2>{t('board.trend', start=rows[0].start.isoformat(), end=rows[0].end.isoformat())}</h2>"
        '<div class="scroll"><table id="trend"><thead><tr>'
        + "".join(f"<th>{t(h)}</th>" for h in heads)
        + f'</tr></thead><tbody>{body}</tbody></table></div><p class="note">{note}</p>'
        + (f'<h2>{t("board.stars")}</h2><ol id="stars">{starred}</ol>' if starred else "")
    )
