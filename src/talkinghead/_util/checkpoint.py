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
