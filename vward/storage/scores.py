"""The latest NEWS2 per patient (the triage list reads it) and its history (the chart), kept together."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from vward.storage.pool import Conn


@dataclass(frozen=True, slots=True)
class ScoreRow:
    score: int | None
    band: str | None
    complete: bool
    missing: tuple[str, ...]
    parameters: dict[str, Any]
    red_score: bool = False
    applicable: bool = True
    reason: str | None = None
    lower_bound: int | None = None


_UPSERT = (
    "INSERT INTO patient_scores (patient_id, score, band, complete, missing, parameters, computed_at, rule_set_version,"
    " red_score, applicable, reason, lower_bound)"
    " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) ON CONFLICT (patient_id) DO UPDATE SET"
    " score = EXCLUDED.score, band = EXCLUDED.band, complete = EXCLUDED.complete, missing = EXCLUDED.missing,"
    " parameters = EXCLUDED.parameters, computed_at = EXCLUDED.computed_at,"
    " rule_set_version = EXCLUDED.rule_set_version, red_score = EXCLUDED.red_score,"
    " applicable = EXCLUDED.applicable, reason = EXCLUDED.reason, lower_bound = EXCLUDED.lower_bound"
)
_APPEND_HISTORY = (
    "INSERT INTO score_history (patient_id, computed_at, score, band, complete, parameters)"
    " VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (patient_id, computed_at) DO UPDATE SET"
    " score = EXCLUDED.score, band = EXCLUDED.band, complete = EXCLUDED.complete, parameters = EXCLUDED.parameters"
)


async def locked_scores(conn: Conn, patient_ids: Sequence[int]) -> dict[int, ScoreRow]:
    """The patients' current scores, locked until the transaction ends: one query for a whole batch."""
    rows = await conn.fetch(
        "SELECT patient_id, score, band, complete, missing, parameters, red_score, applicable, reason, lower_bound"
        " FROM patient_scores WHERE patient_id = ANY($1::bigint[]) ORDER BY patient_id FOR UPDATE",
        list(patient_ids),
    )
    return {
        r["patient_id"]: ScoreRow(
            r["score"],
            r["band"],
            r["complete"],
            tuple(r["missing"]),
            r["parameters"],
            r["red_score"],
            r["applicable"],
            r["reason"],
            r["lower_bound"],
        )
        for r in rows
    }


def score_changed(previous: ScoreRow | None, result: ScoreRow) -> bool:
    """Whether the chart gets a new point: a value only growing older is not a new observation set."""
    if previous is None:
        return True

    def compared(row: ScoreRow) -> tuple[Any, ...]:
        return (row.score, row.band, row.complete, row.missing, row.applicable, _without_ages(row.parameters))

    return compared(previous) != compared(result)


async def save_scores(
    conn: Conn,
    scores: Sequence[tuple[int, ScoreRow]],
    previous: Mapping[int, ScoreRow],
    computed_at: datetime,
    rule_set_version: int | None,
) -> None:
    """Upsert each patient's score and append to the history of those whose score changed since
    `previous` (from `locked_scores`); each statement is pipelined over the batch in one round trip."""
    await conn.executemany(
        _UPSERT,
        [
            (
                pid,
                r.score,
                r.band,
                r.complete,
                list(r.missing),
                r.parameters,
                computed_at,
                rule_set_version,
                r.red_score,
                r.applicable,
                r.reason,
                r.lower_bound,
            )
            for pid, r in scores
        ],
    )
    history = [
        (pid, computed_at, r.score, r.band, r.complete, r.parameters)
        for pid, r in scores
        if score_changed(previous.get(pid), r)
    ]
    if history:
        await conn.executemany(_APPEND_HISTORY, history)


_AGES = ("age_minutes", "measured_at")  # when a value was taken, not what it was


def _without_ages(parameters: dict[str, Any]) -> dict[str, Any]:
    """Parameters as the chart compares them: a value growing older is not a new observation set."""
    return {
        name: {k: v for k, v in detail.items() if k not in _AGES} if isinstance(detail, dict) else detail
        for name, detail in parameters.items()
    }
