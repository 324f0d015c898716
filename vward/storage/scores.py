"""The latest NEWS2 per patient (the triage list reads it) and its history (the chart), kept together."""

from __future__ import annotations

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


async def save_score(
    conn: Conn, patient_id: int, result: ScoreRow, computed_at: datetime, rule_set_version: int | None
) -> bool:
    """Upsert the patient's score; append to the history only when the score changed. Returns changed."""
    previous = await conn.fetchrow(
        "SELECT score, band, complete, missing, parameters FROM patient_scores WHERE patient_id = $1 FOR UPDATE",
        patient_id,
    )
    await conn.execute(
        "INSERT INTO patient_scores (patient_id, score, band, complete, missing, parameters, computed_at,"
        " rule_set_version) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (patient_id) DO UPDATE SET"
        " score = EXCLUDED.score, band = EXCLUDED.band, complete = EXCLUDED.complete, missing = EXCLUDED.missing,"
        " parameters = EXCLUDED.parameters, computed_at = EXCLUDED.computed_at,"
        " rule_set_version = EXCLUDED.rule_set_version",
        patient_id,
        result.score,
        result.band,
        result.complete,
        list(result.missing),
        result.parameters,
        computed_at,
        rule_set_version,
    )
    changed = previous is None or (
        previous["score"],
        previous["band"],
        previous["complete"],
        tuple(previous["missing"]),
        _without_ages(previous["parameters"]),
    ) != (result.score, result.band, result.complete, result.missing, _without_ages(result.parameters))
    if changed:
        await conn.execute(
            "INSERT INTO score_history (patient_id, computed_at, score, band, complete, parameters)"
            " VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (patient_id, computed_at) DO UPDATE SET"
            " score = EXCLUDED.score, band = EXCLUDED.band, complete = EXCLUDED.complete,"
            " parameters = EXCLUDED.parameters",
            patient_id,
            computed_at,
            result.score,
            result.band,
            result.complete,
            result.parameters,
        )
    return changed


def _without_ages(parameters: dict[str, Any]) -> dict[str, Any]:
    """Parameters as the chart compares them: a value growing older is not a new observation set."""
    return {
        name: {k: v for k, v in detail.items() if k != "age_minutes"} if isinstance(detail, dict) else detail
        for name, detail in parameters.items()
    }
