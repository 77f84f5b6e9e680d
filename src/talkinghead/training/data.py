"""Training data: prepared clips (``talkinghead prepare`` folders) -> fixed-length windows.

:func:`load_clips` reads a prepared corpus folder (:mod:`talkinghead.corpora.manifest`:
``recordings.jsonl``, ``clips.jsonl``, ``arrays/<clip>.npz``) and returns the accepted
clips of one speaker-disjoint split as :class:`ClipData` (arrays are read lazily, on
:meth:`ClipData.array`). A recipe turns each clip into ``x (T, D)``, ``y (T, K)`` and a
``mask (T,)``; :class:`SequenceDataset` draws random fixed-length windows of those and
:func:`collate` pads them into a batch.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import InvalidArgumentError, MediaError

__all__ = [
    "ClipData",
    "SPLITS",
    "load_clips",
    "split_recordings",
    "shift_targets",
    "SequenceDataset",
    "collate",
]

SPLITS = ("train", "valid", "test", "all")


@dataclass
class ClipData:
    """One accepted clip of a prepared corpus, with its recording's labels.

    Attributes
    ----------
    id, recording : str
        Clip id and its recording id.
    path : Path
        The clip's ``.npz`` (arrays: ``mesh (T, 468, 3)``, ``landmarks68 (T, 68, 2)``,
        ``rotation (T, 3)``, ``valid (T,)``, ``audio_<set> (T, D)``, ...).
    n_frames : int
    fps : float
    start_frame : int
        First frame of the clip in its recording.
    speaker, emotion, transcript : str or None
        Labels of the recording.
    audio : str or None
        Audio file of the whole recording (for recipes that need the signal).
    features : dict[str, int]
        Audio feature sets stored in the .npz and their dimensions.
    """

    id: str
    recording: str
    path: Path
    n_frames: int
    fps: float
    start_frame: int = 0
    speaker: str | None = None
    emotion: str | None = None
    transcript: str | None = None
    audio: str | None = None
    features: dict = field(default_factory=dict)
    _cache: dict = field(default_factory=dict, repr=False, compare=False)

    def array(self, name: str) -> np.ndarray:
        """Array ``name`` of the clip's .npz (cached).

        Raises
        ------
        MediaError
            The file or the array is missing.
        """
        if name not in self._cache:
            try:
                with np.load(self.path) as z:
                    if name not in z.files:
                        raise MediaError(
                            f"path='{self.path}' lacks array {name!r}; it holds {sorted(z.files)}"
                        )
                    self._cache[name] = z[name]
            except FileNotFoundError:
                raise MediaError(f"path='{self.path}' must exist (clip arrays)") from None
        return self._cache[name]

    def feature(self, name: str) -> np.ndarray:
        """Audio feature set ``name``: ``audio_<name>``, float32, shape (T, D)."""
        if name not in self.features:
            raise MediaError(
                f"clip {self.id!r} has no feature set {name!r} (it has {sorted(self.features)}); "
                f"prepare the corpus with --features {name}"
            )
        return np.asarray(self.array(f"audio_{name}"), dtype=np.float32)

    @property
    def valid(self) -> np.ndarray:
        """bool, shape (T,): frames where a face was tracked."""
        return np.asarray(self.array("valid"), dtype=bool)

    def clear(self) -> None:
        """Drop the cached arrays."""
        self._cache.clear()


def split_recordings(
    corpus_dir: str | os.PathLike,
    *,
    valid: float = 0.1,
    test: float = 0.1,
    seed: int = 0,
    splits: dict | None = None,
) -> dict[str, list[str]]:
    """Recording ids per split.

    ``splits`` (recording ids per split, e.g. from a paper's protocol:
    :meth:`talkinghead.recipes.protocols.Protocol.split_corpus`) wins; then a
    ``splits.json`` in the corpus folder (``{"train": [ids], "valid": [...], "test":
    [...]}``); otherwise :func:`talkinghead.corpora.manifest.split_by_speaker` with
    ``allow_shared_speakers=True`` (a corpus with too few speakers is split by recording).
    """
    from ..corpora.manifest import read_recordings, split_by_speaker

    if splits is not None:
        return {k: [str(i) for i in splits.get(k, [])] for k in ("train", "valid", "test")}
    corpus_dir = Path(corpus_dir)
    fixed = corpus_dir / "splits.json"
    if fixed.is_file():
        try:
            d = json.loads(fixed.read_text(encoding="utf-8"))
            return {k: [str(i) for i in d.get(k, [])] for k in ("train", "valid", "test")}
        except (json.JSONDecodeError, AttributeError, TypeError) as e:
            raise MediaError(
                f"path='{fixed}' must be a JSON object of id lists per split: {e}"
            ) from e
    recs = read_recordings(corpus_dir)
    parts = split_by_speaker(recs, valid=valid, test=test, seed=seed, allow_shared_speakers=True)
    return {k: sorted(r.id for r in v) for k, v in parts.items()}


def load_clips(
    corpus_dir: str | os.PathLike,
    split: str = "all",
    *,
    valid: float = 0.1,
    test: float = 0.1,
    seed: int = 0,
    max_clips: int | None = None,
    min_frames: int = 2,
    splits: dict | None = None,
) -> list[ClipData]:
    """Accepted clips of a prepared corpus folder, for one split.

    Parameters
    ----------
    corpus_dir : path
        Output folder of ``talkinghead prepare``.
    split : {"train", "valid", "test", "all"}
    valid, test, seed
        Split fractions and seed (see :func:`split_recordings`).
    max_clips : int or None
        Keep the first ``max_clips`` clips (in id order) of the split.
    min_frames : int
        Skip clips shorter than this.
    splits : dict, optional
        Recording ids per split (see :func:`split_recordings`).

    Returns
    -------
    list of ClipData, sorted by id.

    Raises
    ------
    MediaError
        The folder holds no ``recordings.jsonl``.
    """
    from ..corpora.manifest import read_clips, read_recordings

    if split not in SPLITS:
        raise InvalidArgumentError(f"split={split!r} must be one of {SPLITS}")
    corpus_dir = Path(corpus_dir)
    if not (corpus_dir / "recordings.jsonl").is_file():
        raise MediaError(
            f"path='{corpus_dir}' must be a prepared corpus folder (no recordings.jsonl); "
            "run `talkinghead prepare` first"
        )
    recs = {r.id: r for r in read_recordings(corpus_dir)}
    keep = None
    if split != "all":
        keep = set(
            split_recordings(corpus_dir, valid=valid, test=test, seed=seed, splits=splits)[split]
        )
    out = []
    for c in sorted(read_clips(corpus_dir, status="ok"), key=lambda c: c.id):
        if keep is not None and c.recording not in keep:
            continue
        if c.path is None or c.n_frames < min_frames:
            continue
        r = recs.get(c.recording)
        out.append(
            ClipData(
                id=c.id,
                recording=c.recording,
                path=corpus_dir / c.path,
                n_frames=int(c.n_frames),
                fps=float(c.fps or (r.fps if r else 0.0)),
                start_frame=int(c.start_frame),
                speaker=r.speaker if r else None,
                emotion=r.emotion if r else None,
                transcript=r.transcript if r else None,
                audio=r.audio if r else None,
                features=dict(c.features),
            )
        )
        if max_clips is not None and len(out) >= max_clips:
            break
    return out


class SequenceDataset:
    """Random fixed-length windows over a list of ``(x, y, mask)`` sequences.

    Each epoch draws, for every sequence of length ``T``, ``max(1, round(T / window))``
    windows at random starts (a sequence shorter than ``window`` gives one window, padded
    with ``mask = 0``), in a random order; the draw depends only on ``(seed, epoch)``,
    so a resumed run sees the same windows.

    Parameters
    ----------
    xs : list of np.ndarray, each (T_i, D)
    ys : list of np.ndarray, each (T_i, K)
    masks : list of np.ndarray, each (T_i,), optional
        Frames that count in the loss (default: all).
    window : int
        Frames per window.
    seed : int
    """

    def __init__(self, xs, ys, masks=None, *, window: int, seed: int = 0) -> None:
        if len(xs) != len(ys) or (masks is not None and len(masks) != len(xs)):
            raise InvalidArgumentError("xs, ys and masks must have one entry per sequence")
        if not xs:
            raise InvalidArgumentError("xs must hold at least one sequence")
        if window < 1:
            raise InvalidArgumentError(f"window={window!r} must be >= 1")
        self.xs = [np.asarray(x, dtype=np.float32) for x in xs]
        self.ys = [np.asarray(y, dtype=np.float32) for y in ys]
        if masks is None:
            masks = [np.ones(len(x), bool) for x in xs]
        self.masks = [np.asarray(m, dtype=bool) for m in masks]
        for i, (x, y, m) in enumerate(zip(self.xs, self.ys, self.masks, strict=True)):
            if not (x.ndim == 2 and y.ndim == 2 and len(x) == len(y) == len(m)):
                raise InvalidArgumentError(
                    f"sequence {i}: x {x.shape}, y {y.shape}, mask {m.shape} must be "
                    "(T, D), (T, K), (T,) with the same T"
                )
        self.window = int(window)
        self.seed = int(seed)
        self.epoch = 0
        self._index = self._draw()

    @property
    def n_frames(self) -> int:
        """Total frames of all sequences."""
        return int(sum(len(x) for x in self.xs))

    def set_epoch(self, epoch: int) -> None:
        """Redraw the windows for ``epoch``."""
        self.epoch = int(epoch)
        self._index = self._draw()

    def _draw(self) -> list[tuple[int, int]]:
        rng = np.random.default_rng([self.seed, self.epoch])
        idx = []
        for i, x in enumerate(self.xs):
            T = len(x)
            n = max(1, round(T / self.window))
            hi = max(0, T - self.window)
            idx += [(i, int(s)) for s in rng.integers(0, hi + 1, size=n)]
        order = rng.permutation(len(idx))
        return [idx[j] for j in order]

    def __len__(self) -> int:
        return len(self._index)

    def __getitem__(self, k: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Window ``k``: ``x (W, D)``, ``y (W, K)``, ``mask (W,)`` with ``W <= window``."""
        i, s = self._index[k]
        e = s + self.window
        return self.xs[i][s:e], self.ys[i][s:e], self.masks[i][s:e]


def collate(items):
    """Pad windows to one batch.

    Parameters
    ----------
    items : list of (x (T_i, D), y (T_i, K), mask (T_i,))

    Returns
    -------
    x : torch.Tensor, float32, (B, T, D)
    y : torch.Tensor, float32, (B, T, K)
    mask : torch.Tensor, bool, (B, T)
        False at padding (and where the sequence's own mask is False).
    lengths : torch.Tensor, int64, (B,)
    """
    import torch

    T = max(len(x) for x, _, _ in items)
    B = len(items)
    D, K = items[0][0].shape[1], items[0][1].shape[1]
    x = np.zeros((B, T, D), np.float32)
    y = np.zeros((B, T, K), np.float32)
    m = np.zeros((B, T), bool)
    lengths = np.zeros(B, np.int64)
    for b, (xi, yi, mi) in enumerate(items):
        n = len(xi)
        x[b, :n], y[b, :n], m[b, :n], lengths[b] = xi, yi, mi, n
    return torch.from_numpy(x), torch.from_numpy(y), torch.from_numpy(m), torch.from_numpy(lengths)


def shift_targets(y: np.ndarray, mask: np.ndarray, delay: int) -> tuple[np.ndarray, np.ndarray]:
    """Delay targets by ``delay`` frames, as in Eskimez et al.'s code.

    Row ``t`` of the result is frame ``t - delay`` (the first rows repeat frame 0), so a
    unidirectional model reads ``delay`` frames of future input before emitting a frame.

    Parameters
    ----------
    y : np.ndarray, shape (T, K)
    mask : np.ndarray, bool, shape (T,)
    delay : int, >= 0

    Returns
    -------
    y, mask : shifted, same shapes.
    """
    if delay <= 0 or len(y) == 0:
        return y, mask
    pad = np.repeat(y[:1], delay, axis=0)
    mpad = np.repeat(mask[:1], delay, axis=0)
    T = len(y)
    return np.concatenate([pad, y])[:T], np.concatenate([mpad, mask])[:T]
