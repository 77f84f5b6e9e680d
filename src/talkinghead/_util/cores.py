"""How many cores a short job may use now (thread counts for BLAS and CTranslate2)."""

from __future__ import annotations

import os

__all__ = ["idle_cores"]


def idle_cores(loadavg: str | None = None, n_cores: int | None = None) -> int:
    """Cores free for this process now: all of its cores less the other runnable tasks
    (``/proc/loadavg``'s running count), and 1 when the last minute's load average already
    fills them (a momentary lull on a busy machine is not idle) or where that is unknown."""
    try:
        n = len(os.sched_getaffinity(0)) if n_cores is None else int(n_cores)
        if loadavg is None:
            with open("/proc/loadavg") as f:
                loadavg = f.read()
        fields = loadavg.split()
        load, running = float(fields[0]), int(fields[3].split("/")[0])
    except (AttributeError, OSError, ValueError, IndexError):
        return 1
    if load >= n - 0.5:
        return 1
    return max(1, min(n, n - (running - 1)))  # ``running`` counts this process
