"""Keep the CPU busy on purpose, for a bounded time: `python3 scripts/busy.py [--workers N] [--minutes M]`.

The test suite must pass on a busy machine (a CI runner or a laptop doing other work), so
scripts/test-under-load.sh runs `make test` beside this. Each worker spins at normal priority until the
deadline; the whole thing stops itself then, on SIGTERM or SIGINT, or when the process that started it
goes away, and stops only its own workers, by pid. Standard library only: it runs before any venv exists.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import sys
import time
from types import FrameType


def spin(deadline: float, parent: int) -> None:
    """Busy until `deadline`, checking now and then that our starter is still there."""
    n = 0
    while time.monotonic() < deadline:
        n += 1
        if n % 2_000_000 == 0 and os.getppid() != parent:
            return


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 2, help="busy processes (default: cores)")
    parser.add_argument("--minutes", type=float, default=60.0, help="stop after this long (default 60)")
    args = parser.parse_args(argv)
    if args.workers < 1 or not 0 < args.minutes <= 24 * 60:
        parser.error("--workers must be >= 1 and --minutes in (0, 1440]")
    deadline = time.monotonic() + args.minutes * 60
    starter, me = os.getppid(), os.getpid()
    pids = []
    for _ in range(args.workers):
        pid = os.fork()
        if pid == 0:
            spin(deadline, me)
            os._exit(0)
        pids.append(pid)

    def stop(_signum: int, _frame: FrameType | None) -> None:
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    print(
        f"busy: {args.workers} workers for at most {args.minutes:g} min (pids {' '.join(map(str, pids))})", flush=True
    )
    while pids:
        try:
            done, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            break
        if done:
            pids.remove(done)
        elif os.getppid() != starter:  # our starter went away: so do we
            stop(signal.SIGTERM, None)
        else:
            time.sleep(1)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
