"""Alert noise on the demo's own ward: how often alerts change state, and how many a stable ward raises.

    python -m bench.alert_episodes [--minutes 30] [--patients 40]

Starts `vward demo` (embedded servers, its simulated ward: wearables every 5 s, deteriorations and device
faults) on a loopback port and a data directory of its own, lets it run for `--minutes`, then reads every
alert and its event trail through the API as the demo's admin, and prints one JSON line:
- alerts opened, by rule family;
- state changes per open alert per hour (every event after "opened": cleared, returned, worsened, muted,
  unmuted, reopened ...): median and worst over all alerts, the median over alerts open 15 minutes or more
  (the issue's target: at most 2 per hour), and the ward's total changes per total alert-hour;
- wavers (a condition back within its episode: counted on the alert, not an event);
- notifications, as a webhook on loopback received them (the demo is started with one): the most first
  notifications any alert sent to one tier, and to one tier at one severity (the target: 1, "at most one
  per tier per episode"; a worsening tells the tier again at its new severity), reminders of unacknowledged
  alerts (the policy's renotify, by design) apart;
- alerts on the ward's stable patients (ground truth from the simulator's plan for the same seed),
  clinical and device ones apart.
The demo is stopped by its pid at the end, also on error.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from device_sims.core.scenarios import ScenarioKind
from device_sims.ward import plan_ward
from tests.support.platform import VwardProcess, signed_in
from tests.support.servers import free_port

PASSWORD = "bench-alert-episodes"
SEED = 1  # the demo's default
DEVICE_RULES = ("device_offline", "battery_low", "clock_skew")
# Alerts open at least this long: an alert that opens and resolves within a minute has 60 changes an hour
# by arithmetic, and says nothing about flapping (the start-up's incomplete sets do exactly that).
LASTING_HOURS = 0.25


def _alerts(client: Any) -> list[dict[str, Any]]:
    alerts, page = [], 1
    while True:
        answer = client.get("/api/v1/alerts", params={"page": page, "page_size": 200}).json()
        alerts += answer["items"]
        if page * 200 >= answer["total"]:
            return alerts
        page += 1


@contextmanager
def webhook() -> Iterator[tuple[str, list[dict[str, Any]]]]:
    """A notification receiver on loopback: its URL and the payloads it got (answered 204)."""
    received: list[dict[str, Any]] = []

    class Hook(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *_: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Hook)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/hook", received
    finally:
        server.shutdown()
        server.server_close()


def notifications(received: list[dict[str, Any]]) -> dict[str, Any]:
    """A worsening tells the tier told last again, at the new severity (new news, by design): the target,
    one notification per tier per episode, is counted per severity the alert reached."""
    firsts = Counter((n["alert_id"], n["tier"]) for n in received if not n["renotify"])
    per_severity = Counter((n["alert_id"], n["tier"], n["severity"]) for n in received if not n["renotify"])
    return {
        "notifications": len(received),
        "first_notifications": sum(firsts.values()),
        "most_first_notifications_per_alert_tier": max(firsts.values(), default=0),
        "most_first_notifications_per_alert_tier_severity": max(per_severity.values(), default=0),
        "reminders": sum(1 for n in received if n["renotify"]),
        "notification_events": dict(Counter(n["event"] for n in received)),
    }


def on_stable_patients(alerts: list[dict[str, Any]], patients: int) -> dict[str, Any]:
    scenario = {p.mrn: p.scenario.kind for p in plan_ward(patients, SEED, start=datetime.now(UTC)).patients}
    stable = [a for a in alerts if scenario.get(a["patient"]["mrn"]) is ScenarioKind.STABLE]
    device = [a for a in stable if a["rule_id"].split(":")[0] in DEVICE_RULES]
    return {
        "stable_patients": sum(1 for k in scenario.values() if k is ScenarioKind.STABLE),
        "clinical_alerts_on_stable_patients": len(stable) - len(device),
        "clinical_alerts_on_stable_patients_by_rule": dict(
            Counter(a["rule_id"] for a in stable if a["rule_id"].split(":")[0] not in DEVICE_RULES)
        ),
        "device_alerts_on_stable_patients": len(device),
    }


def measure(client: Any, alerts: list[dict[str, Any]], now: datetime) -> dict[str, Any]:
    changes_per_hour, families, wavers = [], Counter(), 0
    total_changes, total_hours, lasting = 0, 0.0, []
    for alert in alerts:
        detail = client.get(f"/api/v1/alerts/{alert['id']}").json()
        families[alert["rule_id"].split(":")[0]] += 1
        wavers += alert["wavers"]
        opened = datetime.fromisoformat(alert["opened_at"])
        ended = datetime.fromisoformat(alert["resolved_at"]) if alert["resolved_at"] else now
        hours = max((ended - opened).total_seconds() / 3600, 1 / 60)
        changes = sum(1 for e in detail["events"] if e["kind"] not in ("opened", "note"))
        changes_per_hour.append(changes / hours)
        total_changes, total_hours = total_changes + changes, total_hours + hours
        if hours >= LASTING_HOURS:
            lasting.append(changes / hours)
    return {
        "alerts": len(alerts),
        "by_rule": dict(families),
        "state_changes_per_alert_hour_median": round(statistics.median(changes_per_hour), 2) if alerts else 0,
        "state_changes_per_alert_hour_max": round(max(changes_per_hour), 2) if alerts else 0,
        "lasting_alerts": len(lasting),
        "state_changes_per_lasting_alert_hour_median": round(statistics.median(lasting), 2) if lasting else 0,
        "state_changes_per_alert_hour_ward": round(total_changes / total_hours, 2) if alerts else 0,
        "wavers": wavers,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, default=30)
    parser.add_argument("--patients", type=int, default=40)
    args = parser.parse_args()
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="vward-bench-episodes-") as tmp, webhook() as (hook_url, received):
        demo = VwardProcess(
            ["demo", "--port", str(port), "--patients", str(args.patients), "--data-dir", str(Path(tmp) / "ward")],
            {"VWARD_DEMO_PASSWORD": PASSWORD, "VWARD_NOTIFY_WEBHOOK_URL": hook_url},
            Path(tmp) / "demo.log",
        )
        demo.start()
        try:
            base = f"http://127.0.0.1:{port}"
            demo.wait_http(f"{base}/healthz", timeout=120)
            started = time.monotonic()
            time.sleep(args.minutes * 60)
            client = signed_in(base, "admin", PASSWORD)
            alerts = [a for a in _alerts(client) if a["patient_id"] is not None]
            result = {
                "minutes": args.minutes,
                "patients": args.patients,
                "load_average_1min": round(os.getloadavg()[0], 1),
                "ran_s": round(time.monotonic() - started),
                **measure(client, alerts, datetime.now(UTC)),
                **notifications(list(received)),
                **on_stable_patients(alerts, args.patients),
            }
        finally:
            demo.stop()
    print(json.dumps(result))


if __name__ == "__main__":
    main()
