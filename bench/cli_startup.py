"""Start-up of the bedside NEWS2 calculator: `vward news2 ...` run as a subprocess, against a 0.3 s target.

    python -m bench.cli_startup [--runs 10]

Each run is wall clock from spawn to exit, through the `vward` console script next to this interpreter.
The bare interpreter (`python -c pass`) is timed the same way, alternating with it in the same run, so a
busy machine shows in both; one untimed run of each warms the page cache first. Prints one JSON line:
medians, the ratio of the news2 median to the target, and the load average.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

TARGET_S = 0.3
VWARD = str(Path(sys.executable).with_name("vward"))
# The README's example: a medium score, every parameter given.
OBSERVATIONS = ["--rr", "22", "--spo2", "95", "--sbp", "105", "--pulse", "95", "--acvpu", "A", "--temp", "38.5"]
NEWS2 = [VWARD, "news2", *OBSERVATIONS]
BARE = [sys.executable, "-c", "pass"]


def timed(argv: list[str]) -> tuple[float, str]:
    """Seconds from spawn to exit, and what the command printed; a failed command stops the benchmark."""
    started = time.perf_counter()
    done = subprocess.run(argv, capture_output=True, text=True, check=True)
    return time.perf_counter() - started, done.stdout


def summary(seconds: list[float]) -> dict[str, float]:
    return {
        "median": round(statistics.median(seconds), 3),
        "min": round(min(seconds), 3),
        "max": round(max(seconds), 3),
    }


def main(runs: int) -> dict[str, Any]:
    _, answer = timed(NEWS2)
    score = json.loads(answer)["score"]  # the command must still answer, not just start
    timed(BARE)
    news2, bare = [], []
    for _ in range(runs):
        news2.append(timed(NEWS2)[0])
        bare.append(timed(BARE)[0])
    median = statistics.median(news2)
    return {
        "runs": runs,
        "news2_score": score,
        "news2_s": summary(news2),
        "python_pass_s": summary(bare),
        "target_s": TARGET_S,
        "ratio_to_target": round(median / TARGET_S, 2),
        "news2_above_python_s": round(median - statistics.median(bare), 3),
        "load_average_1min": round(os.getloadavg()[0], 2),
    }


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10, help="timed runs of each command (default 10)")
    print(json.dumps(main(parser.parse_args().runs)))
