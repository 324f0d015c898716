"""`vward demo` on embedded servers: a simulated ward with live NEWS2 within 30 s, and a clean stop."""

from __future__ import annotations

import time
from pathlib import Path

import psutil
import pytest

from tests.support.platform import VwardProcess, signed_in
from tests.support.servers import discard_embedded_postgres, free_port
from tests.support.waiting import budget
from vward.embedded import postgres_data_dir

pytestmark = pytest.mark.e2e

PASSWORD = "demo-password-for-tests"


def _children_using(*dirs: Path) -> list[psutil.Process]:
    """Processes whose command line names one of the demo's data directories (its postgres and mosquitto)."""
    found = []
    for proc in psutil.process_iter(["cmdline"]):
        cmdline = " ".join(proc.info["cmdline"] or [])
        if any(str(d) in cmdline for d in dirs) and "pytest" not in cmdline:
            found.append(proc)
    return found


@pytest.mark.parametrize("broker", ["auto", "amqtt"])
def test_demo_shows_a_scored_ward_and_stops_cleanly(tmp_path: Path, broker: str) -> None:
    port = free_port()
    data_dir = tmp_path / "ward"
    demo = VwardProcess(
        ["demo", "--port", str(port), "--patients", "24", "--data-dir", str(data_dir), "--broker", broker],
        {"VWARD_DEMO_PASSWORD": PASSWORD},
        tmp_path / "demo.log",
    )
    started = time.monotonic()
    demo.start()
    try:
        base = f"http://127.0.0.1:{port}"
        demo.wait_http(f"{base}/healthz", timeout=60)
        client = signed_in(base, "clinician", PASSWORD)
        deadline = started + budget(30)  # the issue: live NEWS2 for >= 20 patients within 30 s of start
        scored: list[dict[str, object]] = []
        while time.monotonic() < deadline:
            patients = client.get("/api/v1/patients").json()
            scored = [p for p in patients if p["news2_score"] is not None]
            if len(scored) >= 20:
                break
            time.sleep(1)
        elapsed = time.monotonic() - started
        assert len(scored) >= 20, f"only {len(scored)} scored patients after {elapsed:.0f} s"
        bands = {p["news2_band"] for p in scored}
        assert len(bands) >= 2, f"a ward of one band is not a mix of conditions: {bands}"
        output = demo.output()
        assert f"http://127.0.0.1:{port}/dash/" in output
        assert "clinician, ops, admin" in output
        assert broker == "auto" or f"({broker})" in output
        dash = client.get("/dash/")
        assert dash.status_code == 200
    finally:
        code = demo.stop()
    assert code == 0, demo.output()[-3000:]
    assert _children_using(data_dir, postgres_data_dir(data_dir)) == []
    discard_embedded_postgres(data_dir)
