"""What a candidate rule set changes against another, for whoever reviews it before it is published: the
changes per rule (thresholds by metric, trends and overdue plans by name, any other section as a whole)
and a unified diff of both documents as YAML."""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import Any, Literal

import yaml

Change = Literal["added", "removed", "changed"]

# List sections whose items are rules with an identity of their own (validation keeps it unique).
_KEYED_SECTIONS = {"thresholds": "metric", "trends": "name", "overdue": "name"}
# Stamped by storage on every version: a different number is no change to the rules.
_NOT_RULES = frozenset({"version"})


@dataclass(frozen=True, slots=True)
class RuleChange:
    section: str
    item: str | None  # the rule's metric or name inside a list section
    change: Change


def _change(before: object, after: object) -> Change:
    return "added" if before is None else "removed" if after is None else "changed"


def _item_changes(section: str, key: str, before: list[Any], after: list[Any]) -> list[RuleChange]:
    old = {str(item.get(key)): item for item in before}
    new = {str(item.get(key)): item for item in after}
    return [
        RuleChange(section, name, _change(old.get(name), new.get(name)))
        for name in dict.fromkeys([*old, *new])
        if old.get(name) != new.get(name)
    ]


def rule_changes(base: dict[str, Any], candidate: dict[str, Any]) -> list[RuleChange]:
    """Each rule or section that `candidate` adds, removes or changes relative to `base` (both validated
    documents), in document order."""
    changes: list[RuleChange] = []
    for section in dict.fromkeys([*base, *candidate]):
        before, after = base.get(section), candidate.get(section)
        if before == after or section in _NOT_RULES:
            continue
        key = _KEYED_SECTIONS.get(section)
        if key is not None and isinstance(before or [], list) and isinstance(after or [], list):
            changes += _item_changes(section, key, before or [], after or [])
        else:
            changes.append(RuleChange(section, None, _change(before, after)))
    return changes


def _yaml_lines(document: dict[str, Any]) -> list[str]:
    """Keys sorted: the order a body is stored in (jsonb has its own) or typed in is no change."""
    text = yaml.safe_dump(document, sort_keys=True, allow_unicode=True, width=110)
    return text.splitlines(keepends=True)


def unified_diff(base: dict[str, Any], candidate: dict[str, Any], base_label: str, candidate_label: str) -> str:
    """Both documents as YAML, diffed line by line; empty when they are the same."""
    return "".join(difflib.unified_diff(_yaml_lines(base), _yaml_lines(candidate), base_label, candidate_label))
