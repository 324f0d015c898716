"""Rule sets as versioned data: drafts, shadow drafts, one published version per name, retired history.

Bodies arrive here already validated by the rules layer; published versions are immutable (a trigger
in 0020_rules.sql refuses any other change), so an alert's rule set version always means one body.
With four eyes, a draft is published by someone other than its author and its last editor.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, NoReturn

import asyncpg

from vward.domain.users import SYSTEM, Principal
from vward.storage.audit import record_audit
from vward.storage.pool import Conn

_COLUMNS = (
    "id, name, version, status, body, created_by, created_at, published_by, published_at, publish_reason, shadow,"
    " edited_by"
)

# A stored body always carries the row's own name and version, whatever the author typed.
_STAMPED = "jsonb_set(jsonb_set({body}::jsonb, '{{name}}', to_jsonb({name})), '{{version}}', to_jsonb({version}))"


@dataclass(frozen=True, slots=True)
class RuleSetRecord:
    id: int
    name: str
    version: int
    status: str  # "draft" | "published" | "retired"
    body: dict[str, Any]
    created_by: str
    created_at: datetime
    published_by: str | None
    published_at: datetime | None
    publish_reason: str | None
    shadow: bool
    edited_by: str | None  # who last replaced the body; None: nobody since its author

    def is_live(self, worker_ruleset: str) -> bool:
        """Whether the rules worker evaluates this version: it runs the published version of the one name
        it is configured with (`load_published(conn, settings.rules_ruleset)`), never any other."""
        return self.status == "published" and self.name == worker_ruleset


class RuleSetStateError(ValueError):
    """The action does not fit the rule set's status (e.g. editing a published version)."""


class FourEyesError(ValueError):
    """The would-be publisher wrote or last edited the draft; someone else must review and publish it."""


def four_eyes_refusal(record: RuleSetRecord, username: str) -> str | None:
    """Why `username` may not publish this draft under four eyes, or None if they may (`publish` applies
    the same rule in its update)."""
    if username not in (record.created_by, record.edited_by):
        return None
    did = "wrote" if username == record.created_by else "last edited"
    return f"Four eyes: {username} {did} this draft; another user who may publish rule sets must review and publish it"


def _record(row: asyncpg.Record) -> RuleSetRecord:
    return RuleSetRecord(**dict(row))


async def _lock_name(conn: Conn, name: str) -> None:
    """Serialise version numbering and publishing per rule set name (caller holds a transaction)."""
    await conn.execute("SELECT pg_advisory_xact_lock(hashtext('vward.rule_sets:' || $1))", name)


async def ensure_default_ruleset(conn: asyncpg.Connection, body: dict[str, Any], name: str) -> RuleSetRecord:
    """Seed `body` as published version 1 of `name` on first start; later starts change nothing."""
    async with conn.transaction():
        await _lock_name(conn, name)
        row = await conn.fetchrow(f"SELECT {_COLUMNS} FROM rule_sets WHERE name = $1 AND status = 'published'", name)
        if row is not None:
            return _record(row)
        if await conn.fetchval("SELECT EXISTS (SELECT 1 FROM rule_sets WHERE name = $1)", name):
            raise RuleSetStateError(f"rule set {name!r} has versions but none is published")
        reason = "default rule set seeded on first start"
        row = await conn.fetchrow(
            "INSERT INTO rule_sets (name, version, status, body, created_by, published_by, published_at,"
            " publish_reason) VALUES ($1, 1, 'published',"
            f" {_STAMPED.format(body='$2', name='$1::text', version='1')}, $3, $3, now(), $4)"
            f" RETURNING {_COLUMNS}",
            name,
            body,
            SYSTEM.username,
            reason,
        )
        record = _record(row)
        await record_audit(
            conn,
            principal=SYSTEM,
            action="ruleset.publish",
            request_id=None,
            object_type="rule_set",
            object_id=str(record.id),
            detail={"name": name, "version": 1, "reason": reason},
        )
        return record


async def create_draft(
    conn: asyncpg.Connection, *, name: str, body: dict[str, Any], created_by: str, shadow: bool = False
) -> RuleSetRecord:
    """A new draft numbered after the highest existing version of `name`."""
    async with conn.transaction():
        await _lock_name(conn, name)
        row = await conn.fetchrow(
            "INSERT INTO rule_sets (name, version, status, body, created_by, shadow)"
            f" SELECT $1, v, 'draft', {_STAMPED.format(body='$2', name='$1::text', version='v')}, $3, $4"
            " FROM (SELECT coalesce(max(version), 0) + 1 AS v FROM rule_sets WHERE name = $1) next_version"
            f" RETURNING {_COLUMNS}",
            name,
            body,
            created_by,
            shadow,
        )
        return _record(row)


async def update_draft(
    conn: Conn,
    ruleset_id: int,
    *,
    by: str,
    body: dict[str, Any] | None = None,
    shadow: bool | None = None,
) -> RuleSetRecord:
    """Change a draft's body (`by` becomes its last editor) and/or shadow flag; anything but a draft is refused."""
    row = await conn.fetchrow(
        f"UPDATE rule_sets SET body = {_STAMPED.format(body='coalesce($2, body)', name='name', version='version')},"
        " shadow = coalesce($3, shadow), edited_by = CASE WHEN $2::jsonb IS NULL THEN edited_by ELSE $4 END"
        f" WHERE id = $1 AND status = 'draft' RETURNING {_COLUMNS}",
        ruleset_id,
        body,
        shadow,
        by,
    )
    if row is None:
        raise RuleSetStateError(await _why_not_draft(conn, ruleset_id))
    return _record(row)


async def _why_not_draft(conn: Conn, ruleset_id: int) -> str:
    status = await conn.fetchval("SELECT status FROM rule_sets WHERE id = $1", ruleset_id)
    if status is None:
        return f"no rule set {ruleset_id}"
    return f"rule set {ruleset_id} is {status}; only drafts can change (create a new draft instead)"


async def publish(
    conn: asyncpg.Connection,
    ruleset_id: int,
    *,
    principal: Principal,
    reason: str,
    request_id: str | None,
    four_eyes: bool,
) -> RuleSetRecord:
    """Publish a draft, retiring the version it replaces; who and why go to the row and the audit log.
    The four-eyes check is part of the update, so an edit committed meanwhile is judged too."""
    async with conn.transaction():
        name = await conn.fetchval("SELECT name FROM rule_sets WHERE id = $1", ruleset_id)
        if name is None:
            raise RuleSetStateError(f"no rule set {ruleset_id}")
        await _lock_name(conn, name)
        previous = await conn.fetchrow(
            "UPDATE rule_sets SET status = 'retired' WHERE name = $1 AND status = 'published'"
            " AND EXISTS (SELECT 1 FROM rule_sets WHERE id = $2 AND status = 'draft') RETURNING id, version",
            name,
            ruleset_id,
        )
        row = await conn.fetchrow(
            "UPDATE rule_sets SET status = 'published', shadow = false, published_by = $2, published_at = now(),"
            " publish_reason = $3 WHERE id = $1 AND status = 'draft'"
            " AND NOT ($4 AND $2 IN (created_by, coalesce(edited_by, created_by)))"
            f" RETURNING {_COLUMNS}",
            ruleset_id,
            principal.username,
            reason,
            four_eyes,
        )
        if row is None:
            await _refuse_publication(conn, ruleset_id, principal.username, four_eyes)
        record = _record(row)
        await record_audit(
            conn,
            principal=principal,
            action="ruleset.publish",
            request_id=request_id,
            object_type="rule_set",
            object_id=str(record.id),
            detail={
                "name": record.name,
                "version": record.version,
                "reason": reason,
                "retired_version": previous["version"] if previous else None,
                "author": record.created_by,
                "edited_by": record.edited_by,
                "four_eyes": four_eyes,
            },
        )
        return record


async def _refuse_publication(conn: Conn, ruleset_id: int, username: str, four_eyes: bool) -> NoReturn:
    """Why the publishing update matched no row: four eyes, else not a draft (or no such rule set)."""
    current = await get_ruleset(conn, ruleset_id)
    refusal = four_eyes_refusal(current, username) if four_eyes and current and current.status == "draft" else None
    if refusal is not None:
        raise FourEyesError(refusal)
    raise RuleSetStateError(await _why_not_draft(conn, ruleset_id))


async def get_ruleset(conn: Conn, ruleset_id: int) -> RuleSetRecord | None:
    row = await conn.fetchrow(f"SELECT {_COLUMNS} FROM rule_sets WHERE id = $1", ruleset_id)
    return None if row is None else _record(row)


async def list_rulesets(conn: Conn, name: str | None = None) -> list[RuleSetRecord]:
    """Every version, newest first per name."""
    rows = await conn.fetch(
        f"SELECT {_COLUMNS} FROM rule_sets WHERE $1::text IS NULL OR name = $1 ORDER BY name, version DESC", name
    )
    return [_record(r) for r in rows]


async def load_published(conn: Conn, name: str) -> RuleSetRecord | None:
    row = await conn.fetchrow(f"SELECT {_COLUMNS} FROM rule_sets WHERE name = $1 AND status = 'published'", name)
    return None if row is None else _record(row)


async def shadow_rulesets(conn: Conn) -> list[RuleSetRecord]:
    rows = await conn.fetch(f"SELECT {_COLUMNS} FROM rule_sets WHERE shadow ORDER BY id")
    return [_record(r) for r in rows]


async def ruleset_generation(conn: Conn) -> tuple[tuple[int, int], ...]:
    """(id, row version) of the published and shadow versions: a cheap check whether a cached rule set is
    still current (a shadow draft's body can change in place; xmin changes with every update)."""
    rows = await conn.fetch(
        "SELECT id, xmin::text::bigint AS row_version FROM rule_sets WHERE status = 'published' OR shadow ORDER BY id"
    )
    return tuple((r["id"], r["row_version"]) for r in rows)
