"""`vward sim` and `vward evaluate` options: faults by flag, clear refusals with exit code 2."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from device_sims.cli import register


def _parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="vward")
    register(parser.add_subparsers(dest="command", required=True))
    return parser.parse_args(argv)


def test_sim_options_and_fault_flags() -> None:
    args = _parse("sim", "--patients", "5", "--speed", "60", "--fault-duplicates", "0.1", "--fault-clock-skew", "0.2")
    assert (args.patients, args.speed, args.fault_duplicates, args.fault_clock_skew, args.fault_late) == (
        5,
        60.0,
        0.1,
        0.2,
        0.0,
    )


def test_sim_without_a_broker_is_refused(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.delenv("VWARD_MQTT_URL", raising=False)
    args = _parse("sim")
    assert args.func(args) == 2
    assert "--mqtt-url" in capsys.readouterr().err


@pytest.mark.parametrize("bad", [["--scenario-mix", "nonsense=1"], ["--fault-offline", "2"]])
def test_sim_refuses_bad_mixes_and_rates(bad: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    args = _parse("sim", "--mqtt-url", "mqtt://127.0.0.1:1", *bad)
    assert args.func(args) == 2
    assert capsys.readouterr().err.startswith("vward sim:")


def test_evaluate_refuses_a_missing_rule_set(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    args = _parse("evaluate", "--ruleset", str(tmp_path / "absent.yaml"), "--output", str(tmp_path / "r.md"))
    assert args.func(args) == 2
    assert "vward evaluate:" in capsys.readouterr().err
    assert not (tmp_path / "r.md").exists()
