"""Checks of a command's output paths, made before any work, and the translation of
an ``OSError`` met while writing an output into one ``name=value must ...`` error.

Every CLI command calls :func:`check_io` first with its inputs and outputs:

- an output file must not be a directory, must be in a folder that exists or can be
  created (no file in the way) and that the user may write to;
- an output folder must not be a file;
- no output may be (or, for a folder, contain by being equal to) one of the inputs,
  after resolving links and ``..``; and two outputs may not be the same file.

Existing outputs are replaced atomically (see :mod:`talkinghead._util.atomic`): the
old file stays intact until the new one is complete. The format of an output (its
extension) is checked by the commands themselves; these checks only look at where
the output goes, so both compose in any order.
"""

from __future__ import annotations

import errno
import os
from collections.abc import Mapping
from pathlib import Path

from ..errors import InvalidArgumentError, OutputError

__all__ = ["check_output_file", "check_output_dir", "check_io", "output_error"]

PathLike = str | os.PathLike


def _resolve(p: PathLike) -> Path:
    return Path(os.path.abspath(os.path.expanduser(os.fspath(p)))).resolve(strict=False)


def _same(a: PathLike, b: PathLike) -> bool:
    """Whether ``a`` and ``b`` name the same file (links, ``..``, hard links)."""
    try:
        if os.path.exists(a) and os.path.exists(b):
            return os.path.samefile(a, b)
    except OSError:
        pass
    return _resolve(a) == _resolve(b)


def _check_parent(path: Path, name: str, shown: str) -> None:
    """The nearest existing ancestor of ``path`` must be a writable folder."""
    parent = _resolve(path).parent
    while not parent.exists():
        if parent.parent == parent:
            break
        parent = parent.parent
    # a file where a folder is needed (``-o notes.txt/out.mp4``)
    if parent.exists() and not parent.is_dir():
        raise InvalidArgumentError(
            f"{name}={shown!r} must be in a folder, but {str(parent)!r} is a file"
        )
    if not os.access(parent, os.W_OK | os.X_OK):
        raise InvalidArgumentError(
            f"{name}={shown!r} must be in a folder you can write to ({str(parent)!r} is not "
            "writable)"
        )


def check_output_file(path: PathLike, *, name: str = "output") -> Path:
    """Check that ``path`` can be written as a file (see the module docstring).

    Raises
    ------
    InvalidArgumentError
        ``name='path' must ...``: a directory, a file in the way of its folder, or a
        folder that is not writable.
    """
    shown = os.fspath(path)
    p = Path(shown)
    if not shown or shown.endswith(("/", os.sep)) or p.is_dir():
        raise InvalidArgumentError(f"{name}={shown!r} must be a file path, not a directory")
    _check_parent(p, name, shown)
    return p


def check_output_dir(path: PathLike, *, name: str = "out_dir") -> Path:
    """Check that ``path`` is, or can be created as, a writable folder."""
    shown = os.fspath(path)
    p = Path(shown)
    if not shown:
        raise InvalidArgumentError(f"{name}='' must be a folder path")
    if p.exists() and not p.is_dir():
        raise InvalidArgumentError(f"{name}={shown!r} must be a folder, but it is a file")
    if p.is_dir():
        if not os.access(p, os.W_OK | os.X_OK):
            raise InvalidArgumentError(f"{name}={shown!r} must be a folder you can write to")
    else:
        _check_parent(p, name, shown)
    return p


def check_io(
    *,
    inputs: Mapping[str, PathLike | list | tuple | None] = {},  # noqa: B006 - read only
    files: Mapping[str, PathLike | None] = {},  # noqa: B006
    dirs: Mapping[str, PathLike | None] = {},  # noqa: B006
) -> None:
    """Check a command's outputs against each other and its inputs, before any work.

    Parameters
    ----------
    inputs : mapping name -> path, list of paths or None
        Files and folders the command reads (None: not given).
    files, dirs : mapping name -> path or None
        Output files and output folders (None: not given). ``name`` is how the user
        spells the option (``--params``, ``output``), used in the messages.

    Raises
    ------
    InvalidArgumentError
        ``name='path' must ...`` for the first problem found.
    """
    outs = {k: v for k, v in files.items() if v is not None}
    out_dirs = {k: v for k, v in dirs.items() if v is not None}
    ins = [(k, v) for k, vs in inputs.items()
           for v in (vs if isinstance(vs, list | tuple) else [vs]) if v is not None]  # fmt: skip
    for k, v in outs.items():
        check_output_file(v, name=k)
    for k, v in out_dirs.items():
        check_output_dir(v, name=k)
    every = list(outs.items()) + list(out_dirs.items())
    for k, v in every:
        for ki, vi in ins:
            if _same(v, vi):
                raise InvalidArgumentError(
                    f"{k}={os.fspath(v)!r} must not be the input "
                    f"{ki}={os.fspath(vi)!r} (it would be overwritten)"
                )
    for i, (k, v) in enumerate(every):
        for k2, v2 in every[i + 1 :]:
            if _same(v, v2):
                raise InvalidArgumentError(
                    f"{k}={os.fspath(v)!r} must differ from {k2}={os.fspath(v2)!r} "
                    "(two outputs in one file)"
                )


_WHY = {
    errno.ENOSPC: "the disk is full",
    errno.EDQUOT: "the disk quota is exhausted",
    errno.EROFS: "the file system is read-only",
    errno.EACCES: "permission denied",
    errno.EPERM: "permission denied",
    errno.EISDIR: "it is a directory",
    errno.ENOTDIR: "a part of the path is not a folder",
    errno.ENAMETOOLONG: "the name is too long",
    errno.EFBIG: "the file is too large for the file system",
}


def output_error(path: PathLike, err: OSError, *, name: str = "output") -> OutputError:
    """An :class:`~talkinghead.errors.OutputError` for ``err`` met while writing ``path``."""
    why = _WHY.get(err.errno or -1)
    if why is None and err.errno is None and _nearly_full(path):
        why = "the disk is full"  # numpy's short write: "N requested and M written"
    detail = f"[Errno {err.errno}] {err.strerror}" if err.errno is not None else str(err)
    return OutputError(
        f"{name}={os.fspath(path)!r} must be writable: {why or detail} ({detail}); "
        "nothing was written"
    )


def _nearly_full(path: PathLike) -> bool:
    import shutil

    p = _resolve(path).parent
    while not p.exists() and p.parent != p:
        p = p.parent
    try:
        return shutil.disk_usage(p).free < (1 << 20)
    except OSError:
        return False
