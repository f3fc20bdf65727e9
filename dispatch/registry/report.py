"""The registry's report: indicator tables and yearly trend plots in one offline HTML page.

Plots are drawn with matplotlib's Agg backend and embedded as base64 PNG, so the page
needs no file beside it and no network. The same page is written by ``resurcor registry
report`` and served under ``/registry``.
"""

from __future__ import annotations

import base64
import html
import io
from datetime import datetime
from zoneinfo import ZoneInfo
from pathlib import Path
from typing import Any, Callable

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402

from dispatch.i18n import translate  # noqa: E402
from dispatch.registry.indicators import (  # noqa: E402
    DELAY_INDICATORS,
    INDICATORS,
    SHARE_INDICATORS,
    Median,
    Share,
    compute_by,
)

REPORT_FILE_NAME = "index.html"


def _cell(value: Any, lang: str) -> str:
    if value is None:
        return "—"
    if isinstance(value, Median):
        if value.median is None:
            return "—"
        return translate("registry.cell_median", lang, median=_number(value.median, lang), q1=_number(value.q1, lang), q3=_number(value.q3, lang), n=value.n)
    if isinstance(value, Share):
        if value.percent is None:
            return "—"
        return translate("registry.cell_share", lang, percent=_number(value.percent, lang), count=value.count, total=value.total)
    return html.escape(str(value))


def _number(value: float | None, lang: str) -> str:
    if value is None:
        return "—"
    value = round(float(value), 1)
    text = f"{abs(value):g}" if value.is_integer() else f"{abs(value):.1f}"
    text = text.replace(".", ",") if lang == "fr" else text
    # A real minus sign (U+2212), so "4 [−1 – 9]" does not read as a range's dash.
    return f"−{text}" if value < 0 else text


def _group_label(grouping: str, key: Any, lang: str, destination_names: dict[str, str]) -> str:
    if grouping == "season":
        return translate(f"registry.season_{key}", lang)
    if grouping == "destination":
        return destination_names.get(key, str(key))
    return str(key)


def year_gaps(years: list[int]) -> list[tuple[int, int]]:
    """Return the (first, last) years missing between consecutive ``years``, in order."""
    ordered = sorted(years)
    return [(before + 1, after - 1) for before, after in zip(ordered, ordered[1:]) if after - before > 1]


def _gap_text(gap: tuple[int, int], lang: str) -> str:
    first, last = gap
    if first == last:
        return translate("registry.gap_year", lang, year=first)
    return translate("registry.gap_years", lang, first=first, last=last)


def _table(results: dict[Any, dict[str, Any]], grouping: str, lang: str, destination_names: dict[str, str]) -> str:
    """Return an HTML table: one row per indicator, one column per group.

    In a table by year, a column "…" stands for each run of years without cases, so 2008
    and 2026 are never read as consecutive years.
    """
    if not results:
        return f"<p>{html.escape(translate('registry.no_cases', lang))}</p>"
    keys = list(results)
    gaps = {gap[0] - 1: gap for gap in year_gaps(keys)} if grouping == "year" else {}

    def columns(cell: Callable[[Any], str], gap_cell: Callable[[tuple[int, int]], str]) -> str:
        parts = []
        for key in keys:
            parts.append(cell(key))
            if key in gaps:
                parts.append(gap_cell(gaps[key]))
        return "".join(parts)

    def gap_header(gap: tuple[int, int]) -> str:
        return f'<th class="gap" title="{html.escape(_gap_text(gap, lang))}">…</th>'

    head = columns(lambda key: f"<th>{html.escape(_group_label(grouping, key, lang, destination_names))}</th>", gap_header)
    body = []
    for indicator in INDICATORS:
        if all(results[key].get(indicator) is None for key in keys):
            continue
        cells = columns(lambda key: f"<td>{_cell(results[key].get(indicator), lang)}</td>", lambda _gap: '<td class="gap">…</td>')
        body.append(f"<tr><th scope=\"row\">{html.escape(translate(f'registry.indicator.{indicator}', lang))}</th>{cells}</tr>")
    title = html.escape(translate(f"registry.group_{grouping}", lang))
    table = f"<table><thead><tr><th>{title}</th>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"
    if gaps:
        notes = ", ".join(_gap_text(gap, lang) for gap in gaps.values())
        table += f'<p class="gap-note">{html.escape(translate("registry.gap_note", lang, gaps=notes))}</p>'
    return table


def _png(figure: plt.Figure) -> str:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=80, bbox_inches="tight")
    plt.close(figure)
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def _segments(years: list[int]) -> list[list[int]]:
    """Split sorted years into runs of consecutive years."""
    runs: list[list[int]] = []
    for year in years:
        if runs and year == runs[-1][-1] + 1:
            runs[-1].append(year)
        else:
            runs.append([year])
    return runs


def _axis_positions(years: list[int]) -> tuple[dict[int, float], list[float]]:
    """Return each year's x position and the positions of the breaks between runs.

    Years are placed one unit apart, with one empty unit at each run of missing years, so
    a gap of 17 years does not squeeze the plotted years together.
    """
    positions: dict[int, float] = {}
    breaks: list[float] = []
    x = 0.0
    for index, run in enumerate(_segments(years)):
        if index:
            breaks.append(x)
            x += 1
        for year in run:
            positions[year] = x
            x += 1
    return positions, breaks


def trend_plots(by_year: dict[int, dict[str, Any]], lang: str) -> list[tuple[str, str]]:
    """Return (indicator, base64 PNG) for each indicator's trend over the years.

    Missing years break the x axis: the line stops, and a dashed line marked "…" is drawn
    at the break with a note naming the missing years.
    """
    years = sorted(by_year)
    positions, breaks = _axis_positions(years)
    gap_note = ", ".join(_gap_text(gap, lang) for gap in year_gaps(years))
    plots = []
    for indicator in (*SHARE_INDICATORS, *DELAY_INDICATORS, "completeness"):
        series = {year: by_year[year].get(indicator) for year in years}
        if all(value is None or (isinstance(value, Median) and value.n == 0) or (isinstance(value, Share) and not value.total) for value in series.values()):
            continue
        figure, axes = plt.subplots(figsize=(4.2, 2.6))
        for index, run in enumerate(_segments(years)):
            # The legend names each kind of mark once, on the first run.
            labelled = index == 0
            if indicator in DELAY_INDICATORS:
                points = [(positions[y], series[y]) for y in run if series[y] is not None and series[y].median is not None]
                xs = [x for x, _ in points]
                axes.fill_between(xs, [v.q1 for _, v in points], [v.q3 for _, v in points], alpha=0.25, color="tab:blue",
                                  label=translate("registry.iqr", lang) if labelled else None)
                axes.plot(xs, [v.median for _, v in points], marker="o", color="tab:blue",
                          label=translate("registry.median", lang) if labelled else None)
                if len(points) == 1:
                    # A band needs two points: a lone year shows its quartiles as an error bar.
                    (x, value), = points
                    axes.errorbar([x], [value.median], yerr=[[value.median - value.q1], [value.q3 - value.median]], color="tab:blue", alpha=0.5, capsize=3)
            else:
                points = [(positions[y], series[y]) for y in run if series[y] is not None and series[y].percent is not None]
                axes.plot([x for x, _ in points], [v.percent for _, v in points], marker="o", color="tab:red")
        if indicator in DELAY_INDICATORS:
            axes.set_ylabel("min")
            if not indicator.startswith("gap_"):
                axes.set_ylim(bottom=0)
            axes.legend(fontsize=7, loc="best")
        else:
            axes.set_ylabel("%")
            axes.set_ylim(0, 100)
        for x in breaks:
            axes.axvline(x, color="grey", linestyle="--", linewidth=0.8)
        axes.set_title(translate(f"registry.indicator.{indicator}", lang), fontsize=9)
        axes.set_xticks([positions[year] for year in years] + breaks)
        axes.set_xticklabels([str(year) for year in years] + ["…"] * len(breaks))
        if breaks:
            axes.set_xlabel(translate("registry.gap_axis", lang, gaps=gap_note), fontsize=7)
        axes.tick_params(labelsize=7)
        axes.grid(alpha=0.3)
        plots.append((indicator, _png(figure)))
    return plots


def build_report(
    frame: pd.DataFrame,
    year: int,
    lang: str,
    expected: dict[int, int],
    destination_names: dict[str, str],
    region_name: str,
    timezone: ZoneInfo,
) -> str:
    """Return the report's HTML for ``year``: the trend up to that year and the year's breakdowns.

    The generation time is given in the region's ``timezone``, with its UTC offset.
    """
    upto = frame[frame["year"] <= year]
    of_year = frame[frame["year"] == year]
    by_year = compute_by(upto, "year", expected)

    sections = [
        f"<h2>{html.escape(translate('registry.section_trend', lang))}</h2>",
        _table(by_year, "year", lang, destination_names),
        '<div class="plots">',
        *(
            f'<figure><img alt="{html.escape(translate(f"registry.indicator.{name}", lang))}" src="data:image/png;base64,{data}"></figure>'
            for name, data in trend_plots(by_year, lang)
        ),
        "</div>",
    ]
    for grouping in ("departement", "season", "destination"):
        sections.append(f"<h2>{html.escape(translate(f'registry.section_{grouping}', lang, year=year))}</h2>")
        sections.append(_table(compute_by(of_year, grouping), grouping, lang, destination_names))

    title = translate("registry.report_title", lang, year=year, region=region_name)
    now = datetime.now(timezone)
    generated = translate(
        "registry.generated",
        lang,
        count=len(frame),
        date=now.strftime("%d/%m/%Y") if lang == "fr" else now.strftime("%Y-%m-%d"),
        time=now.strftime("%H:%M"),
        timezone=timezone.key,
        offset=_utc_offset(now),
    )
    notes = "".join(f"<li>{html.escape(translate(f'registry.note_{key}', lang))}</li>" for key in ("medians", "targets", "followed", "gap", "completeness", "position"))
    return f"""<!doctype html>
<html lang="{lang}"><head><meta charset="utf-8"><title>{html.escape(title)}</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 1.5em; color: #222; }}
table {{ border-collapse: collapse; margin: 0.5em 0 1.5em; font-size: 0.85em; }}
th, td {{ border: 1px solid #ccc; padding: 0.25em 0.5em; text-align: right; }}
th[scope=row] {{ text-align: left; font-weight: normal; }}
.plots {{ display: flex; flex-wrap: wrap; gap: 0.5em; }}
th.gap, td.gap {{ text-align: center; color: #888; background: #f4f4f4; }}
.gap-note {{ font-size: 0.85em; color: #555; margin-top: -1em; }}
figure {{ margin: 0; }}
</style></head><body>
<h1>{html.escape(title)}</h1>
<p>{html.escape(generated)}</p>
<ul>{notes}</ul>
{''.join(sections)}
</body></html>
"""


def _utc_offset(moment: datetime) -> str:
    minutes = int(moment.utcoffset().total_seconds() // 60)
    sign = "+" if minutes >= 0 else "−"
    return f"UTC{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def write_report(out_dir: Path, page: str) -> Path:
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / REPORT_FILE_NAME
    path.write_text(page, encoding="utf-8")
    return path


def registry_report(engine: Any, region: Any, year: int | None, lang: str) -> tuple[str, int | None]:
    """Return the report page of the registry behind ``engine`` and the year it covers (default: the latest)."""
    from dispatch.registry.indicators import load_frame, read_expected

    frame = load_frame(engine, region.timezone)
    if year is None:
        year = int(frame["year"].max()) if len(frame) else datetime.now(region.timezone).year
    names = {site.id: site.name for site in region.sites.sites}
    page = build_report(frame, year, lang, read_expected(engine), names, region.name.get(lang, region.id), region.timezone)
    return page, year
