"""Run `vward` as a child process, as an operator would, and stop it the way systemd does."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from tests.support.waiting import Deadline, budget


@dataclass
class VwardProcess:
    args: Sequence[str]
    env: dict[str, str]
    log_path: Path
    proc: subprocess.Popen[bytes] | None = None
    _log: object = field(default=None, repr=False)

    def start(self) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith("VWARD_")}
        env.update(self.env)
        log = self.log_path.open("wb")
        self._log = log
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "vward.cli", *self.args], env=env, stdout=log, stderr=subprocess.STDOUT
        )

    def output(self) -> str:
        return self.log_path.read_text(errors="replace")

    def wait_http(self, url: str, timeout: float) -> None:
        """Until `url` answers 200; `timeout` is a budget (tests.support.waiting), lengthened on a slow runner."""
        deadline = Deadline(timeout, f"{url} answering")
        while not deadline.passed():
            assert self.proc is not None
            if self.proc.poll() is not None:
                raise AssertionError(f"vward exited with {self.proc.returncode}:\n{self.output()[-4000:]}")
            try:
                if httpx.get(url, timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise deadline.fail(f"vward's output:\n{self.output()[-4000:]}")

    def stop(self, timeout: float = 30) -> int:
        """SIGTERM, then wait; returns the exit code (SIGKILL only if it hangs, and then fails)."""
        assert self.proc is not None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=budget(timeout))
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                raise AssertionError(f"vward ignored SIGTERM:\n{self.output()[-4000:]}") from None
        return self.proc.returncode


def signed_in(base_url: str, username: str, password: str) -> httpx.Client:
    client = httpx.Client(base_url=base_url, timeout=budget(30))
    response = client.post("/api/v1/auth/token", data={"username": username, "password": password})
    response.raise_for_status()
    client.headers["Authorization"] = f"Bearer {response.json()['access_token']}"
    return client
