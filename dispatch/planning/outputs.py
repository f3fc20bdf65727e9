"""Files of a planning run: a CSV per commune, a JSON summary, PNG maps and an offline HTML report."""

from __future__ import annotations

import base64
import csv
import html
import json
import logging
import textwrap
from pathlib import Path
from typing import Any

import numpy as np

from dispatch.i18n import translate
from dispatch.planning.coverage import LIMITS_MIN, MOMENTS
from dispatch.planning.run import ScenarioRun

logger = logging.getLogger(__name__)

COMMUNES_CSV = "communes.csv"
SUMMARY_JSON = "summary.json"
MAP_PNG = "map_diagnosis_to_wire.png"
DIFFERENCE_PNG = "map_difference.png"
REPORT_HTML = "report.html"

# Colour classes of the diagnosis-to-wire map, in minutes, each bound included.
MAP_BOUNDS_MIN = (60, 90, 120, 150)
MAP_COLOURS = ("#1a9850", "#a6d96a", "#fee08b", "#f46d43", "#a50026")
UNREACHED_COLOUR = "#bdbdbd"


def _number(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, float) and np.isnan(value):
        return ""
    return value


def write_communes_csv(run: ScenarioRun, path: Path, compare: dict[str, Any] | None = None) -> None:
    """Write one row per commune: population, coverage day and night, simulated calls."""
    population = run.prepared.population
    columns = run.coverage.columns
    names = ["insee", "commune", "departement", "residents", "present_mean", "tourist_beds", "tourist_beds_source", "tourist_beds_confidence", "located"]
    coverage_names = [name for name in columns if name.split("_", 1)[0] in MOMENTS]
    simulated = ["simulated_calls", "simulated_primary_pci_share", "simulated_median_diagnosis_to_wire_min"]
    extra = ["delta_day_min", "delta_night_min"] if compare else []
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(names + coverage_names + simulated + extra)
        for index, commune in enumerate(population.communes):
            row = [
                commune.insee,
                commune.name,
                commune.departement,
                int(population.residents[index]),
                round(float(columns["present_mean"][index])),
                round(float(population.beds[index])),
                population.bed_sources[index],
                population.bed_confidences[index],
                bool(run.prepared.commune_nodes[index] >= 0),
            ]
            row += [_number(columns[name][index]) for name in coverage_names]
            sim = run.commune_simulation
            share = sim["primary_pci_share"][index]
            median = sim["median_diagnosis_to_wire_min"][index]
            row += [int(sim["calls"][index]), "" if np.isnan(share) else round(float(share), 4), "" if np.isnan(median) else float(median)]
            if compare:
                row += [int(compare["delta_day_min"][index]), int(compare["delta_night_min"][index])]
            writer.writerow(row)


def summary_json(run: ScenarioRun, lang: str, compare: dict[str, Any] | None = None, other: ScenarioRun | None = None) -> dict[str, Any]:
    """Return the JSON summary of a run, and of the comparison when there is one."""
    model = run.model
    network = run.prepared.context.network_summary
    summary = {
        "scenario": model.name,
        "title": model.title_in(lang),
        "period": {"start": model.period.start.isoformat(), "end": model.period.end.isoformat()},
        "profile": run.prepared.profile.name,
        "network": {
            **network,
            "closed_sections": {str(month): road.closed_count for month, road in run.prepared.roads.items()},
            "closed_section_names": {str(month): list(road.closed_names) for month, road in run.prepared.roads.items()},
        },
        "coverage": run.coverage.summary,
        "simulation": run.simulation,
        "timings_s": {k: round(v, 3) for k, v in run.timings_s.items()},
        "notes": [translate(f"planning.note.{code}", lang) for code in notes(run)],
        "tables": result_tables(run, lang),
    }
    if compare is not None and other is not None:
        summary["compare"] = {
            "scenario": other.model.name,
            "title": other.model.title_in(lang),
            "tables": result_tables(other, lang),
            "coverage": other.coverage.summary,
            "simulation": other.simulation,
            **{k: v for k, v in compare.items() if not k.startswith("delta_")},
        }
    return summary


def result_tables(run: ScenarioRun, lang: str) -> dict[str, dict[str, list]]:
    """Return the coverage and simulation tables of a run, translated, as the report and the page show them."""
    coverage_header = [translate("planning.table.case", lang), translate("planning.table.population", lang)] + [f"≤ {limit} min" for limit in LIMITS_MIN]
    measure_header = [translate("planning.table.measure", lang), translate("planning.table.value", lang)]
    return {
        "coverage": {"header": coverage_header, "rows": _coverage_rows(run.coverage.summary, lang)},
        "simulation": {"header": measure_header, "rows": _simulation_rows(run.simulation, lang)},
    }


def notes(run: ScenarioRun) -> list[str]:
    """Return the codes of the caveats a planner must read with the figures."""
    codes = []
    if run.prepared.context.network.source.approximate:
        codes.append("network_approximate")
    if not any(mode == "helicopter" for mode in run.coverage.columns["day_transport"]):
        codes.append("air_absent")
    codes.append("population_estimate")
    codes.append("availability_draws")
    return codes


def _geoframe(run: ScenarioRun, values: np.ndarray):
    import geopandas

    region = run.prepared.context.region
    communes = run.prepared.population.communes
    geometries = [region.commune_polygon(c.insee) for c in communes]
    keep = [i for i, geometry in enumerate(geometries) if geometry is not None]
    return geopandas.GeoDataFrame({"value": values[keep]}, geometry=[geometries[i] for i in keep], crs=region.crs)


def _sites_xy(run: ScenarioRun) -> tuple[list[float], list[float]]:
    region = run.prepared.context.region
    xs, ys = [], []
    for lab_id in run.prepared.lab_ids:
        site = run.prepared.router.destinations[lab_id].site
        x, y = region.project(site.lon, site.lat)
        xs.append(float(x))
        ys.append(float(y))
    return xs, ys


def _finish_map(figure, axis, run: ScenarioRun, title: str, path: Path) -> None:
    xs, ys = _sites_xy(run)
    boundary = run.prepared.context.region.boundary
    minx, miny, maxx, maxy = boundary.bounds
    axis.scatter(xs, ys, marker="+", s=60, color="black", linewidths=1.5, zorder=5)
    axis.set_xlim(minx - 5000, maxx + 5000)
    axis.set_ylim(miny - 5000, maxy + 5000)
    axis.set_axis_off()
    axis.set_title(textwrap.fill(title, 70), fontsize=10)
    figure.tight_layout()
    figure.savefig(path, dpi=110)


def diagnosis_to_wire_map(run: ScenarioRun, path: Path, lang: str, moment: str = "day") -> None:
    """Draw the choropleth of daytime diagnosis-to-wire minutes by road or air, in 30-minute classes."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot
    from matplotlib.patches import Patch

    minutes = run.coverage.columns[f"{moment}_diagnosis_to_wire_road_or_air_min"].astype(np.float64)
    frame = _geoframe(run, minutes)
    classes = np.digitize(frame["value"].to_numpy(), MAP_BOUNDS_MIN, right=True)
    colours = [UNREACHED_COLOUR if value < 0 else MAP_COLOURS[c] for value, c in zip(frame["value"], classes)]
    figure, axis = pyplot.subplots(figsize=(7.5, 8.5))
    frame.plot(ax=axis, color=colours, edgecolor="white", linewidth=0.15)
    labels = [f"≤ {MAP_BOUNDS_MIN[0]}"] + [f"{a + 1}–{b}" for a, b in zip(MAP_BOUNDS_MIN, MAP_BOUNDS_MIN[1:])] + [f"> {MAP_BOUNDS_MIN[-1]}"]
    handles = [Patch(color=colour, label=f"{label} min") for colour, label in zip(MAP_COLOURS, labels)]
    handles.append(Patch(color=UNREACHED_COLOUR, label=translate("planning.map.unreached", lang)))
    axis.legend(handles=handles, loc="lower left", fontsize=8, title=translate("planning.map.legend", lang), title_fontsize=8)
    title = translate("planning.map.title", lang, scenario=run.model.title_in(lang), moment=translate(f"planning.moment.{moment}", lang))
    _finish_map(figure, axis, run, title, path)
    pyplot.close(figure)


def difference_map(base: ScenarioRun, other: ScenarioRun, delta: np.ndarray, path: Path, lang: str, moment: str) -> None:
    """Draw the change of diagnosis-to-wire minutes from ``base`` to ``other``: red where it grows."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot

    frame = _geoframe(base, delta.astype(np.float64))
    bound = max(10.0, float(np.abs(frame["value"]).max()))
    figure, axis = pyplot.subplots(figsize=(7.5, 8.5))
    frame.plot(ax=axis, column="value", cmap="RdBu_r", vmin=-bound, vmax=bound, edgecolor="white", linewidth=0.15, legend=True,
               legend_kwds={"label": translate("planning.map.delta_legend", lang), "shrink": 0.6})
    title = translate(
        "planning.map.difference_title", lang, base=base.model.title_in(lang), other=other.model.title_in(lang), moment=translate(f"planning.moment.{moment}", lang)
    )
    _finish_map(figure, axis, base, title, path)
    pyplot.close(figure)


def _percent(value: float, lang: str) -> str:
    text = f"{100 * value:.1f}"
    # French writes a decimal comma and a non-breaking space before the sign.
    return f"{text.replace('.', ',')}\u00a0%" if lang == "fr" else f"{text} %"


def _coverage_rows(summary: dict[str, Any], lang: str) -> list[list[str]]:
    rows = []
    for key, entry in summary["within"].items():
        moment, mode = key.split("_", 1)
        label = f"{translate(f'planning.moment.{moment}', lang)} · {translate(f'planning.mode.{mode}', lang)}"
        for group in ("residents", "present"):
            rows.append([label, translate(f"planning.group.{group}", lang)] + [_percent(entry[str(limit)][group], lang) for limit in LIMITS_MIN])
    return rows


def coverage_table_markdown(summary: dict[str, Any], lang: str) -> str:
    """Return the coverage shares as a Markdown table, for a terminal or a README."""
    header = [translate("planning.table.case", lang), translate("planning.table.population", lang)] + [f"≤ {limit} min" for limit in LIMITS_MIN]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in _coverage_rows(summary, lang)]
    return "\n".join(lines)


def _html_table(header: list[str], rows: list[list[Any]]) -> str:
    head = "".join(f"<th>{html.escape(str(cell))}</th>" for cell in header)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(str(cell))}</td>" for cell in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _image(path: Path) -> str:
    data = base64.b64encode(path.read_bytes()).decode()
    return f'<img alt="{html.escape(path.stem)}" src="data:image/png;base64,{data}">'


def _simulation_rows(simulation: dict[str, Any], lang: str) -> list[list[str]]:
    rows = [[translate(f"strategy.{name}", lang), _percent(share, lang)] for name, share in simulation["strategy_shares"].items()]
    rows.append([translate("planning.report.air_share", lang), _percent(simulation["air_share"], lang)])
    for name in ("call_to_diagnosis_min", "diagnosis_to_wire_min"):
        values = simulation[name]
        if values.get("count"):
            rows.append([translate(f"planning.report.{name}", lang), f"{values['median']:.0f} [{values['p10']:.0f}–{values['p90']:.0f}]"])
    return rows


def _closed_roads_html(run: ScenarioRun, lang: str) -> str:
    """Return a paragraph per month naming the closed road sections, or none when every road is open."""
    lines = []
    for month, road in sorted(run.prepared.roads.items()):
        if road.closed_names:
            text = translate("planning.report.closed_roads", lang, month=month, count=len(road.closed_names), names=", ".join(road.closed_names))
            lines.append(f"<p>{html.escape(text)}</p>")
    return "".join(lines)


def report_html(run: ScenarioRun, files: dict[str, Path], lang: str, summary: dict[str, Any], other: ScenarioRun | None = None) -> str:
    """Return a self-contained HTML report (images inline, no external asset) of a run."""
    t = lambda key, **params: html.escape(translate(f"planning.report.{key}", lang, **params))  # noqa: E731
    model = run.model
    header = [translate("planning.table.case", lang), translate("planning.table.population", lang)] + [f"≤ {limit} min" for limit in LIMITS_MIN]
    parts = [
        f"<!doctype html><html lang=\"{lang}\"><head><meta charset=\"utf-8\"><title>{html.escape(model.title_in(lang))}</title>",
        "<style>body{font-family:sans-serif;max-width:1100px;margin:2em auto;color:#222}table{border-collapse:collapse;margin:1em 0}"
        "td,th{border:1px solid #ccc;padding:4px 8px;text-align:right}td:first-child,th:first-child{text-align:left}"
        "img{max-width:100%;border:1px solid #ddd}.note{color:#7a4b00}</style></head><body>",
        f"<h1>{html.escape(model.title_in(lang))}</h1>",
        f"<p>{t('period', start=model.period.start.isoformat(), end=model.period.end.isoformat(), profile=run.prepared.profile.name, calls=run.simulation['calls'], seed=run.simulation['seed'])}</p>",
        "".join(f"<p class=\"note\">! {html.escape(text)}</p>" for text in summary["notes"]),
        _closed_roads_html(run, lang),
        f"<h2>{t('coverage')}</h2>",
        f"<p>{t('coverage_help', onset=run.coverage.summary['typical_onset_to_call_min'])}</p>",
        _html_table(header, _coverage_rows(run.coverage.summary, lang)),
        f"<h2>{t('simulation')}</h2>",
        _html_table([translate("planning.table.measure", lang), translate("planning.table.value", lang)], _simulation_rows(run.simulation, lang)),
    ]
    if MAP_PNG in files:
        parts.append(f"<h2>{t('map')}</h2>{_image(files[MAP_PNG])}")
    if other is not None and "compare" in summary:
        compare = summary["compare"]
        parts.append(f"<h2>{t('comparison', other=other.model.title_in(lang))}</h2>")
        parts.append(_html_table(header, _coverage_rows(other.coverage.summary, lang)))
        parts.append(_html_table([translate("planning.table.measure", lang), translate("planning.table.value", lang)], _simulation_rows(other.simulation, lang)))
        if DIFFERENCE_PNG in files:
            parts.append(_image(files[DIFFERENCE_PNG]))
        losing = [[row["name"], row["insee"], row["day_delta_min"], row["night_delta_min"], row["present_mean"]] for row in compare["communes_losing_most"]]
        if losing:
            parts.append(f"<h3>{t('losing')}</h3>")
            parts.append(_html_table([translate(f"planning.table.{k}", lang) for k in ("commune", "insee", "day_delta", "night_delta", "present")], losing))
    parts.append(f"<p>{t('files', csv=COMMUNES_CSV, json=SUMMARY_JSON)}</p></body></html>")
    return "\n".join(parts)


def write_outputs(run: ScenarioRun, out_dir: Path, lang: str, other: ScenarioRun | None = None, compare: dict[str, Any] | None = None) -> dict[str, Path]:
    """Write the CSV, JSON, maps and report of a run (and its comparison) into ``out_dir``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    files = {COMMUNES_CSV: out_dir / COMMUNES_CSV, SUMMARY_JSON: out_dir / SUMMARY_JSON, MAP_PNG: out_dir / MAP_PNG}
    write_communes_csv(run, files[COMMUNES_CSV], compare)
    summary = summary_json(run, lang, compare, other)
    files[SUMMARY_JSON].write_text(json.dumps(summary, ensure_ascii=False, indent=2), encoding="utf-8")
    diagnosis_to_wire_map(run, files[MAP_PNG], lang)
    if other is not None and compare is not None:
        other_dir = out_dir / other.model.name
        other_dir.mkdir(exist_ok=True)
        write_communes_csv(other, other_dir / COMMUNES_CSV)
        files[f"{other.model.name}/{MAP_PNG}"] = other_dir / MAP_PNG
        diagnosis_to_wire_map(other, other_dir / MAP_PNG, lang)
        files[DIFFERENCE_PNG] = out_dir / DIFFERENCE_PNG
        moment = "night" if np.abs(compare["delta_night_min"]).sum() > np.abs(compare["delta_day_min"]).sum() else "day"
        difference_map(run, other, compare[f"delta_{moment}_min"], files[DIFFERENCE_PNG], lang, moment)
    files[REPORT_HTML] = out_dir / REPORT_HTML
    files[REPORT_HTML].write_text(report_html(run, files, lang, summary, other), encoding="utf-8")
    logger.info("planning outputs of %s written to %s", run.model.name, out_dir)
    return files
