"""The registry's report: indicator tables and yearly trend plots in one offline HTML page.

Plots are drawn with matplotlib's Agg backend and embedded as base64 PNG, so the page
needs no file beside it and no network. The same page is written by ``resurcor registry
report`` and served under ``/registry``.
"""

from __future__ import annotations

import base64
import html
import io
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

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
    text = f"{value:g}" if value.is_integer() else f"{value:.1f}"
    return text.replace(".", ",") if lang == "fr" else text


def _group_label(grouping: str, key: Any, lang: str, destination_names: dict[str, str]) -> str:
    if grouping == "season":
        return translate(f"registry.season_{key}", lang)
    if grouping == "destination":
        return destination_names.get(key, str(key))
    return str(key)


def _table(results: dict[Any, dict[str, Any]], grouping: str, lang: str, destination_names: dict[str, str]) -> str:
    """Return an HTML table: one row per indicator, one column per group."""
    if not results:
        return f"<p>{html.escape(translate('registry.no_cases', lang))}</p>"
    keys = list(results)
    head = "".join(f"<th>{html.escape(_group_label(grouping, key, lang, destination_names))}</th>" for key in keys)
    body = []
    for indicator in INDICATORS:
        if all(results[key].get(indicator) is None for key in keys):
            continue
        cells = "".join(f"<td>{_cell(results[key].get(indicator), lang)}</td>" for key in keys)
        body.append(f"<tr><th scope=\"row\">{html.escape(translate(f'registry.indicator.{indicator}', lang))}</th>{cells}</tr>")
    title = html.escape(translate(f"registry.group_{grouping}", lang))
    return f"<table><thead><tr><th>{title}</th>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _png(figure: plt.Figure) -> str:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=80, bbox_inches="tight")
    plt.close(figure)
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def trend_plots(by_year: dict[int, dict[str, Any]], lang: str) -> list[tuple[str, str]]:
    """Return (indicator, base64 PNG) for each indicator's trend over the years."""
    years = list(by_year)
    plots = []
    for indicator in (*SHARE_INDICATORS, *DELAY_INDICATORS, "completeness"):
        series = [by_year[year].get(indicator) for year in years]
        if all(value is None or (isinstance(value, Median) and value.n == 0) or (isinstance(value, Share) and not value.total) for value in series):
            continue
        figure, axes = plt.subplots(figsize=(4.2, 2.6))
        if indicator in DELAY_INDICATORS:
            points = [(y, v) for y, v in zip(years, series) if v is not None and v.median is not None]
            xs = [y for y, _ in points]
            axes.fill_between(xs, [v.q1 for _, v in points], [v.q3 for _, v in points], alpha=0.25, color="tab:blue", label=translate("registry.iqr", lang))
            axes.plot(xs, [v.median for _, v in points], marker="o", color="tab:blue", label=translate("registry.median", lang))
            axes.set_ylabel("min")
            if not indicator.startswith("gap_"):
                axes.set_ylim(bottom=0)
            axes.legend(fontsize=7, loc="best")
        else:
            points = [(y, v) for y, v in zip(years, series) if v is not None and v.percent is not None]
            axes.plot([y for y, _ in points], [v.percent for _, v in points], marker="o", color="tab:red")
            axes.set_ylabel("%")
            axes.set_ylim(0, 100)
        axes.set_title(translate(f"registry.indicator.{indicator}", lang), fontsize=9)
        axes.set_xticks(years)
        axes.tick_params(labelsize=7)
        axes.grid(alpha=0.3)
        plots.append((indicator, _png(figure)))
    return plots


def build_report(frame: pd.DataFrame, year: int, lang: str, expected: dict[int, int], destination_names: dict[str, str], region_name: str) -> str:
    """Return the report's HTML for ``year``: the trend up to that year and the year's breakdowns."""
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
    generated = translate("registry.generated", lang, at=datetime.now(UTC).isoformat(timespec="minutes"), cases=len(frame))
    notes = "".join(f"<li>{html.escape(translate(f'registry.note_{key}', lang))}</li>" for key in ("medians", "targets", "followed", "gap", "completeness"))
    return f"""<!doctype html>
<html lang="{lang}"><head><meta charset="utf-8"><title>{html.escape(title)}</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 1.5em; color: #222; }}
table {{ border-collapse: collapse; margin: 0.5em 0 1.5em; font-size: 0.85em; }}
th, td {{ border: 1px solid #ccc; padding: 0.25em 0.5em; text-align: right; }}
th[scope=row] {{ text-align: left; font-weight: normal; }}
.plots {{ display: flex; flex-wrap: wrap; gap: 0.5em; }}
figure {{ margin: 0; }}
</style></head><body>
<h1>{html.escape(title)}</h1>
<p>{html.escape(generated)}</p>
<ul>{notes}</ul>
{''.join(sections)}
</body></html>
"""


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
    page = build_report(frame, year, lang, read_expected(engine), names, region.name.get(lang, region.id))
    return page, year
