"""Recipe for RAVDESS (Ryerson Audio-Visual Database of Emotional Speech and Song).

File names ``03-01-06-01-02-01-12.mp4``: modality (01 audio-video, 02 video only,
03 audio only) - vocal channel (01 speech, 02 song) - emotion - intensity (01 normal,
02 strong) - statement - repetition - actor. Audio-only files are not recordings; a
video-only file takes the audio of the matching ``03-...wav`` when the corpus has it.
"""

from __future__ import annotations

import os
from pathlib import Path

from ..errors import InvalidArgumentError
from ._recipe import rel_id, run_recipe
from .manifest import Recording
from .pipeline import PrepareResult, find_videos

__all__ = ["parse_ravdess", "scan_ravdess", "prepare_ravdess", "EMOTIONS", "STATEMENTS"]

EMOTIONS = {
    "01": "neutral",
    "02": "calm",
    "03": "happy",
    "04": "sad",
    "05": "angry",
    "06": "fearful",
    "07": "disgust",
    "08": "surprised",
}
STATEMENTS = {"01": "Kids are talking by the door", "02": "Dogs are sitting by the door"}
INTENSITIES = {"01": "normal", "02": "strong"}
CHANNELS = {"01": "speech", "02": "song"}
MODALITIES = {"01": "audio-video", "02": "video-only", "03": "audio-only"}


def parse_ravdess(stem: str) -> dict:
    """Fields of a RAVDESS file name (``"03-01-06-01-02-01-12"``).

    Raises
    ------
    InvalidArgumentError
        Not seven two-digit fields with known codes.
    """
    parts = stem.split("-")
    if len(parts) != 7 or not all(len(p) == 2 and p.isdigit() for p in parts):
        raise InvalidArgumentError(f"name={stem!r} must be seven 2-digit fields (RAVDESS)")
    mod, ch, emo, inten, stmt, rep, actor = parts
    if emo not in EMOTIONS or stmt not in STATEMENTS or inten not in INTENSITIES:
        raise InvalidArgumentError(f"name={stem!r} has an unknown emotion/statement/intensity")
    return {
        "modality": MODALITIES.get(mod, mod),
        "channel": CHANNELS.get(ch, ch),
        "emotion": EMOTIONS[emo],
        "intensity": INTENSITIES[inten],
        "transcript": STATEMENTS[stmt],
        "repetition": int(rep),
        "actor": f"Actor_{actor}",
    }


def scan_ravdess(corpus_dir: str | os.PathLike) -> list[Recording]:
    """List RAVDESS videos with emotion, intensity, statement and actor."""
    root = Path(corpus_dir)
    wavs = {p.stem: p for p in root.rglob("03-*.wav")}
    recs = []
    for v in find_videos(root):
        try:
            f = parse_ravdess(v.stem)
        except InvalidArgumentError as e:
            f = {
                "actor": None,
                "emotion": None,
                "intensity": None,
                "transcript": None,
                "error": str(e),
            }
        audio = str(v)
        if f.get("modality") == "video-only":
            w = wavs.get("03" + v.stem[2:])
            audio = str(w) if w is not None else None
        extra = {k: f[k] for k in ("modality", "channel", "repetition", "error") if k in f}
        recs.append(
            Recording(
                id=rel_id(v, root),
                video=str(v),
                audio=audio,
                speaker=f["actor"],
                emotion=f["emotion"],
                intensity=f["intensity"],
                transcript=f["transcript"],
                corpus="ravdess",
                extra=extra,
            )
        )
    return recs


def prepare_ravdess(
    corpus_dir: str | os.PathLike, output_dir: str | os.PathLike, num_jobs: int = 1, **opts
) -> PrepareResult:
    """Prepare RAVDESS videos (see the module docstring)."""
    return run_recipe("ravdess", scan_ravdess, corpus_dir, output_dir, num_jobs, opts)
