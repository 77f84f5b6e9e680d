"""Fan et al. 2015: contextual phone labels -> F + two BLSTM layers -> lower-face code.

Also the phoneme + emotion baseline of Sakurai et al. 2018 (:class:`PhonemeEmotionBaseline`).

- Inputs (:func:`contextual_labels`): forced alignment of the recording's audio against
  its transcript (:func:`talkinghead.audio.phones.align`), then per video frame (at the
  frame centre ``(t + 0.5) / fps``): one-hot of the current, previous and next phone
  (39 ARPAbet phones + SIL; 3 x 40), the relative position within the phone (0..1),
  the phone's duration (s) and, with ``word_position``, the relative position within
  the word and a within-a-word flag: 122 or 124 values.
- Targets: ``target="aam"`` (default; the paper predicts AAM parameters): the AAM code
  of :mod:`talkinghead.recipes.sakurai2018` (8 shape + 8 appearance parameters) of a
  lower-face AAM, as the paper's: :class:`talkinghead.face.aam.AAM` with ``points`` =
  the 42 lower-face landmarks below (frames aligned on eyes and nose bridge; the texture
  of the lower face only: the triangles inside the jaw line and the nose base,
  :data:`talkinghead.face.aam.LOWER_FACE_OUTLINE`). ``aam_region="full"`` fits the full-face AAM
  of Sakurai's recipe instead (what fan2015 checkpoints trained before this option use;
  their ``aam.npz`` has no point subset and loads as before).
  ``target="shape"``: the lower-face code: jaw, nose base and lip landmarks (42 points),
  moved by the similarity that aligns the stable points (eyes, nose bridge) onto the
  training mean shape, projected on the PCA components keeping 98 % of the variance.
- Topology: one feed-forward layer under two BLSTM layers (``FBB``; 256 units each,
  the abstract gives no sizes). Optimiser: Adam 1e-3 (not given); loss: sum of squared
  errors, as mean squared error (the same minimiser).
"""

from __future__ import annotations

import numpy as np
import torch

from ..audio.phones import PHONES, SIL
from ..errors import InvalidArgumentError
from ..face.aam import LOWER_FACE_OUTLINE
from ..training.data import ClipData
from .base import Recipe
from .sakurai2018 import FaceCodeMixin
from .shape import LOWER_FACE_68, STABLE_68

__all__ = [
    "Fan2015",
    "AAM_REGIONS",
    "PhonemeEmotionBaseline",
    "PHONE_LABELS",
    "EMOTIONS",
    "contextual_labels",
    "triphone_labels",
    "emotion_one_hot",
]

#: fan2015's AAM regions: ``aam_region`` -> (the landmarks its AAM models, the outline of
#: its texture; None: all 68 points, the full face's triangulation).
AAM_REGIONS = {"lower": (LOWER_FACE_68, LOWER_FACE_OUTLINE), "full": (None, None)}
#: Label vocabulary of the one-hot phone codes: the 39 phones, then SIL.
PHONE_LABELS = (*PHONES, SIL)
_PHONE_INDEX = {p: i for i, p in enumerate(PHONE_LABELS)}
#: Emotion vocabulary (RAVDESS's eight, covering SAVEE's seven and CREMA-D's six).
EMOTIONS = ("neutral", "calm", "happy", "sad", "angry", "fearful", "disgust", "surprised")
_EMOTION_ALIASES = {
    "neu": "neutral", "n": "neutral", "hap": "happy", "happiness": "happy", "h": "happy",
    "sa": "sad", "sadness": "sad", "ang": "angry", "anger": "angry", "a": "angry",
    "fea": "fearful", "fear": "fearful", "f": "fearful", "dis": "disgust",
    "disgusted": "disgust", "d": "disgust", "sur": "surprised", "surprise": "surprised",
    "su": "surprised",
}  # fmt: skip


def _frame_times(n_frames: int, fps: float, start_frame: int = 0) -> np.ndarray:
    return (start_frame + np.arange(n_frames) + 0.5) / fps


def _phone_index_at(phones, t: np.ndarray) -> np.ndarray:
    ends = np.array([p.end for p in phones])
    return np.minimum(np.searchsorted(ends, t, side="right"), len(phones) - 1)


def _one_hot(labels, n: int, index: dict) -> np.ndarray:
    out = np.zeros((len(labels), n), np.float32)
    for i, lab in enumerate(labels):
        out[i, index.get(lab, index[SIL])] = 1.0
    return out


def contextual_labels(
    phones, *, n_frames: int, fps: float, start_frame: int = 0, words=None
) -> np.ndarray:
    """Fan et al.'s per-frame contextual label vectors.

    Parameters
    ----------
    phones : list of Phone
        Contiguous aligned phones of the recording (:func:`talkinghead.audio.phones.align`).
    n_frames, fps, start_frame
        The frames wanted: ``start_frame ... start_frame + n_frames - 1`` of the recording.
    words : list of Word, optional
        Given, two word-position values are appended.

    Returns
    -------
    np.ndarray, float32, shape (n_frames, 122) or (n_frames, 124)
        ``[one-hot current (40), previous (40), next (40), position in phone, phone
        duration (s)(, position in word, in a word)]``.
    """
    if not phones:
        raise InvalidArgumentError("phones must not be empty (align the transcript first)")
    t = _frame_times(n_frames, fps, start_frame)
    i = _phone_index_at(phones, t)
    labs = [p.label for p in phones]
    cur = [labs[k] for k in i]
    prev = [labs[k - 1] if k > 0 else SIL for k in i]
    nxt = [labs[k + 1] if k + 1 < len(labs) else SIL for k in i]
    n = len(PHONE_LABELS)
    st = np.array([phones[k].start for k in i])
    du = np.array([phones[k].duration for k in i])
    pos = np.clip((t - st) / np.maximum(du, 1e-9), 0.0, 1.0)
    cols = [
        _one_hot(cur, n, _PHONE_INDEX),
        _one_hot(prev, n, _PHONE_INDEX),
        _one_hot(nxt, n, _PHONE_INDEX),
        pos[:, None].astype(np.float32),
        du[:, None].astype(np.float32),
    ]
    if words is not None:
        wpos = np.zeros(n_frames, np.float32)
        inw = np.zeros(n_frames, np.float32)
        for w in words:
            sel = (t >= w.start) & (t < w.end)
            wpos[sel] = (t[sel] - w.start) / max(w.end - w.start, 1e-9)
            inw[sel] = 1.0
        cols += [wpos[:, None], inw[:, None]]
    return np.concatenate(cols, axis=1)


def triphone_labels(
    phones, *, n_frames: int, fps: float, start_frame: int = 0, total_frames: int | None = None
) -> np.ndarray:
    """Sakurai et al.'s baseline input: previous / current / next phone one-hots and
    a one-hot of the frame's place in the sequence (first, last, other).

    Returns
    -------
    np.ndarray, float32, shape (n_frames, 3 * 40 + 3)
    """
    x = contextual_labels(phones, n_frames=n_frames, fps=fps, start_frame=start_frame)
    n = len(PHONE_LABELS)
    tri = np.concatenate([x[:, n : 2 * n], x[:, :n], x[:, 2 * n : 3 * n]], axis=1)
    total = total_frames if total_frames is not None else start_frame + n_frames
    idx = start_frame + np.arange(n_frames)
    place = np.zeros((n_frames, 3), np.float32)
    place[idx == 0, 0] = 1.0
    place[idx == total - 1, 1] = 1.0
    place[(idx != 0) & (idx != total - 1), 2] = 1.0
    return np.concatenate([tri, place], axis=1)


def emotion_one_hot(emotion: str | None, n_frames: int) -> np.ndarray:
    """``(n_frames, 8)`` one-hot of :data:`EMOTIONS` (all zeros for an unknown label)."""
    out = np.zeros((n_frames, len(EMOTIONS)), np.float32)
    if emotion:
        e = emotion.strip().lower()
        e = _EMOTION_ALIASES.get(e, e)
        if e in EMOTIONS:
            out[:, EMOTIONS.index(e)] = 1.0
    return out


class _AlignedMixin:
    """Aligns each recording once (cached) and returns its phones and words."""

    def _init_align(self) -> None:
        self._alignments: dict = {}

    def alignment(self, clip: ClipData):
        from ..audio.io import load_audio
        from ..audio.phones import align

        if clip.recording not in self._alignments:
            if not clip.transcript or not clip.audio:
                raise InvalidArgumentError(
                    f"clip {clip.id!r} must have a transcript and audio for forced alignment "
                    f"(transcript={clip.transcript!r}, audio={clip.audio!r})"
                )
            y, sr = load_audio(clip.audio, sr=16000)
            self._alignments[clip.recording] = align(y=y, sr=sr, transcript=clip.transcript)
        return self._alignments[clip.recording]


class Fan2015(_AlignedMixin, FaceCodeMixin, Recipe):
    """Contextual labels -> lower-face code (see the module docstring)."""

    name = "fan2015"
    topologies = {"FBB": ["F256", "B256", "B256"]}
    default_topology = "FBB"
    dropout = 0.0
    lr = 1e-3
    batch_size = 16
    epochs = 100
    patience = 10
    points = LOWER_FACE_68
    align_on = STABLE_68

    def __init__(
        self,
        *,
        delay_ms: float = 0.0,
        lr: float | None = None,
        word_position: bool = True,
        target: str = "aam",
        aam_variance: float | None = None,
        aam_frame_step: int = 3,
        aam_max_frames: int = 600,
        aam_region: str = "lower",
    ) -> None:
        super().__init__(delay_ms=delay_ms, lr=lr)
        if aam_region not in AAM_REGIONS:
            raise InvalidArgumentError(
                f"aam_region={aam_region!r} must be one of {sorted(AAM_REGIONS)}"
            )
        self.aam_region = aam_region
        self.aam_points, self.aam_outline = AAM_REGIONS[aam_region]
        self.word_position = bool(word_position)
        self._init_code(
            target,
            aam_variance=aam_variance,
            aam_frame_step=aam_frame_step,
            aam_max_frames=aam_max_frames,
        )
        self._init_align()

    def state(self) -> dict:
        st = super().state()
        if self.target == "aam":
            st["aam_region"] = self.aam_region
        return st

    def load_state(self, state: dict) -> None:
        super().load_state(state)
        self.aam_region = state.get("aam_region", "full")  # older checkpoints: full face
        self.aam_points, self.aam_outline = AAM_REGIONS.get(self.aam_region, (None, None))

    def inputs(self, clip: ClipData) -> np.ndarray:
        a = self.alignment(clip)
        return contextual_labels(
            a.phones,
            n_frames=clip.n_frames,
            fps=clip.fps,
            start_frame=clip.start_frame,
            words=a.words if self.word_position else None,
        )


class PhonemeEmotionBaseline(_AlignedMixin, FaceCodeMixin, Recipe):
    """Sakurai et al.'s comparative method: triphone + place + emotion one-hots -> face code.

    Same targets and network family as :class:`~talkinghead.recipes.sakurai2018.Sakurai2018`
    with the paper's sizes for this input (FBF 624, BFF 806, BBF 516 units, ~2.45M
    parameters) and RMSprop with lr 0.001.

    The emotion one-hot is the clip's label (SAVEE's 7 emotions in the paper). A clip
    without a label (GRID: read, neutral speech) gets :attr:`missing_emotion`
    (``"neutral"``), not an all-zero vector that no labelled clip has; set it to None to
    keep zeros.
    """

    name = "sakurai2018_baseline"
    topologies = {"FBF": ["F624", "B624"], "BFF": ["B806", "F806"], "BBF": ["B516", "B516"]}
    default_topology = "BBF"
    dropout = 0.5
    lr = 1e-3
    batch_size = 16
    epochs = 100
    patience = 10
    #: Emotion given to clips without a label (None: all-zero one-hot).
    missing_emotion: str | None = "neutral"

    def __init__(
        self, *, delay_ms: float = 0.0, lr: float | None = None, target: str = "aam"
    ) -> None:
        super().__init__(delay_ms=delay_ms, lr=lr)
        self._init_code(target)
        self._init_align()

    def inputs(self, clip: ClipData) -> np.ndarray:
        a = self.alignment(clip)
        tri = triphone_labels(
            a.phones,
            n_frames=clip.n_frames,
            fps=clip.fps,
            start_frame=clip.start_frame,
            total_frames=None,
        )
        emotion = clip.emotion or self.missing_emotion
        return np.concatenate([tri, emotion_one_hot(emotion, clip.n_frames)], axis=1)

    def optimizer(self, params) -> torch.optim.Optimizer:
        return torch.optim.RMSprop(params, lr=self.lr, alpha=0.99, eps=1e-8)
