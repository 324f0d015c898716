"""`vward news2` (the bedside calculator), `vward rules test FILE...` (golden tests of rule sets) and
`vward rules preview FILE` (backtest against the published rule set over stored readings).

The lead's `vward.cli.build_parser` calls `register(sub)`; each subcommand sets `func(args) -> int`
(the exit code). `main(argv)` runs these subcommands alone, for tests and `python -m rules.cli`.
Only the pure NEWS2 core loads up front: `rules test` and `rules preview` import theirs (YAML, asyncpg,
pydantic-settings) when run, so the bedside `vward news2` starts in a fraction of a second.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from rules.core.news2 import score_values
from vward.domain.metrics import ACVPU_LEVELS, METRIC_SPECS, Metric
from vward.domain.readings import ReadingValue


def _in_range(metric: Metric, parse: Callable[[str], float]) -> Callable[[str], float]:
    """An argparse type that refuses values no living patient has (the ingest plausibility range)."""
    spec = METRIC_SPECS[metric]

    def convert(text: str) -> float:
        try:
            value = parse(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
        if (spec.low is not None and value < spec.low) or (spec.high is not None and value > spec.high):
            raise argparse.ArgumentTypeError(f"{value} is outside {spec.low}-{spec.high} {spec.unit}")
        return value

    return convert


def _cmd_news2(args: argparse.Namespace) -> int:
    values: dict[str, ReadingValue | None] = {
        Metric.RESPIRATORY_RATE: args.rr,
        Metric.SPO2: args.spo2,
        Metric.ON_OXYGEN: args.oxygen,
        Metric.SYSTOLIC_BP: args.sbp,
        Metric.HEART_RATE: args.pulse,
        Metric.CONSCIOUSNESS: args.acvpu,
        Metric.TEMPERATURE: args.temp,
    }
    print(json.dumps(score_values(values, scale=args.scale).to_json()))
    return 0


def _cmd_rules_test(args: argparse.Namespace) -> int:
    from rules.golden import run_files

    report = run_files([Path(f) for f in args.files])
    print(report.text())
    return 0 if report.passed else 1


def _cmd_rules_preview(args: argparse.Namespace) -> int:
    import asyncio

    from rules.preview import preview_file
    from vward.settings import Settings

    settings = Settings()
    processes = args.processes or settings.rules_preview_processes
    report = asyncio.run(
        preview_file(settings, Path(args.file), days=args.days, patient_ids=args.patients, processes=processes)
    )
    print(json.dumps(report.to_json()))
    return 0


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `news2` and `rules test` to the `vward` command line."""
    news2 = subparsers.add_parser("news2", help="NEWS2 score of one set of observations (JSON)")
    news2.add_argument("--rr", type=_in_range(Metric.RESPIRATORY_RATE, int), help="respiration rate /min")
    news2.add_argument("--spo2", type=_in_range(Metric.SPO2, int), help="oxygen saturation %%")
    news2.add_argument("--scale", type=int, choices=(1, 2), default=1, help="SpO2 scale (2: prescribed 88-92%%)")
    news2.add_argument("--oxygen", action="store_true", help="on supplemental oxygen (default: air)")
    news2.add_argument("--sbp", type=_in_range(Metric.SYSTOLIC_BP, int), help="systolic blood pressure mmHg")
    news2.add_argument("--pulse", type=_in_range(Metric.HEART_RATE, int), help="pulse /min")
    news2.add_argument("--acvpu", choices=ACVPU_LEVELS, help="consciousness: A, or new C, V, P, U")
    news2.add_argument("--temp", type=_in_range(Metric.TEMPERATURE, float), help="temperature °C")
    news2.set_defaults(func=_cmd_news2)

    rules = subparsers.add_parser("rules", help="rule set tools")
    rules_sub = rules.add_subparsers(dest="rules_command", required=True)
    test = rules_sub.add_parser("test", help="golden tests of rule sets (promtool-style YAML); exit 1 on failure")
    test.add_argument("files", nargs="+", metavar="FILE", help="golden test files, e.g. rules/rulesets/*.test.yaml")
    test.set_defaults(func=_cmd_rules_test)
    preview = rules_sub.add_parser(
        "preview", help="backtest a rule set file against the published one over stored readings (JSON)"
    )
    preview.add_argument("file", metavar="FILE", help="candidate rule set (YAML or JSON)")
    preview.add_argument("--days", type=float, default=7, help="how far back to replay (default 7)")
    preview.add_argument("--patients", type=lambda t: [int(i) for i in t.split(",")], help="patient ids: 1,2,3")
    preview.add_argument("--processes", type=int, help="replay in this many processes (default: settings)")
    preview.set_defaults(func=_cmd_rules_preview)


def main(argv: Sequence[str] | None = None) -> int:
    """Run one of these subcommands without the rest of `vward`."""
    parser = argparse.ArgumentParser(prog="vward")
    register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    code: int = args.func(args)
    return code


if __name__ == "__main__":
    sys.exit(main())
