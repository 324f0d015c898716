"""Benchmark: one process drives ~10,000 simulated devices at their real cadence against Mosquitto.

Reports scheduled vs achieved publishes, scheduling lag, CPU and RSS of this process, and what the broker
counted as received. Without --mqtt-url it starts a private Mosquitto on a free loopback port.

    python bench/sims.py --devices 10000 --seconds 60
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import paho.mqtt.client as mqtt
import psutil
from paho.mqtt.enums import CallbackAPIVersion

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from device_sims.publisher import SimulatedWard
from device_sims.ward import WardPlan, build_emitters, plan_ward
from tests.support.servers import Mosquitto
from vward.domain.patients import DeviceKind

SAMPLE_S = 0.2


def scheduled(plan: WardPlan, until: datetime) -> int:
    """Messages a lag-free simulator would have sent by simulated time `until`."""
    end = until.timestamp()
    total = 0
    for e in build_emitters(plan, seed=1):
        while e.next_due.timestamp() <= end:
            total += e.step(e.next_due) is not None
    return total


def broker_received(url: str) -> int | None:
    """The broker's own count of PUBLISH packets received ($SYS), or None when it does not say.

    The retained value can be up to 10 s old, so wait for the next refresh after the run."""
    host, port = url.removeprefix("mqtt://").split(":")
    got: list[int] = []
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="bench-sys")
    client.on_connect = lambda c, *_: c.subscribe("$SYS/broker/publish/messages/received")
    client.on_message = lambda _c, _u, m: got.append(int(m.payload))
    client.connect(host, int(port))
    client.loop_start()
    deadline = time.monotonic() + 12  # Mosquitto refreshes $SYS every 10 s by default
    while len(got) < 2 and time.monotonic() < deadline:
        time.sleep(0.1)
    client.disconnect()
    client.loop_stop()
    return got[-1] if got else None


async def drive(ward: SimulatedWard, seconds: float) -> tuple[datetime, dict[str, float]]:
    proc = psutil.Process()
    stop = asyncio.Event()
    stopped: list[datetime] = []

    def stop_now() -> None:
        stopped.append(ward.sim_time())
        stop.set()

    asyncio.get_running_loop().call_later(seconds, stop_now)
    run = asyncio.create_task(ward.run(stop))
    lags: list[float] = []
    rss: list[int] = []
    cpu0, wall0 = proc.cpu_times(), time.monotonic()
    while not stop.is_set():
        await asyncio.sleep(SAMPLE_S)
        lags.append(ward.stats.lag_s)
        rss.append(proc.memory_info().rss)
    cpu1, wall1 = proc.cpu_times(), time.monotonic()
    await run
    busy = (cpu1.user - cpu0.user) + (cpu1.system - cpu0.system)
    lags.sort()
    return stopped[0], {
        "cpu_percent_of_one_core": round(100 * busy / (wall1 - wall0), 1),
        "rss_mb_max": round(max(rss) / 2**20, 1),
        "lag_s_p50": round(statistics.median(lags), 3),
        "lag_s_p99": round(lags[min(len(lags) - 1, int(0.99 * len(lags)))], 3),
        "lag_s_max": round(lags[-1], 3),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--devices", type=int, default=10_000)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--speed", type=float, default=1.0, help="above 1: find where the process saturates")
    parser.add_argument("--mqtt-url", default=None, help="an existing broker (default: a private Mosquitto)")
    args = parser.parse_args()

    patients = math.ceil(args.devices / len(DeviceKind))
    plan = plan_ward(patients, seed=1, start=datetime.now(UTC))
    broker = None
    url = args.mqtt_url
    if url is None:
        workdir = Path(tempfile.mkdtemp(prefix="bench-sims-"))
        workdir.chmod(0o777)  # a root-started mosquitto drops to its own user and must write here
        broker = Mosquitto(workdir=workdir)
        broker.start()
        url = broker.url
    try:
        # Nothing acks in this bench, so resends are pushed past its end: it measures first sends only.
        ward = SimulatedWard(plan, url, "bench/", args.speed, seed=1, resend_after_s=args.seconds + 60)
        stopped_at, measured = asyncio.run(drive(ward, args.seconds))
        received = broker_received(url)
    finally:
        if broker is not None:
            broker.stop()
    stats = ward.stats
    expected = scheduled(plan, stopped_at)
    result = {
        "devices": len(plan.devices),
        "patients": patients,
        "seconds": args.seconds,
        "speed": args.speed,
        "scheduled_publishes": expected,
        "sent": stats.sent,
        "achieved_vs_scheduled": round(stats.sent / expected, 4) if expected else None,
        "rate_per_s_achieved": round(stats.sent / args.seconds, 1),
        "broker_sys_publish_received": received,
        **measured,
    }
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
