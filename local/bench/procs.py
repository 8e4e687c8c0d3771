"""What the processes cost, read from /proc: peak memory per function, and CPU of the bench vs the rest."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

PROC = Path("/proc")
TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _stat_fields(pid: int) -> list[str] | None:
    """/proc/PID/stat from the state field on (the command name may hold spaces and parentheses)."""
    try:
        raw = (PROC / str(pid) / "stat").read_text()
    except OSError:
        return None
    return raw.rsplit(")", 1)[1].split()


def parents() -> dict[int, int]:
    """pid -> parent pid of every process."""
    found = {}
    for entry in PROC.iterdir():
        if entry.name.isdigit():
            fields = _stat_fields(int(entry.name))
            if fields:
                found[int(entry.name)] = int(fields[1])
    return found


def tree(root: int, parent_of: dict[int, int] | None = None) -> list[int]:
    """root and all its descendants."""
    parent_of = parents() if parent_of is None else parent_of
    children: dict[int, list[int]] = {}
    for pid, ppid in parent_of.items():
        children.setdefault(ppid, []).append(pid)
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo.extend(children.get(pid, []))
    return found


def status_kb(pid: int, field: str) -> int | None:
    """A kB field of /proc/PID/status (VmHWM: peak resident memory; VmRSS: resident now)."""
    try:
        for line in (PROC / str(pid) / "status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        return None
    return None


def cpu_seconds(pid: int) -> float:
    """CPU time of a process and of its reaped children."""
    fields = _stat_fields(pid)
    if not fields:
        return 0.0
    return sum(int(v) for v in fields[11:15]) / TICKS


def machine_busy_seconds() -> float:
    """CPU seconds the whole machine has spent not idle since boot (all cores)."""
    values = [int(v) for v in (PROC / "stat").read_text().splitlines()[0].split()[1:]]
    idle = values[3] + (values[4] if len(values) > 4 else 0)
    return (sum(values[:8]) - idle) / TICKS


class CpuMeter:
    """Cores used over an interval: by the bench (this process and everything it started) and by the rest."""

    def __init__(self):
        self.me = os.getpid()
        self.start = self._read()

    def _read(self) -> tuple[float, float, float]:
        return time.monotonic(), machine_busy_seconds(), sum(cpu_seconds(p) for p in tree(self.me))

    def read(self) -> dict[str, float]:
        now, busy, ours = self._read()
        seconds = max(now - self.start[0], 1e-9)
        machine = (busy - self.start[1]) / seconds
        bench = (ours - self.start[2]) / seconds
        return {"seconds": round(seconds, 1), "machine_cores": round(machine, 2), "bench_cores": round(bench, 2),
                "others_cores": round(max(0.0, machine - bench), 2)}  # fmt: skip


class TreeCpu:
    """CPU seconds of named process trees over an interval (a tree: a root pid and its descendants).

    A process that starts within the interval counts from zero; one that ends counts through its
    parent when the parent reaps it (cutime), as PostgreSQL's postmaster does its backends.
    """

    def __init__(self, roots: dict[str, int]):
        self.roots = dict(roots)
        self.started = time.monotonic()
        self.machine = machine_busy_seconds()
        self.start = self._read()

    def _read(self) -> dict[str, float]:
        parent_of = parents()
        return {name: sum(cpu_seconds(p) for p in tree(root, parent_of)) for name, root in self.roots.items()}

    def read(self) -> dict[str, float]:
        """Cores each tree used on average over the interval, and the whole machine's."""
        seconds = max(time.monotonic() - self.started, 1e-9)
        now = self._read()
        used = {name: round((now[name] - self.start[name]) / seconds, 3) for name in self.roots}
        return {**used, "machine": round((machine_busy_seconds() - self.machine) / seconds, 3), "seconds": round(seconds, 3)}


class MemorySampler:
    """Samples the peak resident memory (VmHWM) of every process of each named tree, every interval."""

    def __init__(self, interval_seconds: float = 0.5):
        self.roots: dict[str, int] = {}
        self.peaks: dict[str, dict[int, int]] = {}
        self.interval = interval_seconds
        self.stopping = threading.Event()
        self.lock = threading.Lock()
        self.thread = threading.Thread(target=self._loop, name="memory-sampler", daemon=True)

    def watch(self, name: str, pid: int) -> None:
        with self.lock:
            self.roots[name] = pid

    def sample(self) -> None:
        parent_of = parents()
        with self.lock:
            roots = dict(self.roots)
        for name, root in roots.items():
            for pid in tree(root, parent_of):
                peak = status_kb(pid, "VmHWM")
                if peak is not None:
                    with self.lock:
                        per = self.peaks.setdefault(name, {})
                        per[pid] = max(per.get(pid, 0), peak)

    def _loop(self) -> None:
        while not self.stopping.wait(self.interval):
            self.sample()

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self.stopping.set()
        self.thread.join(timeout=5)
        self.sample()

    def peak_mb(self) -> dict[str, dict]:
        """Per tree: the largest peak of any one process, and each process's peak, in MB."""
        with self.lock:
            return {
                name: {"max_mb": max(per.values()) / 1024, "processes": {str(pid): round(kb / 1024, 1) for pid, kb in per.items()}}
                for name, per in self.peaks.items()
                if per
            }


class ResidentPeak:
    """The peak resident memory (VmRSS) of each process of a tree while a block runs, sampled every interval.

    Unlike VmHWM, which keeps a process's peak since it started, this is the peak of the block alone.
    """

    def __init__(self, root: int, interval_seconds: float = 0.05):
        self.root, self.interval = root, interval_seconds
        self.peaks: dict[int, int] = {}  # pid -> kB
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._loop, name="rss-sampler", daemon=True)

    def __enter__(self) -> ResidentPeak:
        self.sample()
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stopping.set()
        self.thread.join(timeout=5)

    def sample(self) -> None:
        for pid in tree(self.root):
            rss = status_kb(pid, "VmRSS")
            if rss is not None:
                self.peaks[pid] = max(self.peaks.get(pid, 0), rss)

    def _loop(self) -> None:
        while not self.stopping.wait(self.interval):
            self.sample()

    @property
    def max_mb(self) -> float:
        """The largest peak of any one process of the tree, in MB."""
        return max(self.peaks.values(), default=0) / 1024
