"""Atomic file writes: write to a temporary file beside the target, then rename.

A crash or an exception never leaves a half-written output under the final name; an
existing output is replaced only once the new one is complete. The temporary file is
``.NAME.PID-XXXXXXXX.partEXT`` beside ``NAME``:

- on an exception (including ``KeyboardInterrupt`` and the CLI's SIGTERM handler) it is
  removed; :func:`remove_live_temporaries` removes those of this process from a signal
  handler that cannot unwind (a ``prepare`` worker);
- after a SIGKILL or a power cut it stays, and the next write of the same output removes
  it (its process is gone); those of a process still running are left alone.

An ``OSError`` while creating, writing or renaming the temporary file (full disk,
read-only folder) becomes :class:`~talkinghead.errors.OutputError`, a
``output='...' must be writable: ...`` message.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import tempfile
from collections.abc import Iterator
from pathlib import Path

__all__ = [
    "atomic_path",
    "clean_stale_temporaries",
    "remove_live_temporaries",
    "save_npz_atomic",
    "save_npy_atomic",
    "write_text_atomic",
]

#: temporary files this process is writing now (removed by :func:`remove_live_temporaries`)
_LIVE: set[str] = set()

#: errors of a write (as opposed to a read in the body) that are reported as the output's
WRITE_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EFBIG, errno.EIO,
                          errno.EACCES, errno.EPERM})  # fmt: skip


def _pid_alive(pid: int) -> bool:
    if pid == os.getpid():
        return False  # ours, and not in _LIVE (checked by the caller): a left-over
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's live process
        return True
    except OSError:
        return False
    return True


def clean_stale_temporaries(path: str | os.PathLike, ext: str | None = None) -> list[Path]:
    """Remove the left-over temporary files of ``path`` (of processes that are gone).

    Returns the paths removed. Temporary files of running processes (another write of
    the same output in progress) are kept.
    """
    path = Path(path)
    ext = ext if ext is not None else "".join(path.suffixes[-1:])
    stem, e = re.escape(path.stem), re.escape(ext)
    new = re.compile(rf"\.{stem}\.(\d+)-[a-z0-9_]{{8}}\.part{e}")
    old = re.compile(rf"\.{stem}\.[a-z0-9_]{{8}}\.part{e}")  # before the pid was recorded
    removed = []
    try:
        names = os.listdir(path.parent)
    except OSError:
        return removed
    for name in names:
        if not name.startswith(f".{path.stem}."):
            continue
        full = path.parent / name
        if str(full) in _LIVE:
            continue
        m = new.fullmatch(name)
        if (m and not _pid_alive(int(m.group(1)))) or (not m and old.fullmatch(name)):
            with contextlib.suppress(OSError):
                full.unlink()
                removed.append(full)
    return removed


def remove_live_temporaries() -> None:
    """Remove every temporary file this process is writing (for a signal handler)."""
    for tmp in list(_LIVE):
        with contextlib.suppress(OSError):
            os.unlink(tmp)
    _LIVE.clear()


def _output_error(path: Path, err: OSError):
    from .outputs import output_error

    return output_error(path, err)


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike, *, suffix: str | None = None) -> Iterator[Path]:
    """Yield a temporary path in the target's folder; rename it onto ``path`` on success.

    The temporary file keeps the target's extension (or ``suffix``) so that writers
    which pick a format from the extension (PyAV, numpy) behave as for the target.
    On an exception the temporary file is removed and ``path`` is left untouched.

    Raises
    ------
    OutputError
        The folder cannot be created or written, the disk is full (also when the
        writer in the ``with`` body meets it), or the rename fails.
    """
    from ..errors import TalkingHeadError

    path = Path(path)
    ext = suffix if suffix is not None else "".join(path.suffixes[-1:])
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        clean_stale_temporaries(path, ext)
        fd, tmp = tempfile.mkstemp(
            prefix=f".{path.stem}.{os.getpid()}-", suffix=f".part{ext}", dir=path.parent
        )
    except OSError as e:
        raise _output_error(path, e) from None
    os.close(fd)
    _LIVE.add(tmp)
    tmp_path = Path(tmp)
    try:
        try:
            yield tmp_path
        except OSError as e:
            # errno None: a short write reported by numpy ("N requested and M written")
            if isinstance(e, TalkingHeadError) or (e.errno is not None
                                                   and e.errno not in WRITE_ERRNOS):  # fmt: skip
                raise
            raise _output_error(path, e) from None
        try:
            # mkstemp creates 0600 files: give the output the usual permissions (umask applied)
            umask = os.umask(0)
            os.umask(umask)
            os.chmod(tmp_path, 0o666 & ~umask)
            os.replace(tmp_path, path)
        except OSError as e:
            raise _output_error(path, e) from None
    except BaseException:
        with contextlib.suppress(OSError):
            tmp_path.unlink()
        raise
    finally:
        _LIVE.discard(tmp)


def save_npz_atomic(path: str | os.PathLike, *, compress: bool = True, **arrays) -> Path:
    """Write ``arrays`` to an ``.npz`` at ``path`` atomically.

    ``compress``: deflate the members (``numpy.savez_compressed``); False stores them
    (``numpy.savez``: float32 face parameters shrink only ~2x, and deflating 60 s of them
    takes ~25 ms of a ~0.4 s command)."""
    import numpy as np

    path = Path(path)
    with atomic_path(path, suffix=".npz") as tmp:
        with open(tmp, "wb") as f:
            (np.savez_compressed if compress else np.savez)(f, **arrays)
    return path


def save_npy_atomic(path: str | os.PathLike, array) -> Path:
    """Write one array to ``.npy`` at ``path`` atomically."""
    import numpy as np

    path = Path(path)
    with atomic_path(path, suffix=".npy") as tmp:
        with open(tmp, "wb") as f:
            np.save(f, array)
    return path


def write_text_atomic(path: str | os.PathLike, text: str) -> Path:
    """Write ``text`` (UTF-8) to ``path`` atomically."""
    path = Path(path)
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return path
