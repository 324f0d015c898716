"""CPU seconds (user + system) each part of a benchmark run spent, so a rate comes with what it cost.

On a 2-core machine every part of the run (publishers, broker, ingest, PostgreSQL) shares the same cores;
per-message CPU says which part a higher rate would need more of, and how many cores that rate needs.
"""

from __future__ import annotations

import os
import resource
from collections.abc import Mapping

import psutil


def _process_cpu(pid: int) -> float:
    try:
        times = psutil.Process(pid).cpu_times()
    except psutil.Error:
        return 0.0
    return float(times.user + times.system)


def _postgres_cpu() -> dict[int, float]:
    """Every PostgreSQL process on the machine (postmaster, backends, background workers)."""
    found: dict[int, float] = {}
    for proc in psutil.process_iter(["name"]):
        if proc.info["name"] == "postgres":
            found[proc.pid] = _process_cpu(proc.pid)
    return found


def _waited_children_cpu() -> float:
    """Child processes this process has waited for (a fleet once its result is read)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


class CpuMeter:
    """Started before a measured phase and read after it. `pids` are long-running processes by name;
    "clients" are the child processes waited for in between (fleets, a subscriber); "postgresql" counts a
    backend that exited in between only up to the start, so read the meter before stopping the processes
    whose connections matter."""

    def __init__(self, pids: Mapping[str, int]) -> None:
        self._pids = dict(pids)
        self._named = {name: _process_cpu(pid) for name, pid in self._pids.items()}
        self._postgres = _postgres_cpu()
        self._children = _waited_children_cpu()

    def read(self) -> dict[str, float]:
        spent = {name: _process_cpu(pid) - self._named[name] for name, pid in self._pids.items()}
        spent["clients"] = _waited_children_cpu() - self._children
        spent["postgresql"] = sum(cpu - self._postgres.get(pid, 0.0) for pid, cpu in _postgres_cpu().items())
        return {name: round(seconds, 2) for name, seconds in spent.items()}


def cost_report(spent: Mapping[str, float], messages: int, elapsed_s: float, target_rate: float) -> dict[str, object]:
    """CPU per 1,000 messages by part, the cores in use, and the cores `target_rate` messages/s would need."""
    per_message = {name: seconds / messages for name, seconds in spent.items()}
    return {
        "cpu_s": dict(spent),
        "cpu_ms_per_1000_messages": {name: round(s * 1e6, 1) for name, s in per_message.items()},
        "cores_in_use": round(sum(spent.values()) / elapsed_s, 2),
        "cores_needed_at_target": round(sum(per_message.values()) * target_rate, 2),
        "target_messages_per_s": target_rate,
        "machine_cores": os.cpu_count(),
    }
