"""Rule sets: list and read versions (which one the rules worker runs), write drafts (YAML or JSON), run a
draft in shadow, publish with a reason (ops and admin only; with four eyes, not the draft's own author or
last editor), and preview or diff a version, or the editor's unsaved text, against what runs. Also the
per-patient adjustment of a rule set: threshold overrides with a reason and an expiry."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Any
from zoneinfo import ZoneInfo

import asyncpg
from fastapi import APIRouter, Depends, HTTPException, Query, Request, status

from rules.core.ruleset import RuleSet
from rules.preview import preview_against_published
from vward.api.deps import (
    AppSettings,
    ClinicalUser,
    CurrentUser,
    DbPool,
    OpsUser,
    ReaderUser,
    RequestId,
    require_roles,
)
from vward.api.fields import DbId, StorableText
from vward.api.ruleset_views import Presented, Presenter, candidate, diff_against, same_rule_set, validated
from vward.api.scope import ensure_in_scope, ensure_may_act
from vward.contract.overrides import OverrideIn, OverrideOut
from vward.contract.rulesets import (
    MAX_RULESET_BYTES,
    CandidateRequest,
    PreviewRequest,
    Publication,
    RuleSetDetail,
    RuleSetDiff,
    RuleSetPreview,
    RuleSetSummary,
    ShadowCount,
    ShadowSwitch,
)
from vward.domain.alerts import Role
from vward.domain.users import Principal
from vward.storage import overrides as override_store
from vward.storage import rulesets as store
from vward.storage.audit import record_audit
from vward.storage.evaluation import requeue
from vward.storage.rulesets import FourEyesError, RuleSetRecord, RuleSetStateError
from vward.storage.shadow import shadow_summary

router = APIRouter(prefix="/api/v1", tags=["rule sets"])

AuthorUser = Annotated[Principal, Depends(require_roles(Role.CLINICIAN, Role.OPS, Role.ADMIN))]

_NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"description": "No such rule set"}}
_NOTHING_LIVE: dict[int | str, dict[str, Any]] = {409: {"description": "No version of the rule set to compare with"}}
_RULESET_BODY = {
    "requestBody": {
        "required": True,
        "description": "A rule set in YAML or JSON (see rules/rulesets/default.yaml)",
        "content": {
            "application/yaml": {"schema": {"type": "string"}},
            "application/json": {"schema": {"type": "object"}},
        },
    }
}


async def _parsed_body(request: Request) -> tuple[RuleSet, dict[str, Any]]:
    """The request body as a validated rule set and its document; 413 when huge, else as `validated`."""
    raw = await request.body()
    if len(raw) > MAX_RULESET_BYTES:
        raise HTTPException(status.HTTP_413_CONTENT_TOO_LARGE, f"A rule set is at most {MAX_RULESET_BYTES} bytes")
    return validated(raw.decode("utf-8", errors="replace"), "request body")


async def _found(pool: asyncpg.Pool, ruleset_id: int) -> RuleSetRecord:
    record = await store.get_ruleset(pool, ruleset_id)
    if record is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "No such rule set")
    return record


@router.get("/rulesets", response_model=list[RuleSetSummary])
async def list_rulesets(
    pool: DbPool, view: Presented, name: Annotated[StorableText | None, Query(max_length=100)] = None
) -> list[RuleSetSummary]:
    """Every version, newest first per name."""
    return [view.summary(r) for r in await store.list_rulesets(pool, name)]


@router.get("/rulesets/{ruleset_id}", response_model=RuleSetDetail, responses=_NOT_FOUND)
async def get_ruleset(ruleset_id: DbId, pool: DbPool, view: Presented) -> RuleSetDetail:
    return view.detail(await _found(pool, ruleset_id))


@router.post(
    "/rulesets", response_model=RuleSetDetail, status_code=status.HTTP_201_CREATED, openapi_extra=_RULESET_BODY
)
async def create_draft(
    request: Request,
    pool: DbPool,
    principal: AuthorUser,
    request_id: RequestId,
    view: Presented,
    shadow: bool = False,
) -> RuleSetDetail:
    """A new draft version of the rule set the body names; `shadow=true` evaluates it live, silently."""
    ruleset, document = await _parsed_body(request)
    async with pool.acquire() as conn, conn.transaction():
        record = await store.create_draft(
            conn, name=ruleset.name, body=document, created_by=principal.username, shadow=shadow
        )
        await _audit(conn, principal, "ruleset.draft", request_id, record, {"shadow": shadow})
    return view.detail(record)


@router.put("/rulesets/{ruleset_id}", response_model=RuleSetDetail, responses=_NOT_FOUND, openapi_extra=_RULESET_BODY)
async def replace_draft(
    ruleset_id: DbId, request: Request, pool: DbPool, principal: AuthorUser, request_id: RequestId, view: Presented
) -> RuleSetDetail:
    """Replace a draft's body, which makes you its last editor; published and retired versions never change (409)."""
    current = await _found(pool, ruleset_id)
    ruleset, document = await _parsed_body(request)
    same_rule_set(current, ruleset)
    return await _change_draft(pool, principal, request_id, view, ruleset_id, body=document)


@router.patch("/rulesets/{ruleset_id}", response_model=RuleSetDetail, responses=_NOT_FOUND)
async def set_shadow(
    ruleset_id: DbId, switch: ShadowSwitch, pool: DbPool, principal: AuthorUser, request_id: RequestId, view: Presented
) -> RuleSetDetail:
    """Run a draft in shadow (evaluated live, never notifies, would-be alerts recorded) or stop it."""
    await _found(pool, ruleset_id)
    return await _change_draft(pool, principal, request_id, view, ruleset_id, shadow=switch.shadow)


async def _change_draft(
    pool: asyncpg.Pool,
    principal: Principal,
    request_id: str,
    view: Presenter,
    ruleset_id: DbId,
    *,
    body: dict[str, Any] | None = None,
    shadow: bool | None = None,
) -> RuleSetDetail:
    async with pool.acquire() as conn, conn.transaction():
        try:
            record = await store.update_draft(conn, ruleset_id, by=principal.username, body=body, shadow=shadow)
        except RuleSetStateError as exc:
            raise HTTPException(status.HTTP_409_CONFLICT, str(exc)) from None
        changed = {"body": body is not None, "shadow": shadow}
        await _audit(conn, principal, "ruleset.update", request_id, record, changed)
    return view.detail(record)


@router.get("/rulesets/{ruleset_id}/shadow-alerts", response_model=list[ShadowCount], responses=_NOT_FOUND)
async def shadow_alerts(
    ruleset_id: DbId, pool: DbPool, _: CurrentUser, hours: Annotated[float, Query(gt=0, le=24 * 30)] = 24
) -> list[ShadowCount]:
    """What this draft would have raised on live data in the last `hours`, per rule and severity."""
    await _found(pool, ruleset_id)
    since = datetime.now(UTC) - timedelta(hours=hours)
    return [ShadowCount(**row) for row in await shadow_summary(pool, ruleset_id, since)]


_PUBLISH_REFUSALS: dict[int | str, dict[str, Any]] = {
    403: {"description": "Your role may not publish, or four eyes: you wrote or last edited this draft"},
    409: {"description": "Only a draft can be published"},
}


@router.post("/rulesets/{ruleset_id}/publish", response_model=RuleSetDetail, responses=_NOT_FOUND | _PUBLISH_REFUSALS)
async def publish(
    ruleset_id: DbId,
    publication: Publication,
    pool: DbPool,
    principal: OpsUser,
    request_id: RequestId,
    view: Presented,
) -> RuleSetDetail:
    """Publish a draft; the published version it replaces is retired. Alerts keep their own version. It
    runs (is live) when it is a version of the rule set the worker evaluates (VWARD_RULES_RULESET)."""
    await _found(pool, ruleset_id)
    async with pool.acquire() as conn:
        try:
            record = await store.publish(
                conn,
                ruleset_id,
                principal=principal,
                reason=publication.reason,
                request_id=request_id,
                four_eyes=view.four_eyes,
            )
        except FourEyesError as exc:
            raise HTTPException(status.HTTP_403_FORBIDDEN, str(exc)) from None
        except RuleSetStateError as exc:
            raise HTTPException(status.HTTP_409_CONFLICT, str(exc)) from None
    return view.detail(record)


@router.post("/rulesets/{ruleset_id}/diff", response_model=RuleSetDiff, responses=_NOT_FOUND | _NOTHING_LIVE)
async def diff_ruleset(
    ruleset_id: DbId, request: CandidateRequest, pool: DbPool, _: AuthorUser, view: Presented
) -> RuleSetDiff:
    """What this version, or the editor's unsaved text, changes against the version that runs, per rule and
    as a unified diff: what a reviewer reads before publishing."""
    compared = candidate(await _found(pool, ruleset_id), request.draft)
    live = await store.load_published(pool, view.worker_ruleset)
    if live is None:
        raise HTTPException(status.HTTP_409_CONFLICT, f"Rule set {view.worker_ruleset!r} has no published version")
    return diff_against(live, compared, view)


@router.post("/rulesets/{ruleset_id}/preview", response_model=RuleSetPreview, responses=_NOT_FOUND | _NOTHING_LIVE)
async def preview_ruleset(
    ruleset_id: DbId,
    request: PreviewRequest,
    pool: DbPool,
    settings: AppSettings,
    principal: AuthorUser,
    request_id: RequestId,
) -> RuleSetPreview:
    """Replay this version (or the editor's unsaved text) and the published one over stored readings of
    your wards: alerts per patient-day, per rule and per nurse shift, side by side (no patient data in the
    answer)."""
    record = await _found(pool, ruleset_id)
    compared = candidate(record, request.draft)
    dsn, processes = settings.database_url, settings.rules_preview_processes
    try:
        report = await preview_against_published(
            pool,
            (compared.label, compared.rules),
            name=record.name,
            days=request.days,
            until=request.until or datetime.now(UTC),
            tz=ZoneInfo(settings.timezone),
            patient_ids=request.patient_ids,
            wards=list(principal.wards) or None,
            fan_out=None if dsn is None else (dsn, processes),
            nurses=request.nurses,
        )
    except LookupError as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, str(exc)) from None
    async with pool.acquire() as conn:
        detail = {
            "days": request.days,
            "patients": report.patients,
            "readings": report.readings,
            "unsaved": compared.unsaved,
        }
        await _audit(conn, principal, "ruleset.preview", request_id, record, detail)
    return RuleSetPreview.model_validate(report.to_json())


@router.get("/patients/{patient_id}/threshold-overrides", response_model=list[OverrideOut], tags=["patients"])
async def list_overrides(
    patient_id: DbId, pool: DbPool, principal: ReaderUser, request_id: RequestId
) -> list[OverrideOut]:
    """The patient's live threshold overrides, expired ones included (they await review)."""
    async with pool.acquire() as conn, conn.transaction():
        await ensure_in_scope(conn, principal, patient_id)
        rows = await override_store.live_overrides(conn, patient_id)
        await record_audit(
            conn,
            principal=principal,
            action="overrides.read",
            request_id=request_id,
            patient_id=patient_id,
            object_type="threshold_override",
        )
    return [OverrideOut(**dict(r)) for r in rows]


@router.post(
    "/patients/{patient_id}/threshold-overrides",
    response_model=OverrideOut,
    status_code=status.HTTP_201_CREATED,
    tags=["patients"],
)
async def set_override(
    patient_id: DbId, override: OverrideIn, pool: DbPool, principal: ClinicalUser, request_id: RequestId
) -> OverrideOut:
    """Set the patient's own bound for one metric (replacing any earlier one); the rules use it at once."""
    async with pool.acquire() as conn, conn.transaction():
        await ensure_may_act(conn, principal, patient_id)
        row = await override_store.set_override(
            conn,
            patient_id=patient_id,
            metric=override.metric.value,
            low=override.low,
            high=override.high,
            reason=override.reason,
            expires_at=override.expires_at,
            by=principal.username,
        )
        await record_audit(
            conn,
            principal=principal,
            action="override.set",
            request_id=request_id,
            patient_id=patient_id,
            object_type="threshold_override",
            object_id=str(row["id"]),
            detail={"metric": override.metric.value, "low": override.low, "high": override.high},
        )
        await requeue(conn, [patient_id], "override")
    return OverrideOut(**dict(row))


@router.delete(
    "/patients/{patient_id}/threshold-overrides/{override_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    tags=["patients"],
)
async def remove_override(
    patient_id: DbId, override_id: DbId, pool: DbPool, principal: ClinicalUser, request_id: RequestId
) -> None:
    async with pool.acquire() as conn, conn.transaction():
        await ensure_may_act(conn, principal, patient_id)
        if not await override_store.remove_override(conn, patient_id, override_id, principal.username):
            raise HTTPException(status.HTTP_404_NOT_FOUND, "No such live override")
        await record_audit(
            conn,
            principal=principal,
            action="override.remove",
            request_id=request_id,
            patient_id=patient_id,
            object_type="threshold_override",
            object_id=str(override_id),
        )
        await requeue(conn, [patient_id], "override")


async def _audit(
    conn: asyncpg.Connection,
    principal: Principal,
    action: str,
    request_id: str,
    record: RuleSetRecord,
    detail: dict[str, Any],
) -> None:
    await record_audit(
        conn,
        principal=principal,
        action=action,
        request_id=request_id,
        object_type="rule_set",
        object_id=str(record.id),
        detail={"name": record.name, "version": record.version, **detail},
    )
