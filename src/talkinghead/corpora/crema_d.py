"""Recipe for CREMA-D (Crowd-sourced Emotional Multimodal Actors Dataset).

File names ``1001_DFA_ANG_XX.flv``: actor_sentence_emotion_intensity. The video's own
audio is used; a video without one takes ``<stem>.wav`` beside it or in an
``AudioWAV/`` folder of the corpus.
"""

from __future__ import annotations

import os
from pathlib import Path

from ..errors import InvalidArgumentError
from ._recipe import rel_id, run_recipe
from .manifest import Recording
from .pipeline import AUDIO_EXTS, PrepareResult, find_videos

__all__ = ["parse_crema_d", "scan_crema_d", "prepare_crema_d", "SENTENCES", "EMOTIONS"]

SENTENCES = {
    "IEO": "It's eleven o'clock",
    "TIE": "That is exactly what happened",
    "IOM": "I'm on my way to the meeting",
    "IWW": "I wonder what this is about",
    "TAI": "The airplane is almost full",
    "MTI": "Maybe tomorrow it will be cold",
    "IWL": "I would like a new alarm clock",
    "ITH": "I think I have a doctor's appointment",
    "DFA": "Don't forget a jacket",
    "ITS": "I think I've seen this before",
    "TSI": "The surface is slick",
    "WSI": "We'll stop in a couple of minutes",
}
EMOTIONS = {
    "ANG": "anger",
    "DIS": "disgust",
    "FEA": "fear",
    "HAP": "happy",
    "NEU": "neutral",
    "SAD": "sad",
}
INTENSITIES = {"LO": "low", "MD": "medium", "HI": "high", "XX": "unspecified"}


def parse_crema_d(stem: str) -> dict:
    """Fields of a CREMA-D name (``"1001_DFA_ANG_XX"``).

    Raises
    ------
    InvalidArgumentError
        Not ``actor_sentence_emotion_intensity`` with known codes.
    """
    parts = stem.split("_")
    if len(parts) != 4 or not parts[0].isdigit():
        raise InvalidArgumentError(
            f"name={stem!r} must be actor_sentence_emotion_intensity (CREMA-D)"
        )
    actor, sent, emo, inten = parts
    if sent not in SENTENCES or emo not in EMOTIONS or inten not in INTENSITIES:
        raise InvalidArgumentError(f"name={stem!r} has an unknown sentence/emotion/intensity code")
    return {
        "actor": actor,
        "sentence": sent,
        "transcript": SENTENCES[sent],
        "emotion": EMOTIONS[emo],
        "intensity": INTENSITIES[inten],
    }


def _audio_for(v: Path, root: Path) -> str:
    for d in (v.parent, root / "AudioWAV", v.parent.parent / "AudioWAV"):
        for ext in AUDIO_EXTS:
            if (d / f"{v.stem}{ext}").is_file():
                return str(d / f"{v.stem}{ext}")
    return str(v)


def scan_crema_d(corpus_dir: str | os.PathLike) -> list[Recording]:
    """List CREMA-D videos with actor, sentence, emotion and intensity."""
    root = Path(corpus_dir)
    recs = []
    for v in find_videos(root):
        extra = {}
        try:
            f = parse_crema_d(v.stem)
            extra["sentence"] = f["sentence"]
        except InvalidArgumentError as e:
            f = dict.fromkeys(("actor", "transcript", "emotion", "intensity"))
            extra["error"] = str(e)
        recs.append(
            Recording(
                id=rel_id(v, root),
                video=str(v),
                audio=_audio_for(v, root),
                speaker=f["actor"],
                emotion=f["emotion"],
                intensity=f["intensity"],
                transcript=f["transcript"],
                corpus="crema-d",
                extra=extra,
            )
        )
    return recs


def prepare_crema_d(
    corpus_dir: str | os.PathLike, output_dir: str | os.PathLike, num_jobs: int = 1, **opts
) -> PrepareResult:
    """Prepare CREMA-D videos (see the module docstring)."""
    return run_recipe("crema-d", scan_crema_d, corpus_dir, output_dir, num_jobs, opts)
