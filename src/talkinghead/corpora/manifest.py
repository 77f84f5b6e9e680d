"""Corpus manifests: recordings and prepared clips as JSON Lines, a validator, splits.

An output folder written by ``talkinghead prepare`` holds::

    recordings.jsonl   one Recording per line (what a source file is: who, what, how long)
    clips.jsonl        one Clip per line, status "ok" or "rejected" (with reasons)
    rejected.jsonl     the rejected clips again, for a quick look (derived from clips.jsonl)
    arrays/<id>.npz    per clip: mesh, landmarks68, rotation, translation, valid, ...,
                       and one ``audio_<set>`` array per audio feature set
    qc_report.json, qc_summary.txt, prepare.log

Manifest lines are appended (one complete line + fsync at a time), so a run killed
mid-way leaves at most one torn last line, which :func:`read_jsonl` ignores.
"""

from __future__ import annotations

import json
import os
import random
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

from .._util.atomic import write_text_atomic
from ..errors import InvalidArgumentError, MediaError

__all__ = [
    "Recording",
    "Clip",
    "append_jsonl",
    "write_jsonl",
    "read_jsonl",
    "read_recordings",
    "read_clips",
    "validate_manifest",
    "split_by_speaker",
    "CLIP_ARRAYS",
]

#: Arrays every clip .npz holds, with their trailing shapes (first axis: n_frames).
CLIP_ARRAYS = {
    "times": (),
    "mesh": (468, 3),
    "landmarks68": (68, 2),
    "rotation": (3,),
    "translation": (3,),
    "scale": (),
    "confidence": (),
    "n_faces": (),
    "valid": (),
    "lip_aperture": (),
}


@dataclass
class Recording:
    """One source recording (a video file, with its audio).

    Attributes
    ----------
    id : str
        Unique within the corpus (e.g. ``"s1/bbaf2n"``); also names the clips.
    video : str
        Path of the video file.
    audio : str or None
        Path of the audio: the video itself, a paired ``.wav`` with the same stem, or None.
    fps : float
        Frame rate of the video.
    width, height : int
        Frame size of the video (before any ``--size`` scaling).
    n_frames : int
        Number of frames the container states.
    duration : float
        Seconds.
    has_audio : bool
        Whether ``audio`` is set and has an audio stream.
    speaker, emotion, intensity, transcript : str or None
        Labels parsed from the corpus layout.
    corpus : str
        Recipe name (``"grid"``, ``"folder"``, ...).
    extra : dict
        Anything else the recipe knows (word timings, view, sentence code, ...).
    """

    id: str
    video: str
    audio: str | None = None
    fps: float = 0.0
    width: int = 0
    height: int = 0
    n_frames: int = 0
    duration: float = 0.0
    has_audio: bool = False
    speaker: str | None = None
    emotion: str | None = None
    intensity: str | None = None
    transcript: str | None = None
    corpus: str = ""
    extra: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> Recording:
        return cls(**_known(cls, d))


@dataclass
class Clip:
    """One prepared clip: a frame range of a recording with its arrays and quality report.

    Attributes
    ----------
    id : str
        Unique clip id (the recording id, plus ``"@<start>"`` for windows).
    recording : str
        The :attr:`Recording.id` it comes from.
    path : str or None
        The ``.npz`` of arrays, relative to the output folder (None for a clip rejected
        before anything could be written, e.g. an unreadable file).
    start_frame : int
        First frame of the clip in the recording.
    n_frames : int
        Number of frames; every array in the .npz has this first dimension.
    fps : float
        Frame rate.
    features : dict[str, int]
        Audio feature set name -> its dimension; stored in the .npz as ``audio_<name>``.
    qc : dict
        Quality measures (see :mod:`talkinghead.corpora.qc`).
    flags : list[str]
        Problems that do not reject the clip (e.g. ``"av_offset"``, ``"no_audio"``).
    status : str
        ``"ok"`` or ``"rejected"``.
    reasons : list[str]
        Why the clip was rejected (empty for ``"ok"``).
    """

    id: str
    recording: str
    path: str | None = None
    start_frame: int = 0
    n_frames: int = 0
    fps: float = 0.0
    features: dict = field(default_factory=dict)
    qc: dict = field(default_factory=dict)
    flags: list = field(default_factory=list)
    status: str = "ok"
    reasons: list = field(default_factory=list)

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> Clip:
        return cls(**_known(cls, d))


def _known(cls, d: dict) -> dict:
    if not isinstance(d, dict):
        raise InvalidArgumentError(f"d={d!r} must be a dict (one manifest line)")
    names = {f.name for f in fields(cls)}
    return {k: v for k, v in d.items() if k in names}


def _line(item) -> str:
    d = item.to_dict() if hasattr(item, "to_dict") else item
    return json.dumps(d, sort_keys=True, ensure_ascii=False, allow_nan=False) + "\n"


def write_jsonl(path: str | os.PathLike, items: Iterable) -> Path:
    """Write ``items`` (dataclasses with ``to_dict`` or dicts) as JSON Lines, atomically."""
    return write_text_atomic(path, "".join(_line(it) for it in items))


def append_jsonl(path: str | os.PathLike, items: Iterable) -> None:
    """Append complete lines to ``path`` and fsync (a crash loses at most a torn last line)."""
    text = "".join(_line(it) for it in items)
    if not text:
        return
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a", encoding="utf-8") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())


def read_jsonl(path: str | os.PathLike, *, strict: bool = False) -> Iterator[dict]:
    """Yield the JSON objects of a JSON Lines file, lazily.

    A last line without its newline (torn by a crash) is skipped, as is an unparsable
    last line; ``strict=True`` raises ``MediaError`` on any bad line instead. A missing
    file yields nothing.
    """
    path = Path(path)
    if not path.is_file():
        return
    with open(path, encoding="utf-8") as f:
        prev = None
        for lineno, raw in enumerate(f, 1):
            if prev is not None:
                yield _parse(path, prev[0], prev[1], strict=True)
            prev = (lineno, raw)
        if prev is not None:
            lineno, raw = prev
            if not raw.endswith("\n"):
                if strict:
                    raise MediaError(f"path={str(path)!r} line {lineno} is incomplete (torn)")
                return
            obj = _parse(path, lineno, raw, strict=strict)
            if obj is not None:
                yield obj


def _parse(path: Path, lineno: int, raw: str, *, strict: bool):
    if not raw.strip():
        return None
    try:
        obj = json.loads(raw)
    except json.JSONDecodeError as e:
        if strict:
            raise MediaError(
                f"path={str(path)!r} line {lineno} must be one JSON object per line ({e})"
            ) from None
        return None
    return obj


def read_recordings(out_dir: str | os.PathLike) -> list[Recording]:
    """All recordings of a prepared corpus folder."""
    return [Recording.from_dict(d) for d in read_jsonl(Path(out_dir) / "recordings.jsonl") if d]


def read_clips(out_dir: str | os.PathLike, *, status: str | None = None) -> list[Clip]:
    """All clips of a prepared corpus folder (``status="ok"`` keeps the accepted ones)."""
    clips = [Clip.from_dict(d) for d in read_jsonl(Path(out_dir) / "clips.jsonl") if d]
    return [c for c in clips if status is None or c.status == status]


def iter_accepted(prepared: Iterable[str | os.PathLike]) -> Iterator[tuple[dict, dict, Path]]:
    """The accepted clips of prepared corpus folders, in corpus order, as raw records.

    Parameters
    ----------
    prepared : iterable of str or path
        ``talkinghead prepare`` output folders (``recordings.jsonl``, ``clips.jsonl``).

    Yields
    ------
    tuple
        ``(clip, recording, arrays_path)``: the clip's and its recording's JSON objects and
        the path of the clip's ``.npz``; clips whose status is not "ok" or whose recording
        is missing are left out.
    """
    for d in map(Path, prepared):
        recs = {r["id"]: r for r in read_jsonl(d / "recordings.jsonl") if r}
        for c in read_jsonl(d / "clips.jsonl"):
            rec = recs.get(c.get("recording")) if c else None
            if rec is not None and c.get("status") == "ok":
                yield c, rec, d / c["path"]


# --------------------------------------------------------------------------- validation

_REC_TYPES = {
    "id": str,
    "video": str,
    "fps": (int, float),
    "width": int,
    "height": int,
    "n_frames": int,
    "duration": (int, float),
    "has_audio": bool,
    "corpus": str,
    "extra": dict,
}
_CLIP_TYPES = {
    "id": str,
    "recording": str,
    "start_frame": int,
    "n_frames": int,
    "fps": (int, float),
    "features": dict,
    "qc": dict,
    "flags": list,
    "status": str,
    "reasons": list,
}


def _type_problems(kind: str, d: dict, types: dict) -> list[str]:
    out = []
    for name, t in types.items():
        v = d.get(name)
        bad_bool = isinstance(v, bool) and t is not bool
        if bad_bool or not isinstance(v, t):
            out.append(f"{kind} {d.get('id')!r}: {name}={v!r} must be of type {t}")
    return out


def validate_manifest(out_dir: str | os.PathLike, *, check_arrays: bool = True) -> list[str]:
    """Check a prepared corpus folder; return a list of problems (empty when all is well).

    Checks: the manifests parse; fields have their types; ids are unique; every clip
    names a known recording; every "ok" clip's .npz exists and (``check_arrays``) holds
    the arrays of :data:`CLIP_ARRAYS` and ``audio_<set>`` for each feature set, all with
    ``n_frames`` rows and the stated trailing shapes; every recording's video exists.
    """
    import numpy as np

    out_dir = Path(out_dir)
    problems: list[str] = []
    if not (out_dir / "recordings.jsonl").is_file():
        return [f"{out_dir / 'recordings.jsonl'} is missing"]
    try:
        recs = list(read_jsonl(out_dir / "recordings.jsonl", strict=True))
        clips = list(read_jsonl(out_dir / "clips.jsonl", strict=True))
    except MediaError as e:
        return [str(e)]
    rec_ids = set()
    for d in recs:
        problems += _type_problems("recording", d, _REC_TYPES)
        if d.get("id") in rec_ids:
            problems.append(f"recording {d.get('id')!r} appears twice")
        rec_ids.add(d.get("id"))
        if isinstance(d.get("video"), str) and not Path(d["video"]).exists():
            problems.append(f"recording {d.get('id')!r}: video {d['video']!r} does not exist")
        audio = d.get("audio")
        if audio is not None and not Path(audio).exists():
            problems.append(f"recording {d.get('id')!r}: audio {audio!r} does not exist")
    clip_ids = set()
    for d in clips:
        kind_problems = _type_problems("clip", d, _CLIP_TYPES)
        problems += kind_problems
        cid = d.get("id")
        if cid in clip_ids:
            problems.append(f"clip {cid!r} appears twice")
        clip_ids.add(cid)
        if d.get("recording") not in rec_ids:
            problems.append(f"clip {cid!r}: recording {d.get('recording')!r} is not in recordings")
        if d.get("status") not in ("ok", "rejected"):
            problems.append(f"clip {cid!r}: status={d.get('status')!r} must be 'ok' or 'rejected'")
        if d.get("status") == "rejected" and not d.get("reasons"):
            problems.append(f"clip {cid!r}: rejected without reasons")
        if d.get("status") != "ok" or kind_problems:
            continue
        rel = d.get("path")
        if not isinstance(rel, str):
            problems.append(f"clip {cid!r}: path={rel!r} must name its .npz")
            continue
        p = out_dir / rel
        if not p.is_file():
            problems.append(f"clip {cid!r}: array file {str(p)!r} does not exist")
            continue
        if not check_arrays:
            continue
        n = d["n_frames"]
        try:
            with np.load(p) as z:
                expect = dict(CLIP_ARRAYS)
                for name, dim in d["features"].items():
                    expect[f"audio_{name}"] = (int(dim),)
                for name, tail in expect.items():
                    if name not in z.files:
                        problems.append(f"clip {cid!r}: {p.name} lacks array {name!r}")
                        continue
                    shape = z[name].shape
                    if shape != (n, *tail):
                        problems.append(
                            f"clip {cid!r}: {name}.shape={shape} must be {(n, *tail)} "
                            f"(n_frames={n})"
                        )
        except Exception as e:  # noqa: BLE001 - any unreadable file is a problem to report
            problems.append(f"clip {cid!r}: {str(p)!r} is unreadable ({type(e).__name__}: {e})")
    return problems


# --------------------------------------------------------------------------- splits


def split_by_speaker(
    recordings: Iterable[Recording],
    *,
    valid: float = 0.1,
    test: float = 0.1,
    seed: int = 0,
    allow_shared_speakers: bool = False,
) -> dict[str, list[Recording]]:
    """Split recordings into train / valid / test with no speaker in two splits.

    Speakers (``None`` counts as one speaker, ``"unknown"``) are shuffled with ``seed``
    and dealt to test, then valid, until each holds at least its fraction of the
    recordings (at least one speaker each when its fraction is > 0); the rest is train.

    Parameters
    ----------
    recordings : iterable of Recording
    valid, test : float
        Fractions in [0, 1) of recordings wanted in the valid and test splits.
    seed : int
        Shuffling seed (same inputs and seed -> same split).
    allow_shared_speakers : bool
        When there are too few speakers for disjoint splits (fewer than the number of
        non-empty splits requested, e.g. a single-speaker corpus), split the
        recordings themselves at random instead of raising.

    Returns
    -------
    dict with keys ``"train"``, ``"valid"``, ``"test"``: lists of Recording.

    Raises
    ------
    InvalidArgumentError
        Bad fractions, or too few speakers for speaker-disjoint splits and
        ``allow_shared_speakers=False`` (the message says how many there are).
    """
    recs = list(recordings)
    for name, v in (("valid", valid), ("test", test)):
        if not (isinstance(v, (int, float)) and 0 <= v < 1):
            raise InvalidArgumentError(f"{name}={v!r} must be a fraction in [0, 1)")
    if valid + test >= 1:
        raise InvalidArgumentError(f"valid + test = {valid + test} must be < 1")
    rng = random.Random(seed)
    by_spk: dict[str, list[Recording]] = {}
    for r in sorted(recs, key=lambda r: r.id):
        by_spk.setdefault(r.speaker or "unknown", []).append(r)
    wanted = [("test", test), ("valid", valid)]
    n_needed = 1 + sum(1 for _, f in wanted if f > 0)
    out: dict[str, list[Recording]] = {"train": [], "valid": [], "test": []}
    if len(by_spk) < n_needed:
        if not allow_shared_speakers:
            raise InvalidArgumentError(
                f"speakers={sorted(by_spk)} ({len(by_spk)}) must number at least {n_needed} "
                f"for speaker-disjoint train/valid/test splits (valid={valid}, test={test}); "
                "pass allow_shared_speakers=True to split the recordings instead"
            )
        order = sorted(recs, key=lambda r: r.id)
        rng.shuffle(order)
        n = len(order)
        n_test = round(test * n) if test > 0 else 0
        n_valid = round(valid * n) if valid > 0 else 0
        out["test"] = order[:n_test]
        out["valid"] = order[n_test : n_test + n_valid]
        out["train"] = order[n_test + n_valid :]
        return out
    speakers = sorted(by_spk)
    rng.shuffle(speakers)
    total = len(recs)
    i = 0
    active = [(name, frac) for name, frac in wanted if frac > 0]
    for k, (name, frac) in enumerate(active):
        # speakers that must stay for the splits after this one (and one for train)
        reserve = len(active) - k
        while i < len(speakers) - reserve and (not out[name] or len(out[name]) < frac * total):
            out[name] += by_spk[speakers[i]]
            i += 1
    for s in speakers[i:]:
        out["train"] += by_spk[s]
    return out
