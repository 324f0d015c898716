"""Golden tests: the shipped rule set passes its own, and a failing case exits non-zero with a readable diff."""

from __future__ import annotations

from pathlib import Path

import pytest

from rules.cli import main
from rules.core.ruleset import DEFAULT_RULESET_PATH
from rules.golden import run_files

DEFAULT_TESTS = DEFAULT_RULESET_PATH.with_name("default.test.yaml")

FAILING = f"""
rule_set: {DEFAULT_RULESET_PATH}
tests:
  - name: wrong expectations
    series:
      - {{metric: respiratory_rate, values: {{0m: 22}}}}
      - {{metric: heart_rate, values: {{0m: 115}}}}
      - {{metric: temperature, values: {{0m: 38.5}}}}
      - {{metric: spo2, values: {{0m: 97}}}}
      - {{metric: on_oxygen, values: {{0m: false}}}}
      - {{metric: systolic_bp, values: {{0m: 120}}}}
      - {{metric: consciousness, values: {{0m: A}}}}
    expect:
      - at: 0m
        alerts:
          - {{rule_id: news2, severity: high}}
          - {{rule_id: patient_concern, severity: medium}}
  - name: right expectation
    patient: {{admitted: 0m}}
    series: [{{metric: consciousness, values: {{0m: A}}}}]
    expect:
      - at: 10m
        alerts: [{{rule_id: news2_incomplete, severity: low}}]
"""


def test_default_rule_set_passes_its_golden_tests() -> None:
    report = run_files([DEFAULT_TESTS])
    assert report.passed, report.text()
    assert report.passed_cases >= 10


def test_cli_runs_golden_file(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["rules", "test", str(DEFAULT_TESTS)]) == 0
    assert "0 failed" in capsys.readouterr().out


def test_failing_case_exits_1_with_a_diff(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "bad.test.yaml"
    path.write_text(FAILING)
    assert main(["rules", "test", str(path)]) == 1
    out = capsys.readouterr().out
    assert f"FAIL {path}: wrong expectations" in out
    assert "  at 2026-11-22T08:00:00+00:00 (+0:00:00):" in out
    assert "  ~ expected:   news2 (high)\n    got:        news2 (medium)" in out
    assert "  - missing:    patient_concern (medium)" in out
    assert f"ok   {path}: right expectation" in out
    assert out.rstrip().endswith("1 passed, 1 failed")


def test_unexpected_alert_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "quiet.test.yaml"
    path.write_text(
        f"rule_set: {DEFAULT_RULESET_PATH}\ntests:\n  - name: expects silence\n"
        "    patient: {admitted: 0m}\n    series: [{metric: consciousness, values: {0m: V}}]\n"
        "    expect: [{at: 0m, alerts: []}]\n"
    )
    assert "  + unexpected: news2 (medium)" in run_files([path]).text()  # "at least 3": V scores 3 at once


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("rule_set: missing.yaml\ntests: [{name: a, expect: [{at: 0m, alerts: []}]}]", "missing.yaml"),
        ("rule_set: x.yaml\ntests: [{name: a, expect: [{at: soon, alerts: []}]}]", "'soon' is neither an offset"),
        ("rule_set: x.yaml\ntests: [{name: a, expect: []}]", "tests.0.expect"),
    ],
)
def test_broken_files_fail_with_an_error(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "broken.test.yaml"
    path.write_text(content)
    report = run_files([path])
    assert not report.passed
    assert message in report.text()
    assert report.text().startswith("ERROR ")
