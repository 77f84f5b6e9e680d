"""Signals: SIGTERM unwinds like Ctrl-C (so temporary files are removed), and worker
processes die with their parent.

- :func:`terminate_raises` (used by the CLI's ``main``) turns SIGTERM into the
  :class:`Terminated` exception while a command runs, so every ``atomic_path`` on the
  stack removes its temporary file, exactly as for ``KeyboardInterrupt`` (SIGINT).
- :func:`worker_init` is the initializer of ``prepare``'s worker processes: on Linux
  the kernel sends the worker SIGTERM when its parent dies (``PR_SET_PDEATHSIG``), and
  elsewhere a thread watches the parent's pid; on SIGTERM the worker removes the
  temporary files it is writing and exits at once (SIGINT is left to the parent).
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading
from collections.abc import Iterator

from .atomic import remove_live_temporaries

__all__ = ["Terminated", "terminate_raises", "worker_init", "set_parent_death_signal"]

PR_SET_PDEATHSIG = 1


class Terminated(BaseException):  # noqa: N818 - like KeyboardInterrupt, not an error
    """Raised by the SIGTERM handler of :func:`terminate_raises`."""


def _raise_terminated(signum, frame):  # noqa: ARG001
    raise Terminated(signum)


@contextlib.contextmanager
def terminate_raises() -> Iterator[None]:
    """While inside, SIGTERM raises :class:`Terminated` (main thread only; else a no-op)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, _raise_terminated)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def set_parent_death_signal(sig: int = signal.SIGTERM) -> bool:
    """Ask the kernel to send ``sig`` to this process when its parent dies (Linux)."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl(PR_SET_PDEATHSIG, int(sig), 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


def _die_on_sigterm(signum, frame):  # noqa: ARG001
    # no import here: the signal may arrive in the middle of another import
    try:
        remove_live_temporaries()
    finally:
        os._exit(128 + signum)


def _watch_parent(parent_pid: int, interval: float = 0.5) -> None:
    import time

    while True:
        time.sleep(interval)
        if os.getppid() != parent_pid:
            _die_on_sigterm(signal.SIGTERM, None)


def worker_init(parent_pid: int) -> None:
    """Initializer of a worker process: die (cleanly) with the parent ``parent_pid``."""
    signal.signal(signal.SIGTERM, _die_on_sigterm)
    # Ctrl-C reaches the whole process group: the parent gets KeyboardInterrupt and
    # SIGTERMs its workers (so the user reads "interrupted", not "a worker died")
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if not set_parent_death_signal(signal.SIGTERM):
        threading.Thread(target=_watch_parent, args=(parent_pid,), daemon=True).start()
    if os.getppid() != parent_pid:  # the parent died before the death signal was set
        _die_on_sigterm(signal.SIGTERM, None)
