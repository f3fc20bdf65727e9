"""``resurcor simulate SCENARIO.yaml [--compare OTHER.yaml] --out DIR``: a planner's scenario run."""

from __future__ import annotations

import argparse
import sys
import time
from contextlib import nullcontext
from pathlib import Path

from dispatch.i18n import LANGUAGES, error_text, translate
from dispatch.settings import Settings
from dispatch.planning.scenario import ScenarioError

# The exit status of a command line or scenario file error, as for the other commands.
EXIT_USAGE = 2

COMMANDS = frozenset({"simulate"})


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise ValueError(text)
    return value


def add_parser(kit) -> None:
    simulate = kit.add("simulate")
    simulate.add_argument("scenario", type=Path, help=kit.help("simulate_scenario"))
    simulate.add_argument("--compare", type=Path, metavar="OTHER.yaml", help=kit.help("simulate_compare"))
    simulate.add_argument("--out", type=Path, required=True, metavar="DIR", help=kit.help("simulate_out"))
    simulate.add_argument("--calls", type=_positive, metavar="N", help=kit.help("simulate_calls"))
    simulate.add_argument("--workers", type=_positive, metavar="N", help=kit.help("simulate_workers"))
    simulate.add_argument("--dask", metavar="SCHEDULER_ADDRESS", help=kit.help("simulate_dask"))
    simulate.add_argument("--quiet", action="store_true", help=kit.help("simulate_quiet"))
    simulate.add_argument("--lang", choices=LANGUAGES, help=kit.help("lang"))


def run(args: argparse.Namespace, settings: Settings, lang: str) -> int:
    """Run the scenario (and the comparison), write the files and print the coverage table."""
    try:
        return _simulate(args, settings, lang)
    except ScenarioError as err:
        # A scenario key is a path in a file, not a command-line option: no "--" prefix.
        print(f"resurcor: {error_text(err, lang)}", file=sys.stderr)
        return EXIT_USAGE


def _simulate(args: argparse.Namespace, settings: Settings, lang: str) -> int:
    from tqdm import tqdm

    from dispatch.service import load_context
    from dispatch.planning.outputs import coverage_table_markdown, write_outputs
    from dispatch.planning.prepare import prepare
    from dispatch.planning.run import compare_runs, dask_client, run_scenario
    from dispatch.planning.scenario import load_scenario

    # Both files are read before the service loads, so a typing error fails at once, and
    # both are checked against the region before any run starts.
    model = load_scenario(args.scenario)
    other_model = load_scenario(args.compare) if args.compare else None
    started = time.perf_counter()
    context = load_context(settings, warm=False)
    model = prepare(context, model)
    other_model = prepare(context, other_model) if other_model else None
    client_context = dask_client(args.dask, args.workers) if args.dask else nullcontext(None)
    with client_context as client:
        runs = []
        for scenario in (model, other_model):
            if scenario is None:
                continue
            total = args.calls or scenario.model.calls.count
            label = f"{scenario.model.name}: {translate('label.simulate_progress', lang)}"
            with tqdm(total=total, desc=label, unit=" calls", disable=args.quiet, file=sys.stderr) as bar:
                runs.append(run_scenario(context, scenario, calls=args.calls, workers=args.workers, client=client, progress=bar.update))
    base = runs[0]
    other = runs[1] if len(runs) > 1 else None
    compare = compare_runs(base, other) if other is not None else None
    write_outputs(base, args.out, lang, other, compare)

    print(f"{base.model.title_in(lang)}")
    print(coverage_table_markdown(base.coverage.summary, lang))
    if other is not None:
        print()
        print(f"{other.model.title_in(lang)}")
        print(coverage_table_markdown(other.coverage.summary, lang))
    calls = sum(len(r.draws) for r in runs)
    print(translate("label.simulate_done", lang, calls=calls, seconds=f"{time.perf_counter() - started:.1f}", out=args.out), file=sys.stderr)
    return 0
