"""Every benchmark in bench/ at a reduced size, as CI's smoke test: each still runs end to end against the
real servers and reports what docs/performance.md quotes. The full sizes are documented there, not run here."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

import pytest

from tests.support.servers import REPO
from tests.support.waiting import budget

pytestmark = [pytest.mark.integration, pytest.mark.slow]

TIMEOUT_S = budget(240)


def run_bench(module: str, *args: str) -> dict[str, Any]:
    """Run `python -m module args` and return the JSON document it prints last."""
    done = subprocess.run(
        [sys.executable, "-m", module, *args], cwd=REPO, capture_output=True, text=True, timeout=TIMEOUT_S
    )
    assert done.returncode == 0, done.stderr[-3000:]
    out = "\n" + done.stdout  # the report starts at the last line that opens with "{"
    report: dict[str, Any] = json.loads(out[out.rindex("\n{") + 1 :])
    return report


def test_ingest_smoke_stores_every_reading_and_reports_cost_and_both_ceilings() -> None:
    report = run_bench("bench.ingest", "--smoke")
    ingest = report["ingest"]
    assert ingest["readings_committed"] == ingest["messages_sent"] * 5 == 40 * 100 * 5
    assert ingest["messages_confirmed"] == ingest["messages_sent"]
    assert 0 < ingest["latency_ms"]["p50"] <= ingest["latency_ms"]["p99"]
    assert set(ingest["cost"]["cpu_s"]) == {"broker", "ingest", "clients", "postgresql"}
    assert ingest["cost"]["cpu_s"]["ingest"] > 0
    assert ingest["cost"]["cpu_s"]["postgresql"] > 0
    assert ingest["cost"]["cores_needed_at_target"] > 0
    for ceiling in ("broker_ceiling", "broker_ceiling_c_clients"):
        assert report[ceiling]["messages"] == 4000
        assert report[ceiling]["messages_per_s"] > 0
        assert report[f"ratio_to_{ceiling}"] > 0


def test_alert_latency_smoke_times_every_trial() -> None:
    report = run_bench("bench.rules_latency", "--trials", "20", "--ward", "20", "--rate", "10")
    assert report["trials"] == 20
    assert 0 < report["p50_ms"] <= report["p99_ms"]
    assert report["background_sets_per_s"] > 0


def test_preview_smoke_compares_both_rule_sets_rule_by_rule() -> None:
    report = run_bench("bench.rules_preview", "--patients", "5", "--days", "1")
    assert report["rows"] > 0
    assert report["preview_s"] > 0
    assert report["report"]["patients"] == 5
    assert report["report"]["readings"] > 0
    per_rule = report["report"]["per_rule"]
    assert per_rule
    assert {"news2"} <= {r["rule_id"] for r in per_rule}
    assert report["report"]["candidate"]["total"] == sum(r["candidate"] for r in per_rule)


def test_rules_throughput_smoke_evaluates_every_patient() -> None:
    report = run_bench("bench.rules_throughput", "--patients", "50", "--rounds", "1")
    assert report["patients"] == 50
    assert len(report["patients_per_s"]) == 1
    assert report["patients_per_s"][0] > 0


def test_cli_startup_smoke_times_news2_beside_the_bare_interpreter() -> None:
    report = run_bench("bench.cli_startup", "--runs", "3")
    assert report["runs"] == 3
    assert report["news2_score"] == 6
    assert 0 < report["python_pass_s"]["median"] < report["news2_s"]["median"]
    assert report["ratio_to_target"] == pytest.approx(report["news2_s"]["median"] / report["target_s"], abs=0.01)


@pytest.mark.browser
def test_dashboard_smoke_times_the_api_and_a_page_load() -> None:
    report = run_bench("bench.dashboard", "--patients", "20", "--requests", "10", "--loads", "1")
    assert report["worklist_api"]["requests"] == 10
    assert report["worklist_api"]["p95_ms"] > 0
    assert report["worklist_page"]["loads"] == 1
    assert report["worklist_page"]["median_ms"] > 0
    assert report["news2_chart_api"]["p95_ms"] > 0
    assert report["record_page"]["chart_median_ms"] > 0


def test_alert_episodes_smoke_reads_the_demos_alerts() -> None:
    report = run_bench("bench.alert_episodes", "--minutes", "0.5", "--patients", "8")
    assert report["patients"] == 8
    assert report["ran_s"] >= 30
    assert "state_changes_per_alert_hour_median" in report
    assert report["stable_patients"] > 0
    if report["alerts"]:  # the demo notifies through the bench's webhook: every alert's first tier arrives
        assert report["first_notifications"] > 0
