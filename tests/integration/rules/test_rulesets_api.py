"""Rule sets over the API: YAML drafts with readable validation errors, immutable published versions,
publishing by ops with a reason (audited), and shadow drafts that record would-be alerts only."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import asyncpg
import pytest
import yaml

from rules.core.ruleset import DEFAULT_RULESET_PATH
from rules.worker import RulesWorker
from tests.integration.rules.api import rules_api
from tests.integration.rules.helpers import NEWS2_SIX, admitted_patient, record_readings
from vward.domain.alerts import Role
from vward.settings import Settings

pytestmark = pytest.mark.integration
YAML = {"Content-Type": "application/yaml"}


def _document(name: str, **changes: object) -> str:
    """The shipped default under another name (so publishing never touches the live rule set)."""
    document = yaml.safe_load(DEFAULT_RULESET_PATH.read_text()) | {"name": name} | changes
    return yaml.safe_dump(document)


async def test_drafts_validate_and_published_versions_are_immutable(settings: Settings, db_pool: asyncpg.Pool) -> None:
    name = f"test_{uuid.uuid4().hex[:8]}"
    async with rules_api(settings, db_pool, Role.CLINICIAN) as clinician:
        broken = await clinician.post("/api/v1/rulesets", content="name: x\nnews2: {alerts: []}\n", headers=YAML)
        assert broken.status_code == 422
        assert "news2.alerts" in broken.json()["detail"]
        first = await clinician.post("/api/v1/rulesets", content=_document(name), headers=YAML)
        assert first.status_code == 201, first.text
        draft = first.json()
        assert (draft["name"], draft["version"], draft["status"]) == (name, 1, "draft")
        edited = await clinician.put(
            f"/api/v1/rulesets/{draft['id']}", content=_document(name, description="tighter"), headers=YAML
        )
        assert edited.json()["body"]["description"] == "tighter"
        refused = await clinician.post(f"/api/v1/rulesets/{draft['id']}/publish", json={"reason": "ok"})
        assert refused.status_code == 403
    async with rules_api(settings, db_pool, Role.OPS) as ops:
        assert (await ops.post(f"/api/v1/rulesets/{draft['id']}/publish", json={})).status_code == 422
        published = await ops.post(f"/api/v1/rulesets/{draft['id']}/publish", json={"reason": "CSO approved v1"})
        assert published.status_code == 200, published.text
        assert published.json()["published_by"] == "ops-tester"
        frozen = await ops.put(f"/api/v1/rulesets/{draft['id']}", content=_document(name), headers=YAML)
        assert frozen.status_code == 409
        second = await ops.post("/api/v1/rulesets", json=yaml.safe_load(_document(name)))
        assert second.json()["version"] == 2
        await ops.post(f"/api/v1/rulesets/{second.json()['id']}/publish", json={"reason": "v2 replaces v1"})
        versions = (await ops.get("/api/v1/rulesets", params={"name": name})).json()
    assert [(v["version"], v["status"]) for v in versions] == [(2, "published"), (1, "retired")]
    with pytest.raises(asyncpg.IntegrityConstraintViolationError):
        await db_pool.execute("UPDATE rule_sets SET body = '{}' WHERE id = $1", draft["id"])
    audit = await db_pool.fetch(
        "SELECT username, detail FROM audit_log WHERE action = 'ruleset.publish' AND object_id = $1", str(draft["id"])
    )
    assert [(a["username"], a["detail"]["reason"]) for a in audit] == [("ops-tester", "CSO approved v1")]


async def test_a_shadow_draft_records_would_be_alerts_and_never_alerts(
    settings: Settings, db_pool: asyncpg.Pool
) -> None:
    name = f"shadow_{uuid.uuid4().hex[:8]}"
    # The candidate alerts from NEWS2 1 (low) where the published rule set waits for 5.
    candidate = yaml.safe_load(DEFAULT_RULESET_PATH.read_text())
    candidate["news2"]["alerts"].append({"min_score": 1, "severity": "low"})
    candidate["patient_concern"] = {"enabled": False}
    async with rules_api(settings, db_pool, Role.OPS) as ops:
        created = await ops.post(
            "/api/v1/rulesets",
            params={"shadow": "true"},
            content=yaml.safe_dump(candidate | {"name": name}),
            headers=YAML,
        )
        shadow_id = created.json()["id"]
        try:
            now = datetime.now(UTC)
            patient_id, device_id = await admitted_patient(db_pool, now - timedelta(hours=1))
            await record_readings(db_pool, patient_id, device_id, NEWS2_SIX, now)
            await RulesWorker(settings, db_pool).drain()
        finally:
            stopped = await ops.patch(f"/api/v1/rulesets/{shadow_id}", json={"shadow": False})
        summary = (await ops.get(f"/api/v1/rulesets/{shadow_id}/shadow-alerts", params={"hours": 1})).json()
    assert stopped.json()["shadow"] is False
    assert {"rule_id": "news2", "severity": 2, "opened": 1, "patients": 1} in summary
    would_be = await db_pool.fetch(
        "SELECT rule_id, severity FROM shadow_alerts WHERE rule_set_id = $1 AND patient_id = $2", shadow_id, patient_id
    )
    assert ("news2", 2) in [(w["rule_id"], w["severity"]) for w in would_be]
    live = await db_pool.fetch("SELECT rule_set_name FROM alerts WHERE patient_id = $1", patient_id)
    assert {a["rule_set_name"] for a in live} == {"default"}
