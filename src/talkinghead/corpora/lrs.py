"""Recipe for LRS2 / LRS3 (Lip Reading Sentences).

Layout: ``CORPUS_DIR/<group>/<video or speaker id>/00001.mp4`` with ``00001.txt`` whose
first line is ``Text:  SOME WORDS``. Speaker: the folder holding the clip (the YouTube
video id in LRS2, the speaker id in LRS3). Clips without a ``.txt`` keep
``transcript=None``.
"""

from __future__ import annotations

import os
from pathlib import Path

from ._recipe import rel_id, run_recipe
from .manifest import Recording
from .pipeline import PrepareResult, find_videos, paired_audio

__all__ = ["read_lrs_text", "scan_lrs", "prepare_lrs"]


def read_lrs_text(path: str | os.PathLike) -> tuple[str | None, dict]:
    """Transcript (lower case) and the other ``Key: value`` header lines of an LRS .txt."""
    transcript, meta = None, {}
    for line in Path(path).read_text(encoding="utf-8", errors="replace").splitlines():
        if not line.strip():
            break  # the word timings table follows an empty line
        key, sep, value = line.partition(":")
        if not sep:
            continue
        if key.strip().lower() == "text":
            transcript = " ".join(value.split()).lower()
        else:
            meta[key.strip().lower()] = value.strip()
    return transcript, meta


def scan_lrs(corpus_dir: str | os.PathLike) -> list[Recording]:
    """List LRS2/LRS3 clips with their transcripts."""
    root = Path(corpus_dir)
    recs = []
    for v in find_videos(root):
        txt = v.with_suffix(".txt")
        transcript, meta = read_lrs_text(txt) if txt.is_file() else (None, {})
        recs.append(
            Recording(
                id=rel_id(v, root),
                video=str(v),
                audio=paired_audio(v),
                speaker=v.parent.name if v.parent != root else root.name,
                transcript=transcript,
                corpus="lrs",
                extra=meta,
            )
        )
    return recs


def prepare_lrs(
    corpus_dir: str | os.PathLike, output_dir: str | os.PathLike, num_jobs: int = 1, **opts
) -> PrepareResult:
    """Prepare an LRS2/LRS3 folder (see the module docstring)."""
    return run_recipe("lrs", scan_lrs, corpus_dir, output_dir, num_jobs, opts)
