"""`vward news2` as a user runs it: JSON on stdout, exit 2 for values argparse refuses."""

from __future__ import annotations

import json

import pytest

from rules.cli import main

NORMAL = ["--rr", "16", "--spo2", "97", "--sbp", "120", "--pulse", "70", "--acvpu", "A", "--temp", "37.0"]


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> dict[str, object]:
    assert main(["news2", *argv]) == 0
    data: dict[str, object] = json.loads(capsys.readouterr().out)
    return data


def test_complete_normal_set_scores_zero(capsys: pytest.CaptureFixture[str]) -> None:
    data = run(capsys, *NORMAL)
    assert set(data) == {"score", "band", "complete", "parameters"}
    assert (data["score"], data["band"], data["complete"]) == (0, "low", True)


def test_oxygen_and_scale2_are_scored(capsys: pytest.CaptureFixture[str]) -> None:
    data = run(capsys, *NORMAL, "--scale", "2", "--oxygen")
    assert (data["score"], data["band"]) == (2 + 3, "medium")


def test_omitted_argument_is_incomplete(capsys: pytest.CaptureFixture[str]) -> None:
    data = run(capsys, *NORMAL[:-2])
    assert (data["score"], data["band"], data["complete"]) == (None, None, False)
    parameters = data["parameters"]
    assert isinstance(parameters, dict)
    assert parameters["temperature"]["status"] == "missing"


def test_red_score_band(capsys: pytest.CaptureFixture[str]) -> None:
    data = run(capsys, *NORMAL[:-4], "--acvpu", "C", "--temp", "37.0")
    assert (data["score"], data["band"]) == (3, "low-medium")


@pytest.mark.parametrize(
    "bad", [["--acvpu", "X"], ["--spo2", "ninety"], ["--spo2", "101"], ["--scale", "3"], ["--temp", "60"]]
)
def test_invalid_values_exit_2(bad: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stopped:
        main(["news2", *bad])
    assert stopped.value.code == 2
    assert "error" in capsys.readouterr().err
