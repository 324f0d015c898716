"""Preview: a candidate rule set replayed beside the published one over stored readings, by API and CLI."""

from __future__ import annotations

import asyncio
import json
import os
import sys
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
import pytest
import yaml

from rules.core.replay import micros
from rules.core.ruleset import DEFAULT_RULESET_PATH, default_ruleset, parse_ruleset
from rules.preview import preview, replay_readings
from tests.integration.rules.api import rules_api
from tests.integration.rules.helpers import NEWS2_ZERO, admitted_patient, record_readings
from tests.support.waiting import finishes
from vward.domain.alerts import Role
from vward.domain.metrics import Metric
from vward.settings import Settings
from vward.storage.evaluation import readings_for_replay

pytestmark = pytest.mark.integration


def _stricter_spo2() -> str:
    """The default rule set, but SpO2 alerts at 92% or below after 5 minutes (the default: 91%, 10)."""
    document = yaml.safe_load(DEFAULT_RULESET_PATH.read_text())
    spo2 = next(t for t in document["thresholds"] if t["metric"] == "spo2")
    spo2["low"][0]["at_or_below"] = 92
    spo2["hold_minutes"] = 5
    return yaml.safe_dump(document)


async def _half_hour_at_92(pool: asyncpg.Pool, ward: str) -> int:
    """Two hours of readings every 5 minutes, SpO2 92% (NEWS2 2, no alert) for 30 minutes in the middle."""
    start = datetime.now(UTC) - timedelta(hours=2)
    patient_id, device_id = await admitted_patient(pool, start - timedelta(hours=1), ward=ward)
    for step in range(24):
        spo2 = 92 if 6 <= step < 12 else 97
        await record_readings(
            pool,
            patient_id,
            device_id,
            NEWS2_ZERO | {Metric.SPO2: spo2},
            start + timedelta(minutes=5 * step),
            notify=False,
        )
    return patient_id


async def test_preview_api_counts_the_candidates_extra_alerts_beside_the_published(
    settings: Settings, db_pool: asyncpg.Pool
) -> None:
    ward = f"PreviewWard-{uuid.uuid4().hex[:6]}"
    await _half_hour_at_92(db_pool, ward)
    async with rules_api(settings, db_pool, Role.CLINICIAN, (ward,)) as api:
        yaml_body = {"Content-Type": "application/yaml"}
        draft = await api.post("/api/v1/rulesets", content=_stricter_spo2(), headers=yaml_body)
        response = await api.post(f"/api/v1/rulesets/{draft.json()['id']}/preview", json={"days": 1, "nurses": 3})
    assert response.status_code == 200, response.text
    report = response.json()
    # what the extra alert costs: its notices, the hours it stays open (until cleared and closed), per nurse
    candidate, published = report["candidate"], report["published"]
    assert candidate["notifications"] > published["notifications"]
    assert candidate["open_alert_hours"] > published["open_alert_hours"]
    assert candidate["open_per_nurse"] == pytest.approx(candidate["open_alert_hours"] / (3 * 24), abs=1e-3)
    assert report["staff"]["nurses"] == 3
    assert set(report["staff"]["close_minutes"]) == {"high", "medium", "low", "info"}
    assert report["patients"] == 1
    assert report["readings"] == 24 * 7
    per_rule = {r["rule_id"]: (r["candidate"], r["published"]) for r in report["per_rule"]}
    assert per_rule["threshold:spo2:low"] == (1, 0)
    assert report["candidate"]["total"] == report["published"]["total"] + 1
    assert sum(report["candidate"]["per_shift"].values()) == report["candidate"]["total"]
    audit = await db_pool.fetchval(
        "SELECT count(*) FROM audit_log WHERE action = 'ruleset.preview' AND object_id = $1", str(draft.json()["id"])
    )
    assert audit == 1


async def test_preview_replays_the_unsaved_text_and_refuses_a_broken_one(
    settings: Settings, db_pool: asyncpg.Pool
) -> None:
    ward = f"PreviewWard-{uuid.uuid4().hex[:6]}"
    await _half_hour_at_92(db_pool, ward)
    async with rules_api(settings, db_pool, Role.CLINICIAN, (ward,)) as api:
        yaml_body = {"Content-Type": "application/yaml"}
        saved = (await api.post("/api/v1/rulesets", content=DEFAULT_RULESET_PATH.read_text(), headers=yaml_body)).json()
        as_saved = await api.post(f"/api/v1/rulesets/{saved['id']}/preview", json={"days": 1})
        unsaved = await api.post(f"/api/v1/rulesets/{saved['id']}/preview", json={"days": 1, "draft": _stricter_spo2()})
        broken = _stricter_spo2().replace("hold_minutes: 5", "hold_minutes: soon")
        refused = await api.post(f"/api/v1/rulesets/{saved['id']}/preview", json={"days": 1, "draft": broken})
        renamed = await api.post(
            f"/api/v1/rulesets/{saved['id']}/preview",
            json={"draft": _stricter_spo2().replace("name: default", "name: x")},
        )
    spo2_low = [
        {r["rule_id"]: (r["candidate"], r["published"]) for r in answer.json()["per_rule"]}.get("threshold:spo2:low")
        for answer in (as_saved, unsaved)
    ]
    assert spo2_low == [None, (1, 0)]  # the stored draft is the default; only the unsaved text is stricter
    assert unsaved.json()["candidate"]["rule_set"] == f"default@{saved['version']} (unsaved)"
    assert refused.status_code == 422
    line = next(n for n, text in enumerate(broken.splitlines(), 1) if "hold_minutes: soon" in text)
    assert f"line {line}: thresholds." in refused.json()["detail"]
    assert renamed.status_code == 422
    assert "belongs to rule set 'default'" in renamed.json()["detail"]
    audit = await db_pool.fetch(
        "SELECT detail FROM audit_log WHERE action = 'ruleset.preview' AND object_id = $1", str(saved["id"])
    )
    assert sorted(a["detail"]["unsaved"] for a in audit) == [False, True]


async def test_rules_preview_cli_prints_the_report(database_url: str, db_pool: asyncpg.Pool, tmp_path: Path) -> None:
    patient_id = await _half_hour_at_92(db_pool, f"PreviewWard-{uuid.uuid4().hex[:6]}")
    candidate = tmp_path / "stricter.yaml"
    candidate.write_text(_stricter_spo2())
    env = {k: v for k, v in os.environ.items() if not k.startswith("VWARD_")} | {"VWARD_DATABASE_URL": database_url}
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "rules.cli",
        "rules",
        "preview",
        str(candidate),
        "--days",
        "1",
        "--patients",
        str(patient_id),
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await finishes(process.communicate(), within=180, what="vward rules backtest")
    assert process.returncode == 0, err.decode()
    report = json.loads(out)
    assert report["patients"] == 1
    assert report["candidate"]["rule_set"] == "stricter.yaml (default)"
    assert {r["rule_id"]: r["candidate"] - r["published"] for r in report["per_rule"]}["threshold:spo2:low"] == 1


async def test_a_preview_fanned_out_over_processes_counts_the_same(database_url: str, db_pool: asyncpg.Pool) -> None:
    ward = f"PreviewWard-{uuid.uuid4().hex[:6]}"
    for _ in range(3):
        await _half_hour_at_92(db_pool, ward)
    candidate = ("stricter", parse_ruleset(_stricter_spo2()))
    published = ("default", default_ruleset())
    end = datetime.now(UTC) + timedelta(minutes=1)
    alone, shared = [
        await preview(
            db_pool,
            candidate=candidate,
            published=published,
            start=end - timedelta(days=1),
            end=end,
            tz=UTC,
            wards=[ward],
            fan_out=fan_out,
        )
        for fan_out in (None, (database_url, 2))
    ]
    assert shared.readings == alone.readings == 3 * 24 * 7
    assert shared.candidate.per_rule == alone.candidate.per_rule
    assert shared.published.per_rule == alone.published.per_rule
    assert shared.candidate.per_rule["threshold:spo2:low"] == 3


async def test_readings_for_replay_come_as_exact_columns_in_time_and_metric_order(db_pool: asyncpg.Pool) -> None:
    first = datetime.now(UTC).replace(microsecond=123457) - timedelta(hours=1)
    patient_id, device_id = await admitted_patient(db_pool, first - timedelta(hours=1))
    later = {Metric.SPO2: 95.5, Metric.CONSCIOUSNESS: "A", Metric.ON_OXYGEN: True, Metric.HEART_RATE: 88}
    await record_readings(db_pool, patient_id, device_id, later, first + timedelta(microseconds=1), notify=False)
    await record_readings(db_pool, patient_id, device_id, {Metric.SPO2: 97}, first, notify=False)
    async with db_pool.acquire() as conn:
        columns = await readings_for_replay(conn, patient_id, first, first + timedelta(minutes=1))
        empty = await readings_for_replay(conn, patient_id, first - timedelta(hours=1), first)
    after = micros(first) + 1
    assert replay_readings(columns) == [
        (micros(first), "spo2", 97.0),
        (after, "consciousness", "A"),
        (after, "heart_rate", 88.0),
        (after, "on_oxygen", True),
        (after, "spo2", 95.5),
    ]
    assert empty == ([], [], [], [])
