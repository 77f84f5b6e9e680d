"""The held-out protocol (``mouth_v2``): score systems on the test side of a shipped split.

::

    talkinghead evaluate [NAME] --protocol mouth_v2 --prepared DIR [DIR ...]
                         [--models default whisper phonetic energy openfacefx pylipsync]

The clips are the accepted (QC ``ok``) clips of the prepared folders (``talkinghead
prepare tsv``) whose recording is on the test side of the split
(:func:`talkinghead.evaluate.splits.load_split`). Per clip and system the metrics of
:mod:`talkinghead.evaluate.mouth_metrics` (opening r, width r, lag, /p b m/ closure on the
aligned transcript, rest level in silence, jitter ratio); medians per source group and
over all clips. The real face itself is scored as the row ``real`` (its closure rate and
rest level are what a model should match).

/p b m/ segments come from forced alignment (:func:`talkinghead.audio.phones.align`) of the
clip's transcript: the GRID sentence of its file name, or with ``transcripts="whisper"``
(CLI ``--transcripts whisper``) an automatic Whisper tiny.en transcript of every English clip
without one (not of :data:`NON_ENGLISH_GROUPS`). Besides the per-clip median, the table pools
the segments over clips: the share closed of all segments, and of the *confirmed* ones (those
in which the real tracked mouth closes too, so an alignment or transcript error does not
count against a model).

A system is

- a model name of :func:`talkinghead.animate` (``default``, ``whisper``,
  ``phonetic``, ...): its ``mouth_open`` and the width of its 68 landmarks;
- ``energy``: the audio energy envelope (opening only);
- ``openfacefx`` or ``pylipsync``: a peer run in its virtualenv
  (:mod:`talkinghead.evaluate.peers`; skipped with a note when not installed);
- ``module:function``: any callable ``f(y=, sr=, fps=, n_frames=)`` returning an object with
  ``mouth_open`` (T,) and optionally ``landmarks`` (T, 68, 2), e.g. a model in training.
"""

from __future__ import annotations

import importlib
import json
import math
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .._util.atomic import write_text_atomic
from ..errors import InvalidArgumentError, MediaError
from . import mouth_metrics as MM

__all__ = [
    "HeldoutClip",
    "HeldoutResult",
    "HELDOUT_METRICS",
    "DEFAULT_SYSTEMS",
    "load_heldout_clips",
    "score_heldout_clip",
    "evaluate_heldout",
    "system_fn",
    "aligned_phones",
    "add_whisper_transcripts",
    "NON_ENGLISH_GROUPS",
    "TRANSCRIPTS",
]

#: Per-clip metrics, in table order (see :mod:`talkinghead.evaluate.mouth_metrics`).
HELDOUT_METRICS = ("open_r", "width_r", "lag_ms", "bilabial", "rest_level", "rest_err", "jitter")

#: Source groups whose speech is not English (no automatic transcript: Whisper tiny.en).
NON_ENGLISH_GROUPS = ("Turkish",)
#: Where transcripts for the /p b m/ alignment may come from.
TRANSCRIPTS = ("known", "whisper")
#: Per-clip counts behind the pooled /p b m/ rates (not medians).
_BILABIAL_COUNTS = (
    "bilabial_n",
    "bilabial_hits",
    "bilabial_confirmed_n",
    "bilabial_confirmed_hits",
)

#: Systems scored when none are named.
DEFAULT_SYSTEMS = ("default", "whisper", "phonetic", "energy", "openfacefx", "pylipsync")


@dataclass
class HeldoutClip:
    """One test clip: the real mouth (Face Mesh) and its audio.

    Attributes
    ----------
    id, recording, group, source, person : str
    fps : float
    valid : ndarray of bool, shape (T,)
    opening, width : ndarray, shape (T,)
        Real mouth opening (13-14 / 33-263) and width (61-291 / 33-263), NaN where invalid.
    y : ndarray, shape (n,), float32
        Mono audio from the clip's first frame.
    sr : int
    transcript : str or None
        The GRID sentence when known, or an automatic one (for the forced-aligned /p b m/).
    transcript_source : {"known", "whisper"} or None
    """

    id: str
    recording: str
    group: str
    source: str
    person: str
    fps: float
    valid: np.ndarray
    opening: np.ndarray
    width: np.ndarray
    y: np.ndarray
    sr: int
    transcript: str | None = None
    transcript_source: str | None = None

    @property
    def n_frames(self) -> int:
        return len(self.valid)


def load_heldout_clips(
    prepared: Sequence[str | os.PathLike],
    *,
    split: str = "mouth_v2",
    side: str = "test",
    sr: int = 16000,
    transcripts: str = "known",
) -> tuple[list[HeldoutClip], dict]:
    """The accepted clips of ``prepared`` folders on one side of a split.

    Parameters
    ----------
    prepared : sequence of path
        Folders written by ``talkinghead prepare`` (recording ids as the split lists them).
    split : str
        A shipped split name.
    side : {"test", "train"}
    transcripts : {"known", "whisper"}
        ``"whisper"``: clips without a known transcript and not of
        :data:`NON_ENGLISH_GROUPS` are transcribed by Whisper tiny.en
        (:func:`talkinghead.audio.whisper.transcribe`; needs ``talkinghead[whisper]``).

    Returns
    -------
    clips : list of HeldoutClip
        Sorted by id.
    coverage : dict
        ``{"listed": n test recordings in the split, "found": prepared, "rejected": {id:
        reasons}, "missing": [ids not prepared], "transcripts": {source: n clips}}``
        (``side="test"`` only).

    Raises
    ------
    MediaError
        A folder is not a prepared corpus.
    """
    from ..audio.io import load_audio
    from ..corpora.manifest import read_clips, read_recordings
    from ..corpora.people import person_id
    from ..corpora.tsv import grid_transcript
    from .splits import load_split, source_group

    if side not in ("test", "train"):
        raise InvalidArgumentError(f"side={side!r} must be 'test' or 'train'")
    if transcripts not in TRANSCRIPTS:
        raise InvalidArgumentError(f"transcripts={transcripts!r} must be one of {TRANSCRIPTS}")
    sp = load_split(split)
    out: list[HeldoutClip] = []
    seen: set[str] = set()
    rejected: dict[str, list] = {}
    for d in prepared:
        d = Path(d)
        if not (d / "clips.jsonl").is_file():
            raise MediaError(
                f"prepared={str(d)!r} must be a folder written by `talkinghead prepare`"
            )
        recs = {r.id: r for r in read_recordings(d)}
        for c in read_clips(d):
            rec = recs.get(c.recording)
            if rec is None or sp.side(c.recording) != side:
                continue
            seen.add(c.recording)
            if c.status != "ok" or not c.path:
                rejected[c.recording] = list(c.reasons)
                continue
            if not rec.audio:
                continue
            with np.load(d / c.path) as z:
                mesh = np.asarray(z["mesh"], dtype=np.float64)
                valid = np.asarray(z["valid"], dtype=bool)
            opening, width = MM.mouth_opening_mesh(mesh), MM.mouth_width_mesh(mesh)
            valid = valid & np.isfinite(opening) & np.isfinite(width)
            opening[~valid] = np.nan
            width[~valid] = np.nan
            y, sr_ = load_audio(rec.audio, sr=sr, offset=c.start_frame / c.fps,
                                duration=c.n_frames / c.fps)  # fmt: skip
            src = rec.extra.get("source", c.recording.split("/")[0])
            pid = rec.extra.get("person") or person_id(rec.speaker or "", source=src)
            info = sp.test.get(c.recording.removeprefix("hunt/"), {})
            group = info.get("group") or source_group(src, pid)
            transcript = rec.transcript or (grid_transcript(rec.video) if group == "GRID" else None)
            t_source = "known" if transcript else None
            out.append(
                HeldoutClip(
                    id=c.id,
                    recording=c.recording,
                    group=group,
                    source=src,
                    person=pid,
                    fps=float(c.fps),
                    valid=valid,
                    opening=opening,
                    width=width,
                    y=np.asarray(y, dtype=np.float32),
                    sr=int(sr_),
                    transcript=transcript,
                    transcript_source=t_source,
                )
            )
    if transcripts == "whisper":
        add_whisper_transcripts(out)
    coverage: dict = {}
    if side == "test":
        coverage = {
            "listed": len(sp.test),
            "found": len(seen),
            "scored": len(out),
            "rejected": rejected,
            "missing": sorted(set(sp.test) - {s.removeprefix("hunt/") for s in seen}),
            "transcripts": {
                k: sum(c.transcript_source == k for c in out) for k in ("known", "whisper")
            },
        }
    return sorted(out, key=lambda c: c.id), coverage


def add_whisper_transcripts(clips: Sequence[HeldoutClip]) -> int:
    """Give every clip without a transcript, and not of :data:`NON_ENGLISH_GROUPS`, a
    Whisper tiny.en one (in place; ``transcript_source="whisper"``); returns how many got
    one. Needs ``talkinghead[whisper]``."""
    from ..audio.whisper import transcribe

    n = 0
    for c in clips:
        if c.transcript or c.group in NON_ENGLISH_GROUPS:
            continue
        text = transcribe(y=c.y, sr=c.sr)
        if text:
            c.transcript, c.transcript_source = text, "whisper"
            n += 1
    return n


def aligned_phones(clip: HeldoutClip):
    """Phones of ``clip`` force-aligned to its transcript, or None (no transcript, or the
    alignment failed)."""
    if not clip.transcript:
        return None
    from ..audio import phones as ph

    try:
        return ph.align(y=clip.y, sr=clip.sr, transcript=clip.transcript).phones
    except ph.AlignmentError:
        return None


def score_heldout_clip(clip: HeldoutClip, opening, width=None, *, phones=None, silent=None) -> dict:
    """The metrics of :data:`HELDOUT_METRICS` for one prediction of one clip.

    Parameters
    ----------
    clip : HeldoutClip
    opening : array_like, shape (T,)
        Predicted mouth opening (any unit).
    width : array_like, shape (T,), optional
        Predicted mouth width (any unit); ``width_r`` is NaN without it.
    phones : list of Phone, optional
        Forced-aligned phones (for ``bilabial``; NaN without them).
    silent : ndarray of bool, shape (T,), optional
        Silent frames (for ``rest_level`` / ``rest_err``).
    """
    from . import metrics as M

    o = np.asarray(opening, dtype=np.float64).reshape(-1)
    if len(o) != clip.n_frames:
        raise InvalidArgumentError(
            f"clip {clip.id!r}: prediction has {len(o)} frames; the clip has {clip.n_frames}"
        )
    v = clip.valid
    out = dict.fromkeys(HELDOUT_METRICS, math.nan)
    out["open_r"] = M.mouth_corr(o, clip.opening, valid=v)
    if width is not None:
        out["width_r"] = M.mouth_corr(np.asarray(width, np.float64), clip.width, valid=v)
    out["lag_ms"] = M.sync_offset(o, clip.opening, fps=clip.fps, max_lag_ms=200.0, valid=v)[0]
    out.update(dict.fromkeys(_BILABIAL_COUNTS, 0))
    if phones is not None:
        pred = M.bilabial_segments_closed(o, phones, fps=clip.fps)
        real = M.bilabial_segments_closed(clip.opening, phones, fps=clip.fps)
        out["bilabial"] = float(pred.mean()) if pred.size else math.nan
        out.update(bilabial_n=int(pred.size), bilabial_hits=int(pred.sum()),
                   bilabial_confirmed_n=int(real.sum()),
                   bilabial_confirmed_hits=int((pred & real).sum()))  # fmt: skip
    if silent is not None:
        out["rest_level"] = MM.rest_level(o, silent, valid=v)
        out["rest_err"] = out["rest_level"] - MM.rest_level(clip.opening, silent, valid=v)
    out["jitter"] = MM.jitter_ratio_scalefree(o, clip.opening, valid=v)
    return out


# --------------------------------------------------------------------------- systems


def _animate_fn(name: str) -> Callable:
    from ..models.shipped import animate_samples

    def f(c: HeldoutClip):
        y = np.asarray(c.y, dtype=np.float32)
        a = animate_samples(y, sr=c.sr, fps=c.fps, n_frames=c.n_frames, model=name)
        return np.asarray(a.mouth_open), MM.mouth_width_68(np.asarray(a.landmarks))

    return f


def _callable_fn(spec: str) -> Callable:
    mod, _, attr = spec.partition(":")
    try:
        fn = getattr(importlib.import_module(mod), attr)
    except (ImportError, AttributeError) as e:
        raise InvalidArgumentError(
            f"model={spec!r} must name an importable module:function ({e})"
        ) from None

    def f(c: HeldoutClip):
        a = fn(y=c.y, sr=c.sr, fps=c.fps, n_frames=c.n_frames)
        lm = getattr(a, "landmarks", None)
        return np.asarray(a.mouth_open), None if lm is None else MM.mouth_width_68(np.asarray(lm))

    return f


def system_fn(name: str) -> Callable | None:
    """``f(clip) -> (opening, width or None)``, or None for a peer (run in batch)."""
    from ..models.shipped import MODELS

    if name in MODELS:
        return _animate_fn(name)
    if name == "energy":
        from .baselines import energy_predict

        return lambda c: (
            energy_predict(y=c.y, sr=c.sr, fps=c.fps, n_frames=c.n_frames).mouth_open,
            None,
        )
    from .peers import PEERS

    if name in PEERS:
        return None
    if ":" in name:
        return _callable_fn(name)
    raise InvalidArgumentError(
        f"model={name!r} must be one of {list(MODELS)}, 'energy', {list(PEERS)} or module:function"
    )


def _run_peer(name: str, clips: list[HeldoutClip], work: Path) -> tuple[dict | None, str]:
    import soundfile as sf

    from .peers import peer_available, run_peer

    if not peer_available(name, work):
        return None, f"not installed (no virtualenv under {work}; bench/peers.py creates it)"
    jobs = []
    for c in clips:
        wav = work / "wav_heldout" / f"{c.id.replace('/', '__')}.wav"
        if not wav.is_file():
            wav.parent.mkdir(parents=True, exist_ok=True)
            sf.write(str(wav), c.y, c.sr, subtype="PCM_16")
        jobs.append({"id": c.id.replace("/", "__"), "wav": str(wav), "fps": c.fps,
                     "n_frames": c.n_frames})  # fmt: skip
    pred, why = run_peer(name, jobs, work)
    if pred is None:
        return None, why
    return {c.id: (pred[c.id.replace("/", "__")], None) for c in clips}, why


# --------------------------------------------------------------------------- results


@dataclass
class HeldoutResult:
    """Scores of systems on the held-out clips.

    Attributes
    ----------
    rows : list of dict
        One per (clip, system): ``clip``, ``system``, ``group``, ``source``, ``person``,
        ``n_frames``, ``fps``, ``transcript_source``, each of :data:`HELDOUT_METRICS` and the
        /p b m/ counts ``bilabial_n``, ``bilabial_hits`` (segments, closed by the system),
        ``bilabial_confirmed_n``, ``bilabial_confirmed_hits`` (those the real mouth closes).
    notes : dict[str, str]
        System -> why it was skipped.
    coverage : dict
        See :func:`load_heldout_clips`.
    split : str
    """

    rows: list = field(default_factory=list)
    notes: dict = field(default_factory=dict)
    coverage: dict = field(default_factory=dict)
    split: str = "mouth_v2"

    @property
    def systems(self) -> list[str]:
        return list(dict.fromkeys(r["system"] for r in self.rows))

    @property
    def groups(self) -> list[str]:
        return sorted({r["group"] for r in self.rows})

    def _cells(self):
        """``(system, group or "all", its rows)`` for every system and group."""
        for s in self.systems:
            rs = [r for r in self.rows if r["system"] == s]
            for g in [*self.groups, "all"]:
                yield s, g, [r for r in rs if g == "all" or r["group"] == g]

    def medians(self) -> dict:
        """``system -> group (and "all") -> metric -> {"median", "n"}`` (NaNs skipped)."""
        out: dict = {}
        for s, g, sub in self._cells():
            cell = out.setdefault(s, {})[g] = {}
            for m in HELDOUT_METRICS:
                v = np.array([r[m] for r in sub], dtype=float)
                v = v[np.isfinite(v)]
                cell[m] = {"median": float(np.median(v)) if v.size else math.nan, "n": int(v.size)}
        return out

    def pooled_bilabial(self) -> dict:
        """``system -> group (and "all") -> {"n", "rate", "confirmed_n", "confirmed_rate"}``:
        /p b m/ segments pooled over clips (rates NaN without segments)."""
        out: dict = {}
        for s, g, sub in self._cells():
            n, h, cn, ch = (sum(int(r.get(k, 0)) for r in sub) for k in _BILABIAL_COUNTS)
            out.setdefault(s, {})[g] = {
                "n": n,
                "rate": h / n if n else math.nan,
                "confirmed_n": cn,
                "confirmed_rate": ch / cn if cn else math.nan,
            }
        return out

    def bilabial_table(self) -> str:
        """Markdown: pooled /p b m/ closure per group, ``rate (n)`` and confirmed
        ``rate (n)`` (see the module docstring)."""
        pooled = self.pooled_bilabial()
        groups = [g for g in self.groups if any(pooled[s][g]["n"] for s in self.systems)]
        if not groups:
            return ""
        cols = [*groups, "all"]
        lines = ["### /p b m/ closed, pooled over clips: rate (segments) of all aligned segments; "
                 "of those the real mouth closes", "", "| system | " + " | ".join(cols) + " |",
                 "|---|" + "---|" * len(cols)]  # fmt: skip

        def cell(p):
            a = f"{p['rate']:.2f} ({p['n']})" if p["n"] else "-"
            b = f"{p['confirmed_rate']:.2f} ({p['confirmed_n']})" if p["confirmed_n"] else "-"
            return f"{a}; {b}"

        for s in self.systems:
            lines.append(f"| {s} | " + " | ".join(cell(pooled[s][g]) for g in cols) + " |")
        return "\n".join([*lines, ""])

    def table(self) -> str:
        """Markdown: one table per source group and one over all clips (medians)."""
        med = self.medians()
        lines = []
        n_clips = {g: len({r["clip"] for r in self.rows if r["group"] == g}) for g in self.groups}
        for g in [*self.groups, "all"]:
            n = len({r["clip"] for r in self.rows}) if g == "all" else n_clips[g]
            lines += [f"### {'all clips' if g == 'all' else g} ({n} clips)", ""]
            lines.append("| system | " + " | ".join(HELDOUT_METRICS) + " |")
            lines.append("|---|" + "---|" * len(HELDOUT_METRICS))
            for s in self.systems:
                cells = []
                for m in HELDOUT_METRICS:
                    v = med[s][g][m]["median"]
                    if not math.isfinite(v):
                        cells.append("-")
                    elif m == "lag_ms":
                        cells.append(f"{v:+.0f}")
                    elif m == "rest_err":
                        cells.append(f"{v:+.2f}")
                    else:
                        cells.append(f"{v:.2f}")
                lines.append(f"| {s} | " + " | ".join(cells) + " |")
            lines.append("")
        bil = self.bilabial_table()
        if bil:
            lines += [bil, ""]
        for s, why in self.notes.items():
            lines.append(f"- {s}: {why}")
        if self.notes:
            lines.append("")
        return "\n".join(lines)

    def to_dict(self) -> dict:
        def clean(v):
            if isinstance(v, float | np.floating):
                return float(v) if math.isfinite(v) else None
            if isinstance(v, dict):
                return {k: clean(x) for k, x in v.items()}
            if isinstance(v, list | tuple):
                return [clean(x) for x in v]
            return v

        return clean({"split": self.split, "coverage": self.coverage, "notes": self.notes,
                      "medians": self.medians(), "pooled_bilabial": self.pooled_bilabial(),
                      "clips": self.rows})  # fmt: skip

    def save_json(self, path: str | os.PathLike) -> Path:
        return write_text_atomic(path, json.dumps(self.to_dict(), indent=1) + "\n")


def evaluate_heldout(
    systems: Sequence[str],
    prepared: Sequence[str | os.PathLike],
    *,
    split: str = "mouth_v2",
    max_clips: int | None = None,
    peers_dir: str | os.PathLike | None = None,
    progress: bool = False,
    transcripts: str = "known",
) -> HeldoutResult:
    """Score ``systems`` (see the module docstring) on the test side of ``split``.

    ``transcripts``: see :func:`load_heldout_clips` (``"whisper"`` adds automatic
    transcripts of the English clips for the /p b m/ alignment).

    Returns
    -------
    HeldoutResult
        Includes the row ``real`` (the tracked mouth scored against itself: r = 1; its
        ``bilabial`` and ``rest_level`` are the real face's).

    Raises
    ------
    InvalidArgumentError
        An unknown system, or no test clip in ``prepared``.
    """
    from .._util.progress import progress as _progress
    from . import metrics as M
    from .peers import DEFAULT_WORK

    fns = {s: system_fn(s) for s in systems}  # validates the names first
    clips, coverage = load_heldout_clips(prepared, split=split, transcripts=transcripts)
    if max_clips is not None:
        clips = clips[: int(max_clips)]
    if not clips:
        raise InvalidArgumentError(
            f"prepared={[str(p) for p in prepared]!r} holds no accepted clip on the test side "
            f"of split {split!r}"
        )
    res = HeldoutResult(coverage=coverage, split=split)
    batch: dict[str, dict] = {}
    for s, f in fns.items():
        if f is None:
            p, why = _run_peer(s, clips, Path(peers_dir or DEFAULT_WORK))
            if p is None:
                res.notes[s] = f"skipped: {why}"
            else:
                batch[s] = p
    for c in _progress(clips, desc="evaluate", unit="clip", enabled=progress):
        phones = aligned_phones(c)
        if phones is not None:
            silent = M.silence_mask_from_phones(phones, n_frames=c.n_frames, fps=c.fps)
        else:
            silent = M.silence_mask_from_energy(y=c.y, sr=c.sr, fps=c.fps, n_frames=c.n_frames)
        preds = {"real": (np.nan_to_num(c.opening, nan=float(np.nanmedian(c.opening))), c.width)}
        for s, f in fns.items():
            if f is not None:
                preds[s] = f(c)
            elif s in batch:
                preds[s] = batch[s][c.id]
        for s, (o, w) in preds.items():
            sc = score_heldout_clip(c, o, w, phones=phones, silent=silent)
            meta = {"clip": c.id, "system": s, "group": c.group, "source": c.source}
            meta.update(person=c.person, n_frames=c.n_frames, fps=c.fps,
                        transcript_source=c.transcript_source)  # fmt: skip
            res.rows.append({**meta, **sc})
    return res
