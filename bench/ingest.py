"""Ingest benchmark: simulated devices -> real Mosquitto -> one ingest process -> PostgreSQL.

    python -m bench.ingest            # 200 devices x 500 messages x 5 readings = 500,000 readings
    python -m bench.ingest --smoke    # < 60 s, for CI

Starts its own broker (deploy/mosquitto/mosquitto.conf, free loopback port) and throwaway database on the
PostgreSQL at VWARD_TEST_ADMIN_DSN. First measures the broker's ceiling twice, into mosquitto_sub -q 1: from
the same Python publishers (a bare paho pair, as the issue allows) and from C publishers (mosquitto_pub -l,
the broker's own ceiling without Python clients' cost). Then the platform: sustained readings/s committed,
publish-to-confirmation latency (the device's view: publish until the platform's ack after commit, an upper
bound of publish-to-commit), and the ingest process's peak RSS. Every phase reports what it cost
(bench/_support/cpu.py): CPU seconds per part (clients, broker, ingest, PostgreSQL), per 1,000 messages,
and the cores 10,000 messages/s would need at that cost. Prints one JSON document.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import json
import shutil
import signal
import statistics
import subprocess
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
import psutil

from bench._support.cpu import CpuMeter, cost_report
from bench._support.fleet import payload
from bench._support.stack import IngestProcess, fleet_result, prepare_database, start_fleet
from ingest.core.topics import device_topic
from tests.support.servers import Mosquitto, create_database, drop_database

READINGS_PER_MESSAGE = 5
TARGET_MESSAGES_PER_S = 10_000  # issue #3: 50,000 readings/s


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


def devices_per_process(args: argparse.Namespace) -> int:
    return int(args.devices // args.processes)


def messages_in_all(args: argparse.Namespace) -> int:
    """What every phase sends: each publisher process's devices times their messages."""
    return devices_per_process(args) * int(args.processes) * int(args.messages)


def fleets(args: argparse.Namespace, port: int, prefix: str, *, confirm: str) -> list[dict[str, Any]]:
    per = devices_per_process(args)
    procs = [
        start_fleet(port, prefix, f"b{i}-", per, args.messages, window=args.window, confirm=confirm)
        for i in range(args.processes)
    ]
    return [fleet_result(p, timeout=args.deadline) for p in procs]


def broker_ceiling(
    args: argparse.Namespace, broker: Mosquitto, workdir: Path, publish: Callable[[str], object]
) -> dict[str, Any]:
    """Messages/s the broker delivers from `publish(prefix)`'s clients to a C subscriber at QoS 1, timed from
    first to last arrival, and what the phase cost."""
    total = messages_in_all(args)
    prefix = f"ceiling-{uuid.uuid4().hex[:6]}/"
    arrivals = workdir / "ceiling.txt"
    filter_ = f"{prefix}vward/v1/devices/+/readings"
    with arrivals.open("wb") as out:
        sub = subprocess.Popen(
            [_tool("mosquitto_sub"), "-p", str(broker.port), "-q", "1", "-C", str(total), "-F", "%U", "-t", filter_],
            stdout=out,
        )
        time.sleep(0.5)
        assert broker.proc is not None
        meter = CpuMeter({"broker": broker.proc.pid})
        started = time.perf_counter()
        publish(prefix)
        sub.wait(timeout=args.deadline)
        wall = time.perf_counter() - started
        spent = meter.read()
    stamps = arrivals.read_text().split()
    elapsed = float(stamps[-1]) - float(stamps[0])
    return {
        "messages": total,
        "elapsed_s": round(elapsed, 2),
        "messages_per_s": round(total / elapsed),
        "cost": cost_report(spent, total, wall, TARGET_MESSAGES_PER_S),
    }


def c_publishers(args: argparse.Namespace, broker: Mosquitto, workdir: Path) -> Callable[[str], None]:
    """One `mosquitto_pub -l` per publisher process, each sending its share of the same payloads from a file
    at QoS 1 with the fleet's window in flight: the broker's own ceiling, without Python clients' cost."""
    per = messages_in_all(args) // args.processes
    at = datetime.now(UTC)
    files = []
    for i in range(args.processes):
        path = workdir / f"payloads-{i}.txt"
        path.write_bytes(b"".join(payload(f"c{i}-{n:07d}", at, n) + b"\n" for n in range(per)))
        files.append(path)

    def publish(prefix: str) -> None:
        procs = []
        for i, path in enumerate(files):
            topic = device_topic(prefix, f"c{i}", "readings")
            cmd = [_tool("mosquitto_pub"), "-p", str(broker.port), "-q", "1", "-M", str(args.window), "-t", topic]
            with path.open("rb") as lines:
                procs.append(subprocess.Popen([*cmd, "-l"], stdin=lines))
        for proc in procs:
            proc.wait(timeout=args.deadline)

    return publish


def _tool(name: str) -> str:
    return shutil.which(name) or name


def sample_rss(pid: int, stop: threading.Event, peak: list[float]) -> None:
    """Peak RSS (bytes) of the ingest process, until `stop`."""
    proc = psutil.Process(pid)
    while not stop.is_set():
        try:
            peak[0] = max(peak[0], proc.memory_info().rss)
        except psutil.Error:
            return
        stop.wait(0.1)


def platform_run(args: argparse.Namespace, broker: Mosquitto, dsn: str, workdir: Path) -> dict[str, Any]:
    ingest = IngestProcess(
        {
            "VWARD_DATABASE_URL": dsn,
            "VWARD_MQTT_URL": broker.url,
            "VWARD_MQTT_TOPIC_PREFIX": "",
            "VWARD_INGEST_BATCH_ROWS": str(args.batch_rows),
            "VWARD_INGEST_BATCH_MS": str(args.batch_ms),
        },
        Path(args.log) if args.log else workdir / "ingest.log",
    )
    ingest.start()
    assert ingest.proc is not None
    profiler = None
    if args.profile:  # every thread of the ingest process, sampled while active
        profiler = subprocess.Popen(
            [
                "py-spy",
                "record",
                "--pid",
                str(ingest.proc.pid),
                "--rate",
                "200",
                "--format",
                "raw",
                "--output",
                args.profile,
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
    peak = [0.0]
    stop_sampling = threading.Event()
    sampler = threading.Thread(target=sample_rss, args=(ingest.proc.pid, stop_sampling, peak))
    sampler.start()
    assert broker.proc is not None
    meter = CpuMeter({"broker": broker.proc.pid, "ingest": ingest.proc.pid})
    try:
        started = time.perf_counter()
        results = fleets(args, broker.port, "", confirm="platform")
        elapsed = max(float(r["elapsed_s"]) for r in results)
        wall = time.perf_counter() - started
        spent = meter.read()  # before ingest stops: its database connection goes with it
    finally:
        stop_sampling.set()
        sampler.join()
        if profiler is not None:
            profiler.send_signal(signal.SIGINT)
            profiler.wait(30)
        ingest.stop()
    rows = asyncio.run(_count_rows(dsn))
    latencies = [x for r in results for x in r["latencies_ms"]]
    sent = sum(int(r["sent"]) for r in results)
    return {
        "messages_sent": sent,
        "messages_confirmed": sum(int(r["confirmed"]) for r in results),
        "resent": sum(int(r["resent"]) for r in results),
        "readings_committed": rows,
        "elapsed_s": round(elapsed, 2),
        "wall_s": round(wall, 2),
        "readings_per_s": round(rows / elapsed),
        "messages_per_s": round(rows / READINGS_PER_MESSAGE / elapsed),
        "latency_ms": {
            "p50": round(percentile(latencies, 0.50), 1),
            "p95": round(percentile(latencies, 0.95), 1),
            "p99": round(percentile(latencies, 0.99), 1),
            "max": round(max(latencies, default=0), 1),
            "mean": round(statistics.fmean(latencies), 1) if latencies else None,
        },
        "ingest_peak_rss_mb": round(peak[0] / 2**20, 1),
        "cost": cost_report(spent, sent, wall, TARGET_MESSAGES_PER_S),
    }


async def _count_rows(dsn: str) -> int:
    conn = await asyncpg.connect(dsn)
    try:
        return int(await conn.fetchval("SELECT count(*) FROM readings"))
    finally:
        await conn.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--smoke", action="store_true", help="reduced size for CI (< 60 s)")
    parser.add_argument("--devices", type=int, default=200)
    parser.add_argument("--messages", type=int, default=500, help="messages per device")
    parser.add_argument("--processes", type=int, default=2, help="publisher processes")
    parser.add_argument("--window", type=int, default=1000, help="unconfirmed messages per publisher process")
    parser.add_argument("--batch-rows", type=int, default=5000)
    parser.add_argument("--batch-ms", type=int, default=50)
    parser.add_argument("--deadline", type=float, default=900.0)
    parser.add_argument("--profile", help="write a py-spy profile (collapsed stacks) of the ingest process here")
    parser.add_argument("--skip-ceiling", action="store_true")
    parser.add_argument("--log", help="keep the ingest process's log here (VWARD_LOG_LEVEL=DEBUG logs each batch)")
    args = parser.parse_args()
    if args.smoke:
        args.devices, args.messages, args.deadline = 40, 100, 50.0
    with tempfile.TemporaryDirectory(prefix="vward-bench-") as tmp:
        workdir = Path(tmp)
        broker = Mosquitto(workdir=workdir / "mosquitto")
        broker.start()
        name, dsn = asyncio.run(create_database())
        try:
            prefixes = [f"b{i}-" for i in range(args.processes)]
            asyncio.run(prepare_database(dsn, prefixes, devices_per_process(args)))
            report: dict[str, Any] = {"config": {k: v for k, v in vars(args).items() if k != "profile"}}
            if not args.skip_ceiling:
                python_clients = functools.partial(fleets, args, broker.port, confirm="puback")
                report["broker_ceiling"] = broker_ceiling(args, broker, workdir, python_clients)
                report["broker_ceiling_c_clients"] = broker_ceiling(
                    args, broker, workdir, c_publishers(args, broker, workdir)
                )
            report["ingest"] = platform_run(args, broker, dsn, workdir)
            for ceiling in ("broker_ceiling", "broker_ceiling_c_clients"):
                if ceiling in report:
                    report[f"ratio_to_{ceiling}"] = round(
                        report["ingest"]["messages_per_s"] / report[ceiling]["messages_per_s"], 2
                    )
            print(json.dumps(report, indent=2))
            expected = messages_in_all(args) * READINGS_PER_MESSAGE
            if report["ingest"]["readings_committed"] != expected:
                raise SystemExit(f"committed {report['ingest']['readings_committed']} readings, expected {expected}")
        finally:
            broker.stop()
            asyncio.run(drop_database(name))


if __name__ == "__main__":
    main()
