"""``resurcor registry``: create the regional registry, import and export cases, write the report."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TextIO

from dispatch.i18n import translate
from dispatch.settings import Settings

COMMANDS = frozenset({"registry"})

EXIT_ROWS_REJECTED = 1


def add_parser(kit) -> None:
    registry = kit.add("registry")
    actions = kit.subcommands(registry, "registry_command")
    init = kit.add("init", "registry_init", under=actions)
    init.add_argument("--lang", choices=("fr", "en"), help=kit.help("lang"))

    load = kit.add("import", "registry_import", under=actions)
    load.add_argument("file", type=Path, metavar="FILE.csv", help=kit.help("registry_import_file"))
    load.add_argument("--json", action="store_true", help=kit.help("json"))
    load.add_argument("--rejections", type=Path, metavar="FILE.csv", help=kit.help("registry_rejections"))
    load.add_argument("--lang", choices=("fr", "en"), help=kit.help("lang"))

    expected = kit.add("expected", "registry_expected", under=actions)
    expected.add_argument("file", type=Path, metavar="FILE.csv", help=kit.help("registry_expected_file"))

    export = kit.add("export", "registry_export", under=actions)
    export.add_argument("--format", dest="file_format", choices=("csv", "parquet"), default="csv", help=kit.help("registry_format"))
    export.add_argument("--out", type=Path, required=True, help=kit.help("registry_export_out"))

    report = kit.add("report", "registry_report", under=actions)
    report.add_argument("--year", type=int, help=kit.help("registry_year"))
    report.add_argument("--out", type=Path, required=True, help=kit.help("registry_report_out"))
    report.add_argument("--lang", choices=("fr", "en"), help=kit.help("lang"))

    synth = kit.add("synth", "registry_synth", under=actions)
    synth.add_argument("--cases", type=int, default=4000, help=kit.help("registry_synth_cases"))
    synth.add_argument("--seed", type=int, default=1, help=kit.help("registry_synth_seed"))
    synth.add_argument("--first-year", type=int, default=2002, help=kit.help("registry_synth_first_year"))
    synth.add_argument("--last-year", type=int, default=2008, help=kit.help("registry_synth_last_year"))
    synth.add_argument("--out", type=Path, required=True, help=kit.help("registry_synth_out"))


def run(args: argparse.Namespace, settings: Settings, lang: str) -> int:
    from geodata.region import load_region
    from dispatch.registry.store import database_url, make_engine, open_registry, upgrade

    command = args.registry_command
    if command == "synth":
        return _synth(args, settings, lang)
    if command == "init":
        engine = make_engine(database_url(settings))
        try:
            revision = upgrade(engine)
        finally:
            engine.dispose()
        print(translate("registry.init_done", lang, url=engine.url.render_as_string(hide_password=True), revision=revision))
        return 0

    engine = open_registry(settings)
    try:
        return _run_on(command, args, engine, load_region(settings.region_dir, settings.data_dir), lang, settings)
    finally:
        engine.dispose()


def _run_on(command: str, args: argparse.Namespace, engine, region, lang: str, settings: Settings) -> int:  # noqa: ANN001
    if command == "import":
        return _import(args, engine, region, lang, settings)
    if command == "expected":
        from dispatch.registry.export import store_expected

        counts = store_expected(engine, args.file)
        print(translate("registry.expected_done", lang, count=len(counts)))
        return 0
    if command == "export":
        from dispatch.registry.export import export

        count = export(engine, args.out, args.file_format, region.timezone)
        print(translate("registry.export_done", lang, count=count, path=args.out))
        return 0
    if command == "report":
        from dispatch.registry.report import registry_report, write_report

        report_lang = args.lang or lang
        page, year = registry_report(engine, region, args.year, report_lang)
        path = write_report(args.out, page)
        print(translate("registry.report_done", report_lang, year=year, path=path))
        return 0
    return 1


def _import(args: argparse.Namespace, engine, region, lang: str, settings: Settings) -> int:  # noqa: ANN001
    from dispatch.registry.importer import import_csv
    from dispatch.registry.rejections import write_rejections

    # The rejections file is opened first, so a path that cannot be written stops the
    # command before anything is imported.
    rejections = _open_rejections(args.rejections) if args.rejections else None
    try:
        report = import_csv(engine, args.file, region, case_id_pattern=settings.case_id_pattern)
        if rejections is not None:
            write_rejections(report.errors, rejections, lang)
    finally:
        if rejections is not None:
            rejections.close()

    if args.json:
        _print_import_json(report, lang)
    else:
        _print_import_text(report, lang, args.rejections)
    return EXIT_ROWS_REJECTED if report.errors else 0


def _open_rejections(path: Path) -> TextIO:
    from dispatch.registry.store import RegistryInputError

    try:
        return path.open("w", encoding="utf-8", newline="")
    except OSError as err:
        raise RegistryInputError(
            "registry_rejections_unwritable", f"cannot write {path}: {err}", field="rejections", path=str(path), detail=str(err)
        ) from err


def _print_import_json(report, lang: str) -> None:  # noqa: ANN001
    from dispatch.registry.rejections import LISTED_MAX, count_by_error

    print(json.dumps(
        {
            "rows": report.rows,
            "imported": report.imported,
            "rejected_rows": report.rejected_rows,
            "errors": [error.as_json(lang) for error in report.errors[:LISTED_MAX]],
            "errors_total": len(report.errors),
            "errors_by_code": [{"field": field, "code": code, "count": count} for field, code, count in count_by_error(report.errors)],
            "seconds": round(report.seconds, 3),
        },
        ensure_ascii=False,
        indent=2,
    ))


def _print_import_text(report, lang: str, rejections_path: Path | None) -> None:  # noqa: ANN001
    from dispatch.registry.rejections import LISTED_MAX, count_by_error

    print(translate(
        "registry.import_done",
        lang,
        rows_read=translate("registry.rows_read", lang, count=report.rows),
        cases_imported=translate("registry.cases_imported", lang, count=report.imported),
        rows_rejected=translate("registry.rows_rejected", lang, count=len(report.rejected_rows)),
        seconds=_decimal(report.seconds, lang),
    ))
    for error in report.errors[:LISTED_MAX]:
        print(translate("registry.row_error", lang, row=error.row, field=error.field, message=error.text(lang)), file=sys.stderr)

    # Past the cap, the rest is counted by kind of error instead of listed.
    unlisted = len(report.errors) - LISTED_MAX
    if unlisted > 0:
        print(translate("registry.errors_unlisted", lang, count=unlisted), file=sys.stderr)
        print(translate("registry.errors_by_code", lang), file=sys.stderr)
        for field, code, count in count_by_error(report.errors):
            print(translate("registry.errors_by_code_line", lang, field=field, code=code, count=count), file=sys.stderr)
        if rejections_path is None:
            print(translate("registry.errors_full_list_hint", lang), file=sys.stderr)
    if rejections_path is not None:
        print(translate("registry.rejections_written", lang, count=len(report.errors), path=rejections_path), file=sys.stderr)


def _decimal(seconds: float, lang: str) -> str:
    text = f"{seconds:.2f}"
    return text.replace(".", ",") if lang == "fr" else text


def _synth(args: argparse.Namespace, settings: Settings, lang: str) -> int:
    from geodata.errors import InputError
    from geodata.region import load_region
    from dispatch.registry.synth import generate, write_csv, write_expected

    if args.cases < 1:
        raise InputError("registry_cases_invalid", f"--cases {args.cases} must be at least 1", field="cases", value=args.cases)
    if args.last_year < args.first_year:
        raise InputError("registry_years_invalid", f"--last-year {args.last_year} is before --first-year {args.first_year}", field="last-year", first=args.first_year, last=args.last_year)
    region = load_region(settings.region_dir, settings.data_dir)
    rows, expected = generate(region, args.cases, args.seed, args.first_year, args.last_year)
    write_csv(rows, args.out)
    expected_path = args.out.with_name(f"{args.out.stem}-expected.csv")
    write_expected(expected, expected_path)
    print(translate("registry.synth_done", lang, count=len(rows), path=args.out, expected_path=expected_path))
    return 0
