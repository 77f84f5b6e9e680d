"""Recipe for any folder of talking-face videos.

Layout: ``CORPUS_DIR/<speaker>/.../clip.mp4`` (speaker = first-level subfolder) or
``CORPUS_DIR/clip.mp4`` (one speaker, named ``speaker=`` or after the folder). A
``.wav``/``.flac`` with the video's stem is used as its audio; a ``.txt`` with the stem
as its transcript (first line).
"""

from __future__ import annotations

import os
from pathlib import Path

from ._recipe import first_level, rel_id, run_recipe
from .manifest import Recording
from .pipeline import PrepareResult, find_videos, paired_audio

__all__ = ["scan_folder", "prepare_folder"]


def scan_folder(corpus_dir: str | os.PathLike, *, speaker: str | None = None) -> list[Recording]:
    """List the videos of a folder as recordings (see the module docstring)."""
    root = Path(corpus_dir)
    recs = []
    for v in find_videos(root):
        spk = first_level(v, root) or speaker or root.resolve().name
        txt = v.with_suffix(".txt")
        transcript = None
        if txt.is_file():
            lines = txt.read_text(encoding="utf-8", errors="replace").strip().splitlines()
            transcript = lines[0].strip() if lines else None
        recs.append(
            Recording(
                id=rel_id(v, root),
                video=str(v),
                audio=paired_audio(v),
                speaker=spk,
                transcript=transcript,
                corpus="folder",
            )
        )
    return recs


def prepare_folder(
    corpus_dir: str | os.PathLike, output_dir: str | os.PathLike, num_jobs: int = 1, **opts
) -> PrepareResult:
    """Prepare a folder of videos; ``opts``: ``speaker=`` and any :func:`prepare` option."""
    return run_recipe("folder", scan_folder, corpus_dir, output_dir, num_jobs, opts)
