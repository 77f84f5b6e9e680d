"""Recipe for one person: long video(s) cut into training windows (per-person fine-tuning).

As in Yi et al. 2020, a few minutes (or less) of one person are cut into clips of
``window`` frames (default 100) starting every ``window - overlap`` frames, for
fine-tuning a model to that person. ``CORPUS_DIR`` may be one video file or a folder of
videos of the same person. Tracking and features run once per video; the windows are
cut from them (a last window shorter than ``window // 2`` is dropped and logged in
``qc_report.json`` via the clip count).
"""

from __future__ import annotations

import os
from pathlib import Path

from ..errors import InvalidArgumentError
from .manifest import Recording
from .pipeline import PrepareResult, find_videos, paired_audio, prepare, split_prepare_kwargs

__all__ = ["scan_person", "prepare_person", "DEFAULT_WINDOW"]

DEFAULT_WINDOW = 100


def scan_person(corpus_dir: str | os.PathLike, *, speaker: str | None = None) -> list[Recording]:
    """The video(s) of one person: ``corpus_dir`` is a video file or a folder of videos."""
    p = Path(corpus_dir)
    videos = [p] if p.is_file() else find_videos(p)
    spk = speaker or (p.stem if p.is_file() else p.resolve().name)
    root = p.parent if p.is_file() else p
    return [
        Recording(
            id=Path(os.path.relpath(v, root)).with_suffix("").as_posix(),
            video=str(v),
            audio=paired_audio(v),
            speaker=spk,
            corpus="person",
        )
        for v in videos
    ]


def prepare_person(
    corpus_dir: str | os.PathLike,
    output_dir: str | os.PathLike,
    num_jobs: int = 1,
    *,
    window: int = DEFAULT_WINDOW,
    overlap: int = 0,
    speaker: str | None = None,
    **opts,
) -> PrepareResult:
    """Cut one person's video(s) into windows of ``window`` frames overlapping by ``overlap``."""
    if isinstance(overlap, bool) or not isinstance(overlap, int) or not 0 <= overlap < window:
        raise InvalidArgumentError(f"overlap={overlap!r} must be an int in [0, window={window})")
    pipe, rest = split_prepare_kwargs(opts)
    if rest:
        raise InvalidArgumentError(f"options {sorted(rest)} are not known to the person recipe")
    recs = scan_person(corpus_dir, speaker=speaker)
    return prepare(
        recs,
        output_dir,
        corpus="person",
        num_jobs=num_jobs,
        window=window,
        hop=window - overlap,
        **pipe,
    )
