"""Reading checkpoint folders (``config.json`` + ``model.safetensors``) with clear errors."""

from __future__ import annotations

import json
import os
from pathlib import Path

from ..errors import CheckpointError


def read_checkpoint_config(
    directory: str | os.PathLike, *, fmt: str, version: int, what: str = "model checkpoint"
) -> dict:
    """The parsed ``config.json`` of a checkpoint folder, checked for ``fmt`` and ``version``.

    Raises
    ------
    CheckpointError
        The file is missing, unreadable, not JSON, or of another format or version
        (the message names the file).
    """
    cfg_path = Path(directory) / "config.json"
    try:
        cfg = json.loads(cfg_path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise CheckpointError(f"path='{cfg_path}' must exist ({what})") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise CheckpointError(f"path='{cfg_path}' must be a readable JSON file: {e}") from None
    if not isinstance(cfg, dict) or cfg.get("format") != fmt:
        raise CheckpointError(f"path='{cfg_path}' must have format={fmt!r}")
    if cfg.get("version") != version:
        raise CheckpointError(
            f"path='{cfg_path}' has version={cfg.get('version')!r}; must be {version}"
        )
    return cfg


def read_checkpoint_weights(
    directory: str | os.PathLike, *, what: str = "model weights", backend: str = "numpy"
) -> dict:
    """The tensors of a checkpoint folder's ``model.safetensors`` (numpy or torch arrays).

    Raises
    ------
    CheckpointError
        The file is missing or not a valid safetensors file (the message names it).
    """
    if backend == "torch":
        from safetensors.torch import load_file
    else:
        from safetensors.numpy import load_file
    w_path = Path(directory) / "model.safetensors"
    if not w_path.is_file():
        raise CheckpointError(f"path='{w_path}' must exist ({what})")
    try:
        return load_file(str(w_path))
    except Exception as e:  # safetensors raises its own error types
        raise CheckpointError(f"path='{w_path}' must be a valid safetensors file: {e}") from e


def checkpoint_format(directory: str | os.PathLike) -> str | None:
    """The ``format`` field of a checkpoint folder's ``config.json`` (None if unreadable)."""
    try:
        cfg = json.loads((Path(directory) / "config.json").read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return None
    return cfg.get("format") if isinstance(cfg, dict) else None


#: The trainer's state file inside a resumable ``last/`` checkpoint.
TRAINER_STATE = "trainer_state.json"


def save_last_checkpoint(out_dir: Path, write) -> Path:
    """Replace ``out_dir/last`` with a new resumable checkpoint, never leaving none.

    ``write(folder)`` fills a fresh ``last.new`` folder; it is then swapped in
    (``last`` -> ``last.old`` -> removed). A kill at any moment leaves at least one
    complete folder that :func:`find_last_checkpoint` finds.
    """
    import shutil

    out_dir = Path(out_dir)
    new, last, old = out_dir / "last.new", out_dir / "last", out_dir / "last.old"
    shutil.rmtree(new, ignore_errors=True)
    write(new)
    if last.exists():
        shutil.rmtree(old, ignore_errors=True)
        last.rename(old)
    new.rename(last)
    shutil.rmtree(old, ignore_errors=True)
    return last


def find_last_checkpoint(out_dir: Path) -> Path | None:
    """The complete resumable checkpoint folder in ``out_dir`` (``last``, or a swap's leftover)."""
    for name in ("last", "last.new", "last.old"):
        p = Path(out_dir) / name
        if (p / TRAINER_STATE).is_file() and (p / "config.json").is_file():
            return p
    return None
