"""Recipe for SAVEE (Surrey Audio-Visual Expressed Emotion).

Layout: ``CORPUS_DIR/<speaker>/<emotion><nn>.avi`` (``DC/a01.avi``, ``JK/sa15.avi``):
speaker folder (DC, JE, JK, KL); emotion code a anger, d disgust, f fear, h happiness,
n neutral, sa sadness, su surprise; then the sentence number.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from ..errors import InvalidArgumentError
from ._recipe import first_level, rel_id, run_recipe
from .manifest import Recording
from .pipeline import PrepareResult, find_videos, paired_audio

__all__ = ["parse_savee", "scan_savee", "prepare_savee", "EMOTIONS"]

EMOTIONS = {
    "a": "anger",
    "d": "disgust",
    "f": "fear",
    "h": "happiness",
    "n": "neutral",
    "sa": "sadness",
    "su": "surprise",
}


def parse_savee(stem: str) -> tuple[str, int]:
    """``(emotion, number)`` of a SAVEE clip name (``"sa03"`` -> ``("sadness", 3)``).

    Raises
    ------
    InvalidArgumentError
        Not an emotion code followed by a number.
    """
    m = re.fullmatch(r"(sa|su|a|d|f|h|n)(\d+)", stem.lower())
    if m is None:
        raise InvalidArgumentError(
            f"name={stem!r} must be an emotion code {sorted(EMOTIONS)} and a number (SAVEE)"
        )
    return EMOTIONS[m.group(1)], int(m.group(2))


def scan_savee(corpus_dir: str | os.PathLike) -> list[Recording]:
    """List SAVEE clips with speaker and emotion."""
    root = Path(corpus_dir)
    recs = []
    for v in find_videos(root):
        extra = {}
        try:
            emotion, num = parse_savee(v.stem)
            extra["number"] = num
        except InvalidArgumentError as e:
            emotion = None
            extra["error"] = str(e)
        recs.append(
            Recording(
                id=rel_id(v, root),
                video=str(v),
                audio=paired_audio(v),
                speaker=first_level(v, root) or v.parent.name,
                emotion=emotion,
                corpus="savee",
                extra=extra,
            )
        )
    return recs


def prepare_savee(
    corpus_dir: str | os.PathLike, output_dir: str | os.PathLike, num_jobs: int = 1, **opts
) -> PrepareResult:
    """Prepare SAVEE clips (see the module docstring)."""
    return run_recipe("savee", scan_savee, corpus_dir, output_dir, num_jobs, opts)
