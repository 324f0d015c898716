"""`vward news2` starts without the platform's libraries: at the bedside it must answer in under 0.3 s,
and importing the API, dashboard, database and broker clients takes over 2 s (bench/cli_startup.py)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.support.waiting import budget
from vward import admin_cli, cli
from vward.bootstrap import ROLES
from vward.embedded import BROKER_CHOICES
from vward.storage.device_credentials import CredentialKind

HEAVY = (
    "fastapi",
    "starlette",
    "uvicorn",
    "dash",
    "plotly",
    "asyncpg",
    "paho",
    "httpx",
    "pydantic",
    "pydantic_settings",
    "yaml",
    "argon2",
    "asyncio",
)
NEWS2 = ["news2", "--rr", "16", "--spo2", "97", "--sbp", "120", "--pulse", "70", "--acvpu", "A", "--temp", "37.0"]
# Runs the command as the `vward` entry point does, then names every heavy package it loaded.
PROBE = f"""
import sys
from vward.cli import main
code = main({NEWS2!r})
print([m for m in sys.modules if m.split(".")[0] in {HEAVY!r}])
sys.exit(code)
"""


def test_news2_loads_none_of_the_platform() -> None:
    done = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, timeout=budget(60))
    assert done.returncode == 0, done.stderr
    answer, loaded = done.stdout.splitlines()
    assert json.loads(answer)["score"] == 0
    assert loaded == "[]"


def test_parser_choices_are_the_modules_own() -> None:
    assert cli.ROLES == ROLES
    assert cli.BROKER_CHOICES == BROKER_CHOICES
    assert tuple(k.value for k in CredentialKind) == admin_cli.CREDENTIAL_KINDS


def test_a_settings_error_still_exits_2(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.delenv("VWARD_DATABASE_URL", raising=False)
    assert cli.main(["rules", "preview", "candidate.yaml"]) == 2
    assert capsys.readouterr().err == "vward: vward rules preview needs VWARD_DATABASE_URL\n"


def test_other_errors_still_propagate(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(_: object) -> None:
        raise RuntimeError("not a settings problem")

    monkeypatch.setattr("rules.golden.run_files", broken)
    with pytest.raises(RuntimeError, match="not a settings problem"):
        cli.main(["rules", "test", "any.yaml"])
