"""Rule sets over the API: YAML drafts with readable validation errors, immutable published versions,
publishing by ops with a reason (audited), and shadow drafts that record would-be alerts only."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import asyncpg
import pytest
import yaml

from rules.core.ruleset import DEFAULT_RULESET_PATH
from rules.service import RuleSetCache
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
    async with rules_api(settings, db_pool, Role.ADMIN) as admin:  # four eyes: not its author
        await admin.post(f"/api/v1/rulesets/{second.json()['id']}/publish", json={"reason": "v2 replaces v1"})
        versions = (await admin.get("/api/v1/rulesets", params={"name": name})).json()
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


async def _published(settings: Settings, pool: asyncpg.Pool, name: str) -> int:
    """A published rule set `name` of the test's own, written by clinician-tester and published by ops."""
    async with rules_api(settings, pool, Role.CLINICIAN) as clinician:
        draft = (await clinician.post("/api/v1/rulesets", content=_document(name), headers=YAML)).json()
    async with rules_api(settings, pool, Role.OPS) as ops:
        done = await ops.post(f"/api/v1/rulesets/{draft['id']}/publish", json={"reason": "a rule set of its own"})
    assert done.status_code == 200, done.text
    assert done.json()["live"] is False  # published, but the worker runs "default"
    return int(draft["id"])


async def test_only_the_version_the_worker_evaluates_is_live(settings: Settings, db_pool: asyncpg.Pool) -> None:
    name = f"other_{uuid.uuid4().hex[:8]}"
    other = await _published(settings, db_pool, name)
    async with db_pool.acquire() as conn:
        running = (await RuleSetCache(settings.rules_ruleset).current(conn)).published.record
    async with rules_api(settings, db_pool, Role.VIEWER) as viewer:
        listed = (await viewer.get("/api/v1/rulesets")).json()
        detail = (await viewer.get(f"/api/v1/rulesets/{other}")).json()
    assert [v["id"] for v in listed if v["live"]] == [running.id]
    assert {v["status"] for v in listed if v["id"] == other} == {"published"}
    assert detail["live"] is False
    # A worker configured for the other rule set runs that one, and the API says so.
    moved = settings.model_copy(update={"rules_ruleset": name})
    async with rules_api(moved, db_pool, Role.VIEWER) as viewer:
        assert [v["id"] for v in (await viewer.get("/api/v1/rulesets")).json() if v["live"]] == [other]
    async with db_pool.acquire() as conn:
        assert (await RuleSetCache(name).current(conn)).published.record.id == other


async def test_the_diff_names_each_changed_rule_of_the_saved_or_unsaved_draft(
    settings: Settings, db_pool: asyncpg.Pool
) -> None:
    document = yaml.safe_load(DEFAULT_RULESET_PATH.read_text())
    next(t for t in document["thresholds"] if t["metric"] == "spo2")["hold_minutes"] = 3
    async with rules_api(settings, db_pool, Role.OPS) as ops:
        draft = (await ops.post("/api/v1/rulesets", content=yaml.safe_dump(document), headers=YAML)).json()
        saved = await ops.post(f"/api/v1/rulesets/{draft['id']}/diff", json={})
        as_stored = await ops.post(
            f"/api/v1/rulesets/{draft['id']}/diff", json={"draft": yaml.safe_dump(draft["body"])}
        )
        document["trends"].append(document["trends"][0] | {"name": "weight_gain_fast"})
        document["description"] = "unsaved"
        unsaved = await ops.post(f"/api/v1/rulesets/{draft['id']}/diff", json={"draft": yaml.safe_dump(document)})
        broken = await ops.post(
            f"/api/v1/rulesets/{draft['id']}/diff", json={"draft": "name: default\nnews2:\n  alerts: [{severity: x}]\n"}
        )
        await db_pool.execute("DELETE FROM rule_sets WHERE id = $1", draft["id"])
    assert saved.status_code == 200, saved.text
    answer = saved.json()
    assert answer["live"]["live"] is True
    assert answer["live"]["name"] == "default"
    assert answer["candidate"] == f"default@{draft['version']}"
    assert answer["changes"] == [{"section": "thresholds", "item": "spo2", "change": "changed"}]
    assert "-- hold_minutes: 10\n+- hold_minutes: 3\n" in answer["unified"]
    assert answer["unified"].startswith(f"--- default@{answer['live']['version']} (live)\n")
    assert as_stored.json() == answer  # the editor's text, unchanged since it was saved
    changes = unsaved.json()["changes"]
    assert {"section": "trends", "item": "weight_gain_fast", "change": "added"} in changes
    assert {"section": "description", "item": None, "change": "changed"} in changes
    assert unsaved.json()["candidate"].endswith("(unsaved)")
    assert broken.status_code == 422
    assert "line 3: news2.alerts.0.severity" in broken.json()["detail"]


async def test_four_eyes_refuses_the_drafts_author_and_last_editor(settings: Settings, db_pool: asyncpg.Pool) -> None:
    name = f"eyes_{uuid.uuid4().hex[:8]}"
    async with (
        rules_api(settings, db_pool, Role.OPS, username="ops-alice") as alice,
        rules_api(settings, db_pool, Role.ADMIN, username="admin-bob") as bob,
        rules_api(settings, db_pool, Role.OPS, username="ops-carol") as carol,
    ):
        draft = (await alice.post("/api/v1/rulesets", content=_document(name), headers=YAML)).json()
        assert draft["four_eyes_refusal"].startswith("Four eyes: ops-alice wrote this draft")
        own = await alice.post(f"/api/v1/rulesets/{draft['id']}/publish", json={"reason": "my own change"})
        edited = await bob.put(
            f"/api/v1/rulesets/{draft['id']}", content=_document(name, description="bob's edit"), headers=YAML
        )
        by_editor = await bob.post(f"/api/v1/rulesets/{draft['id']}/publish", json={"reason": "I edited it"})
        by_author = await alice.post(f"/api/v1/rulesets/{draft['id']}/publish", json={"reason": "bob edited it"})
        seen_by_carol = (await carol.get(f"/api/v1/rulesets/{draft['id']}")).json()
        published = await carol.post(f"/api/v1/rulesets/{draft['id']}/publish", json={"reason": "reviewed by carol"})
    assert own.status_code == 403
    assert "ops-alice wrote this draft; another user who may publish" in own.json()["detail"]
    assert edited.json()["edited_by"] == "admin-bob"
    assert by_editor.status_code == 403
    assert "admin-bob last edited this draft" in by_editor.json()["detail"]
    assert by_author.status_code == 403
    assert seen_by_carol["four_eyes_refusal"] is None
    assert published.status_code == 200, published.text
    assert (published.json()["published_by"], published.json()["status"]) == ("ops-carol", "published")
    audit = await db_pool.fetch(
        "SELECT username, detail FROM audit_log WHERE action = 'ruleset.publish' AND object_id = $1", str(draft["id"])
    )
    assert [
        (a["username"], a["detail"]["author"], a["detail"]["edited_by"], a["detail"]["four_eyes"]) for a in audit
    ] == [("ops-carol", "ops-alice", "admin-bob", True)]


async def test_without_four_eyes_the_author_may_publish(settings: Settings, db_pool: asyncpg.Pool) -> None:
    alone = settings.model_copy(update={"ruleset_four_eyes": False})
    async with rules_api(alone, db_pool, Role.OPS, username="ops-solo") as solo:
        draft = await solo.post("/api/v1/rulesets", content=_document(f"solo_{uuid.uuid4().hex[:8]}"), headers=YAML)
        assert draft.json()["four_eyes_refusal"] is None
        published = await solo.post(f"/api/v1/rulesets/{draft.json()['id']}/publish", json={"reason": "small site"})
    assert published.status_code == 200, published.text
    assert published.json()["published_by"] == "ops-solo"
