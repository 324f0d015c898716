"""`vward sim` (a simulated ward against any broker) and `vward evaluate` (the clinical evaluation).

Each imports its simulator, broker client and rules when it runs, not when `vward` builds its parser,
so other subcommands (the bedside `vward news2`) start without them.
"""

from __future__ import annotations

import argparse
import contextlib
import signal
import sys
from dataclasses import fields
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from device_sims.core.faults import FaultRates

if TYPE_CHECKING:
    import asyncio

    from device_sims.publisher import SimStats, SimulatedWard

PROGRESS_EVERY_S = 1.0


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `vward sim` and `vward evaluate` to the CLI."""
    sim = subparsers.add_parser("sim", help="simulated patients and devices publishing to an MQTT broker")
    sim.add_argument("--patients", type=int, default=40, help="simulated patients, six devices each (default 40)")
    sim.add_argument("--seed", type=int, default=1, help="the same seed gives the same ward and readings")
    sim.add_argument(
        "--speed",
        type=float,
        default=1.0,
        help="simulated seconds per real second (1440: a day/min); above 1 the devices' clocks run ahead of a live"
        " platform, which corrects their times once they are 30 s ahead",
    )
    sim.add_argument("--scenario-mix", default="", help="e.g. stable=0.6,sepsis=0.2,device_failure=0.2")
    sim.add_argument("--mqtt-url", default=None, help="mqtt://host:port (default VWARD_MQTT_URL)")
    sim.add_argument("--topic-prefix", default=None, help="topic prefix (default VWARD_MQTT_TOPIC_PREFIX)")
    sim.add_argument("--duration", type=float, default=None, help="stop after SECONDS of real time")
    sim.add_argument("--start", type=datetime.fromisoformat, default=None, help="simulated start (default now)")
    sim.add_argument("--resend-after", type=float, default=30.0, help="seconds before an unconfirmed resend")
    sim.add_argument(
        "--confirm",
        choices=["platform", "broker"],
        default="platform",
        help="what confirms a message: the platform's ack topic (default) or the broker's PUBACK (no platform)",
    )
    for f in fields(FaultRates):
        flag = f.name.replace("_", "-")
        sim.add_argument(f"--fault-{flag}", type=float, default=0.0, dest=f"fault_{f.name}", help=_FAULT_HELP[f.name])
    sim.set_defaults(func=run_sim)

    ev = subparsers.add_parser("evaluate", help="replay a simulated ward through a rule set; write the report")
    ev.add_argument("--patients", type=int, default=60, help="simulated patients (default 60; CI runs fewer)")
    ev.add_argument("--seed", type=int, default=1)
    ev.add_argument("--days", type=float, default=0.25, help="days each stable patient is followed (default 0.25)")
    ev.add_argument("--patch-every", type=float, default=5.0, help="seconds between a patch's samples (default 5)")
    ev.add_argument(
        "--no-before", action="store_true", help="skip the comparison with the rule set run per sample (faster)"
    )
    ev.add_argument("--ruleset", type=Path, default=None, help="rule set YAML (default: the shipped default)")
    ev.add_argument("--output", type=Path, default=Path("docs/evaluation.md"), help="markdown report path")
    ev.set_defaults(func=run_evaluate)


_FAULT_HELP = {
    "offline": "chance per device-hour of an outage (10-120 min) ending in a store-and-forward burst",
    "battery_drain": "fraction of devices whose battery runs flat before the daily charge",
    "duplicates": "chance a message is sent twice",
    "out_of_order": "chance a message is overtaken by the next",
    "late": "chance a message arrives 5-30 min late",
    "clock_skew": "fraction of devices whose clock is 2-15 min off",
    "malformed": "chance a transmission is damaged in transit (the resend is intact)",
}


def run_sim(args: argparse.Namespace) -> int:
    import asyncio

    from device_sims.publisher import SimulatedWard
    from device_sims.ward import ScenarioMix, plan_ward
    from vward.settings import Settings

    settings = Settings()
    url = args.mqtt_url or settings.mqtt_url
    if not url:
        print("vward sim needs --mqtt-url or VWARD_MQTT_URL", file=sys.stderr)
        return 2
    try:
        mix = ScenarioMix.parse(args.scenario_mix) if args.scenario_mix else None
        faults = FaultRates(**{f.name: getattr(args, f"fault_{f.name}") for f in fields(FaultRates)})
    except ValueError as exc:
        print(f"vward sim: {exc}", file=sys.stderr)
        return 2
    start = args.start or datetime.now(UTC)
    if start.tzinfo is None:
        start = start.replace(tzinfo=UTC)
    plan = plan_ward(args.patients, args.seed, mix, start=start)
    prefix = settings.mqtt_topic_prefix if args.topic_prefix is None else args.topic_prefix
    ward = SimulatedWard(
        plan, url, prefix, args.speed, faults, args.seed, resend_after_s=args.resend_after, confirm=args.confirm
    )
    try:
        asyncio.run(_drive(ward, args.duration))
    except ConnectionError as exc:
        print(f"vward sim: {exc}", file=sys.stderr)
        return 2
    print(_progress_line(ward.stats), file=sys.stderr)
    return 0


def run_evaluate(args: argparse.Namespace) -> int:
    """Exit 0 when the default targets are met, 1 when not (CI runs this at reduced size)."""
    from datetime import timedelta

    from device_sims.evaluation import EvaluationConfig, per_sample, run_evaluation, targets
    from device_sims.report import render
    from rules.core.ruleset import RuleSetError, default_ruleset, load_ruleset

    try:
        ruleset = load_ruleset(args.ruleset) if args.ruleset else default_ruleset()
    except (RuleSetError, OSError) as exc:
        print(f"vward evaluate: {exc}", file=sys.stderr)
        return 2
    config = EvaluationConfig(
        patients=args.patients, seed=args.seed, stable_days=args.days, patch_every=timedelta(seconds=args.patch_every)
    )
    result = run_evaluation(config, ruleset)
    before = None if args.no_before else run_evaluation(config, per_sample(ruleset))
    command = f"vward evaluate --patients {args.patients} --seed {args.seed} --days {args.days:g}"
    command += f" --patch-every {args.patch_every:g}" + (" --no-before" if args.no_before else "")
    if args.ruleset:
        command += f" --ruleset {args.ruleset}"
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(render(result, command, before), encoding="utf-8")
    met = targets(result)
    for t in met:
        print(f"{'met' if t.met else 'NOT MET'}: {t.name}: {t.measured}")
    print(f"report: {args.output}")
    return 0 if all(t.met for t in met) else 1


async def _drive(ward: SimulatedWard, duration: float | None) -> None:
    import asyncio

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    if duration is not None:
        loop.call_later(duration, stop.set)
    progress = asyncio.create_task(_show_progress(ward, stop, sys.stderr))
    try:
        await ward.run(stop)
    finally:
        stop.set()
        progress.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await progress


async def _show_progress(ward: SimulatedWard, stop: asyncio.Event, out: TextIO) -> None:
    """One updating line on a terminal; a line every ten updates when piped to a log."""
    import asyncio

    tick = 0
    while not stop.is_set():
        await asyncio.sleep(PROGRESS_EVERY_S)
        tick += 1
        if out.isatty():
            print("\r" + _progress_line(ward.stats), end="", file=out, flush=True)
        elif tick % 10 == 0:
            print(_progress_line(ward.stats), file=out, flush=True)


def _progress_line(s: SimStats) -> str:
    return (
        f"sim {s.sim_time:%Y-%m-%d %H:%M:%S}  sent {s.sent}  confirmed {s.confirmed}  pending {s.pending}  "
        f"resent {s.resent}  duplicates {s.duplicates}  dropped {s.dropped}  lag {s.lag_s:.2f}s"
    )
