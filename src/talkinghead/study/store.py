"""Append-only JSONL storage of sessions and answers, safe against crashes and concurrency.

:func:`append_jsonl` writes one whole line with a single ``write`` on a file opened with
``O_APPEND``, under an exclusive ``flock`` (several server processes may share the file),
then ``fsync`` s it: a reader sees every answer whole or not at all, and a crash loses at
most the line being written. :func:`read_jsonl` skips a torn last line.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

__all__ = ["append_jsonl", "read_jsonl"]

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: O_APPEND alone
    fcntl = None


def append_jsonl(path: str | os.PathLike, record: dict) -> None:
    """Append ``record`` as one JSON line to ``path`` (created if missing), durably.

    Parameters
    ----------
    path : path
    record : dict
        JSON-serialisable.
    """
    data = (json.dumps(record, sort_keys=True, allow_nan=False) + "\n").encode("utf-8")
    fd = os.open(os.fspath(path), os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        if fcntl is not None:
            fcntl.flock(fd, fcntl.LOCK_EX)
        view = memoryview(data)
        while view:
            n = os.write(fd, view)
            view = view[n:]
        os.fsync(fd)
    finally:
        if fcntl is not None:
            fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


def read_jsonl(path: str | os.PathLike) -> list[dict]:
    """The records of a JSONL file (empty list if it does not exist); lines that do not
    parse as a JSON object (a torn last line after a crash) are skipped."""
    p = Path(path)
    if not p.is_file():
        return []
    out = []
    for line in p.read_text(encoding="utf-8").splitlines():
        try:
            rec = json.loads(line)
        except json.JSONDecodeError:
            continue
        if isinstance(rec, dict):
            out.append(rec)
    return out
