"""Per-patient threshold overrides (EvaluationContext.overrides): which apply now, which need review.

Public API: `sort_overrides(raw, now) -> Overrides`. An override applies until `expires_at`; an expired
one, or one that cannot be read, is ignored (the rule set's thresholds apply again, failing safe) and
listed for review so a clinician renews or removes it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import ValidationError

from rules.core.ruleset import ThresholdOverride
from vward.domain.metrics import Metric


@dataclass(frozen=True, slots=True)
class Overrides:
    active: dict[Metric, ThresholdOverride]
    review: tuple[tuple[str, dict[str, Any]], ...]  # (metric or "unreadable", why)


def sort_overrides(raw: Sequence[Mapping[str, Any]], now: datetime) -> Overrides:
    active: dict[Metric, ThresholdOverride] = {}
    review: list[tuple[str, dict[str, Any]]] = []
    for entry in raw:
        try:
            override = ThresholdOverride.model_validate(entry)
        except ValidationError as exc:
            metric = str(entry.get("metric", "unreadable"))
            review.append((metric, {"problem": "unreadable", "detail": exc.errors(include_url=False)[0]["msg"]}))
            continue
        if override.expires_at <= now:
            why = {
                "problem": "expired",
                "expired_at": override.expires_at.isoformat(),
                "reason": override.reason,
                "low": override.low,
                "high": override.high,
            }
            review.append((str(override.metric), why))
            continue
        active[override.metric] = override
    return Overrides(active, tuple(review))
