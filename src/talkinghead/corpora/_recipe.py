"""Glue shared by the recipe modules (not public)."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from .pipeline import PrepareResult, prepare, split_prepare_kwargs


def run_recipe(
    corpus: str,
    scan: Callable,
    corpus_dir: str | os.PathLike,
    output_dir: str | os.PathLike,
    num_jobs: int,
    opts: dict,
) -> PrepareResult:
    """List the recordings with ``scan(corpus_dir, **recipe_opts)`` and prepare them."""
    import inspect

    from ..errors import InvalidArgumentError

    pipe, rest = split_prepare_kwargs(opts)
    known = set(inspect.signature(scan).parameters) - {"corpus_dir"}
    unknown = sorted(set(rest) - known)
    if unknown:
        raise InvalidArgumentError(
            f"options {unknown} are not known to the {corpus} recipe (it takes "
            f"{sorted(known) or 'no options of its own'} and the prepare options)"
        )
    recs = scan(corpus_dir, **rest)
    return prepare(recs, output_dir, corpus=corpus, num_jobs=num_jobs, **pipe)


def rel_id(path: Path, root: Path) -> str:
    """Id of a file: its path relative to ``root`` without the extension, with '/'."""
    rel = Path(os.path.relpath(path, root))
    return rel.with_suffix("").as_posix()


def first_level(path: Path, root: Path) -> str | None:
    """The first folder of ``path`` below ``root`` (None for a file directly in ``root``)."""
    parts = Path(os.path.relpath(path, root)).parts
    return parts[0] if len(parts) > 1 else None
