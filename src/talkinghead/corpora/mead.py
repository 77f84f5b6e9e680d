"""Recipe for MEAD (Multi-view Emotional Audio-visual Dataset).

Two layouts: flat names ``M030_front_angry_level3_001.mp4`` (speaker_view_emotion_level
_number) or the MEAD folders ``M030/video/front/angry/level_3/001.mp4``. MEAD's audio
lives in ``M030/audio/<emotion>/level_<n>/<nnn>.m4a`` (used when present; the front view
is the one recorded with it); a ``.wav`` with the video's stem is used as well.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from ._recipe import rel_id, run_recipe
from .manifest import Recording
from .pipeline import PrepareResult, find_videos, paired_audio

__all__ = ["parse_mead", "scan_mead", "prepare_mead"]

_FLAT = re.compile(r"([MW]\d{3})_([a-z_]+?)_([a-z]+)_level_?(\d+)_(\d+)", re.IGNORECASE)


def parse_mead(path: str | os.PathLike) -> dict | None:
    """``{"speaker", "view", "emotion", "level", "number"}`` from a MEAD path, or None."""
    p = Path(path)
    m = _FLAT.fullmatch(p.stem)
    if m:
        spk, view, emo, level, num = m.groups()
        return {
            "speaker": spk,
            "view": view,
            "emotion": emo.lower(),
            "level": int(level),
            "number": num,
        }
    parts = p.parts
    for i, part in enumerate(parts):
        if part == "video" and i >= 1 and len(parts) >= i + 5:
            view, emo, level = parts[i + 1], parts[i + 2], parts[i + 3]
            ml = re.fullmatch(r"level_?(\d+)", level)
            if ml:
                return {
                    "speaker": parts[i - 1],
                    "view": view,
                    "emotion": emo.lower(),
                    "level": int(ml.group(1)),
                    "number": p.stem,
                }
    return None


def _mead_audio(v: Path, f: dict | None) -> str:
    own = paired_audio(v)
    if own != os.path.abspath(v) or f is None:
        return own
    for up in v.parents:
        if up.name == f["speaker"]:
            for ext in (".m4a", ".wav"):
                cand = up / "audio" / f["emotion"] / f"level_{f['level']}" / f"{f['number']}{ext}"
                if cand.is_file():
                    return str(cand)
            break
    return own


def scan_mead(corpus_dir: str | os.PathLike) -> list[Recording]:
    """List MEAD videos with speaker, view, emotion and intensity level."""
    root = Path(corpus_dir)
    recs = []
    for v in find_videos(root):
        f = parse_mead(os.path.relpath(v, root))
        extra = (
            {"view": f["view"], "number": f["number"]}
            if f
            else {"error": f"name {v.name!r} is not a MEAD name"}
        )
        recs.append(
            Recording(
                id=rel_id(v, root),
                video=str(v),
                audio=_mead_audio(v, f),
                speaker=f["speaker"] if f else None,
                emotion=f["emotion"] if f else None,
                intensity=f"level{f['level']}" if f else None,
                corpus="mead",
                extra=extra,
            )
        )
    return recs


def prepare_mead(
    corpus_dir: str | os.PathLike, output_dir: str | os.PathLike, num_jobs: int = 1, **opts
) -> PrepareResult:
    """Prepare MEAD videos (see the module docstring)."""
    return run_recipe("mead", scan_mead, corpus_dir, output_dir, num_jobs, opts)
