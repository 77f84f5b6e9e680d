"""Rule-based phonetic animator: phones -> visemes -> Cohen-Massaro coarticulation -> landmarks.

The first, training-free animator. The pipeline:

1. phones from the audio (:func:`talkinghead.audio.phones.recognize_phones`), or
   from forced alignment when the transcript is known (:func:`~talkinghead.audio.phones.align`);
2. each phone segment ``i`` gets the articulatory target ``T_i`` of its viseme
   (:mod:`talkinghead.face.visemes`: jaw_open, lip_width, lip_round, lip_close);
3. Cohen & Massaro (1993) coarticulation: segment ``i`` with centre ``c_i`` has, for
   each parameter ``p``, the dominance

   ``D_ip(t) = alpha_ip * exp(-theta_ip(t) * |t - c_i| ** c)``

   with ``theta_ip = theta_before * rate_ip`` for ``t < c_i`` (anticipation) and
   ``theta_after * rate_ip`` after (carry-over); the articulation is the
   dominance-weighted mean of the targets,

   ``p(t) = sum_i D_ip(t) T_ip / sum_i D_ip(t)``,

   evaluated at the video frame times ``t_k = k / fps``. All centres are moved
   ``lead`` seconds earlier: the visible articulation starts before the sound
   (the mouth opens 40-80 ms before the acoustic onset);
4. lips close fully on /p b m/: bilabials have a very high ``lip_close`` dominance,
   and the frames inside each (lead-shifted) bilabial segment, or the one nearest
   its centre, are forced to ``lip_close = 1``; silences longer than
   ``rest_min_silence`` are split into closely spaced rest targets so the face
   returns to rest (closed lips, neutral shape) in pauses;
5. :func:`articulation_to_landmarks` deforms a neutral 68-point face with the
   articulation (jaw, lip corners, lip closure, rounding).

Pure numpy at import; phone recognition imports pocketsphinx on use.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field

import numpy as np

from ..audio.phones import SIL, AlignmentError, Phone, Word
from ..errors import InvalidArgumentError, check_positive
from ..face.articulation import (
    DEFAULT_NEUTRAL_68,
    articulation_to_landmarks,
    check_neutral_68,
)
from ..face.landmarks68 import mouth_openness_68
from ..face.visemes import (
    JAW_OPEN,
    LIP_CLOSE,
    LIP_ROUND,
    phone_to_viseme,
    viseme_arrays,
    viseme_index,
)

__all__ = [
    "DEFAULT_NEUTRAL_68",
    "PhoneticConfig",
    "PhoneticResult",
    "PhoneticAnimator",
    "animate_phones",
    "articulation_to_landmarks",
]


# --------------------------------------------------------------------------- config/result


@dataclass(frozen=True)
class PhoneticConfig:
    """Settings of :class:`PhoneticAnimator` / :func:`animate_phones`.

    Attributes
    ----------
    fps : float
        Default video frame rate (25).
    lead : float
        Seconds by which the visible articulation precedes the sound (0.06; the
        mouth opens 40-80 ms before the acoustic onset). 0 for no anticipation.
    theta_before : float
        Dominance decay rate before a segment centre, 1/s (22: a segment's influence
        falls to 1/e 45 ms before its centre; anticipatory coarticulation is long).
    theta_after : float
        Dominance decay rate after a segment centre, 1/s (30: carry-over is shorter).
    exponent : float
        The ``c`` of ``exp(-theta |t - c_i| ** c)`` (1, as in Cohen & Massaro).
    rest_min_silence : float
        Silences at least this long (s) bring the face to rest (0.2).
    rest_step : float
        Spacing (s) of the rest targets placed in such silences, and of the
        repeated targets of phones longer than ``max_segment`` (0.08).
    max_segment : float
        Phones longer than this (s) get repeated targets along their span (0.3).
    pause_dominance : float
        Dominance multiplier of silences shorter than ``rest_min_silence`` (0.3):
        short pauses between words barely close the mouth.
    force_bilabial_closure : bool
        Force ``lip_close = 1`` at the frames of each /p b m/ (True).
    window : float
        Only segments whose centre is within this many seconds of a frame are
        summed (1.5; their dominance beyond is < 1e-14 of a near one).
    """

    fps: float = 25.0
    lead: float = 0.06
    theta_before: float = 22.0
    theta_after: float = 30.0
    exponent: float = 1.0
    rest_min_silence: float = 0.2
    rest_step: float = 0.08
    max_segment: float = 0.3
    pause_dominance: float = 0.3
    force_bilabial_closure: bool = True
    window: float = 1.5

    def __post_init__(self) -> None:
        for name in ("fps", "theta_before", "theta_after", "exponent", "rest_min_silence",
                     "rest_step", "max_segment", "pause_dominance", "window"):  # fmt: skip
            check_positive(name, getattr(self, name))
        if not isinstance(self.lead, int | float) or not abs(self.lead) <= 0.5:
            raise InvalidArgumentError(
                f"lead={self.lead!r} must be a number of seconds in [-0.5, 0.5]"
            )


@dataclass
class PhoneticResult:
    """Output of :class:`PhoneticAnimator`.

    Attributes
    ----------
    fps : float
        Frame rate; frame ``k`` shows time ``k / fps``.
    phones : list of Phone
        The phones used (recognised or aligned), a contiguous cover of the audio.
    articulation : np.ndarray, shape (n_frames, 4), float32
        Columns ``jaw_open, lip_width, lip_round, lip_close``
        (:data:`talkinghead.face.visemes.PARAMS`).
    landmarks : np.ndarray, shape (n_frames, 68, 2), float32
        The deformed neutral face, in the neutral face's units.
    mouth_open : np.ndarray, shape (n_frames,), float32
        ``|p62 - p66| / |p36 - p45|`` of ``landmarks``.
    words : list of Word or None
        Aligned words when a transcript was given (None otherwise).
    """

    fps: float
    phones: list[Phone]
    articulation: np.ndarray
    landmarks: np.ndarray
    mouth_open: np.ndarray
    words: list[Word] | None = field(default=None)

    @property
    def n_frames(self) -> int:
        """Number of video frames."""
        return int(self.articulation.shape[0])


# --------------------------------------------------------------------------- coarticulation

_BILABIAL = "BILABIAL"


def _kernels(phones: list[Phone], cfg: PhoneticConfig):
    """Dominance kernels: (centres (K,), viseme rows (K,), alpha multipliers (K,))."""
    centres: list[float] = []
    rows: list[int] = []
    scale: list[float] = []
    for ph in phones:
        v = viseme_index(ph.label)
        dur = ph.end - ph.start
        is_sil = phone_to_viseme(ph.label) == SIL
        if is_sil and dur < cfg.rest_min_silence:
            n, a = 1, cfg.pause_dominance
        elif (is_sil and dur >= cfg.rest_min_silence) or dur > cfg.max_segment:
            n, a = max(1, round(dur / cfg.rest_step)), 1.0
        else:
            n, a = 1, 1.0
        for k in range(n):
            centres.append(ph.start + (k + 0.5) * dur / n - cfg.lead)
            rows.append(v)
            scale.append(a)
    return np.array(centres), np.array(rows, dtype=np.int64), np.array(scale)


def _check_phones(phones) -> list[Phone]:
    if isinstance(phones, Phone):
        raise InvalidArgumentError("phones must be a list of Phone, got a single Phone")
    out = list(phones)
    for i, p in enumerate(out):
        if not isinstance(p, Phone):
            raise InvalidArgumentError(f"phones[{i}]={p!r} must be a Phone")
        if not (math.isfinite(p.start) and math.isfinite(p.end) and p.end >= p.start):
            raise InvalidArgumentError(
                f"phones[{i}]={p!r} must have finite times with start <= end"
            )
        phone_to_viseme(p.label)  # validates the label
    return sorted(out, key=lambda p: p.start)


def animate_phones(
    phones: list[Phone],
    *,
    n_frames: int,
    fps: float,
    config: PhoneticConfig | None = None,
) -> np.ndarray:
    """Articulation trajectories from timed phones (Cohen-Massaro coarticulation).

    Parameters
    ----------
    phones : list of Phone
        Timed phones (ARPAbet labels, ``"SIL"`` for pauses); usually a contiguous
        cover of the audio. Frames not covered are animated from the nearest phones.
    n_frames : int
        Number of video frames (>= 0); frame ``k`` is at time ``k / fps``.
    fps : float
        Video frame rate.
    config : PhoneticConfig, optional
        Coarticulation settings (its ``fps`` is ignored here).

    Returns
    -------
    np.ndarray, shape (n_frames, 4), float32
        Columns ``jaw_open, lip_width, lip_round, lip_close``
        (see :mod:`talkinghead.face.visemes` for units). With no phones, the rest pose.
    """
    cfg = config or PhoneticConfig()
    fps = check_positive("fps", fps)
    if isinstance(n_frames, bool) or int(n_frames) != n_frames or n_frames < 0:
        raise InvalidArgumentError(f"n_frames={n_frames!r} must be an integer >= 0")
    n_frames = int(n_frames)
    phones = _check_phones(phones)
    target, alpha, rate = viseme_arrays()
    rest = target[viseme_index(SIL)]
    out = np.tile(rest, (n_frames, 1))
    if n_frames == 0 or not phones:
        return out.astype(np.float32)

    c, rows, ascale = _kernels(phones, cfg)
    order = np.argsort(c, kind="stable")
    c, rows, ascale = c[order], rows[order], ascale[order]
    log_alpha = np.log(alpha[rows] * ascale[:, None])  # (K, 4)
    r = rate[rows]  # (K, 4)
    tgt = target[rows]  # (K, 4)
    t_all = np.arange(n_frames) / fps
    block = 512
    for b0 in range(0, n_frames, block):
        t = t_all[b0 : b0 + block]
        lo = int(np.searchsorted(c, t[0] - cfg.window, side="left"))
        hi = int(np.searchsorted(c, t[-1] + cfg.window, side="right"))
        lo, hi = min(lo, len(c) - 1), max(hi, 1)  # always at least the nearest kernel
        lo = min(lo, hi - 1)
        dt = t[:, None] - c[None, lo:hi]  # (B, K)
        theta = np.where(dt < 0, cfg.theta_before, cfg.theta_after)  # (B, K)
        dist = np.abs(dt) ** cfg.exponent
        # log D (B, K, 4), normalised per frame and parameter (softmax over segments)
        logd = log_alpha[None, lo:hi, :] - (theta * dist)[:, :, None] * r[None, lo:hi, :]
        logd -= logd.max(axis=1, keepdims=True)
        w = np.exp(logd)
        out[b0 : b0 + block] = (w * tgt[None, lo:hi, :]).sum(axis=1) / w.sum(axis=1)

    if cfg.force_bilabial_closure:
        for ph in phones:
            if phone_to_viseme(ph.label) != _BILABIAL:
                continue
            s, e = ph.start - cfg.lead, ph.end - cfg.lead
            k0, k1 = math.ceil(s * fps - 1e-9), math.floor(e * fps + 1e-9)
            ks = list(range(max(k0, 0), min(k1, n_frames - 1) + 1))
            kc = int(round(0.5 * (s + e) * fps))
            if 0 <= kc < n_frames:
                ks.append(kc)
            out[ks, LIP_CLOSE] = 1.0
    out[:, JAW_OPEN] = np.maximum(out[:, JAW_OPEN], 0.0)
    out[:, LIP_ROUND] = np.clip(out[:, LIP_ROUND], 0.0, 1.0)
    out[:, LIP_CLOSE] = np.clip(out[:, LIP_CLOSE], 0.0, 1.0)
    return out.astype(np.float32)


# --------------------------------------------------------------------------- animator


class PhoneticAnimator:
    """Rule-based speech -> face animator (phones, visemes, coarticulation).

    Parameters
    ----------
    config : PhoneticConfig, optional
        Coarticulation settings (defaults documented on :class:`PhoneticConfig`).
    neutral : np.ndarray, shape (68, 2), optional
        Neutral face to deform (default :data:`DEFAULT_NEUTRAL_68`).

    Examples
    --------
    >>> anim = PhoneticAnimator()                                  # doctest: +SKIP
    >>> res = anim(y=y, sr=sr, fps=25, transcript="hello there")   # doctest: +SKIP
    >>> res.landmarks.shape                                        # doctest: +SKIP
    (n_frames, 68, 2)
    """

    def __init__(self, config: PhoneticConfig | None = None, *, neutral=None) -> None:
        self.config = config or PhoneticConfig()
        self.neutral = check_neutral_68(neutral)

    def animate_phones(self, phones: list[Phone], *, n_frames: int, fps: float) -> np.ndarray:
        """Articulation (n_frames, 4) from phones; see :func:`animate_phones`."""
        return animate_phones(phones, n_frames=n_frames, fps=fps, config=self.config)

    def articulation_to_landmarks(self, articulation: np.ndarray) -> np.ndarray:
        """Landmarks (n_frames, 68, 2) of ``self.neutral``; see the module function."""
        return articulation_to_landmarks(articulation, neutral=self.neutral)

    def __call__(
        self,
        *,
        y: np.ndarray,
        sr: int,
        fps: float | None = None,
        n_frames: int | None = None,
        transcript: str | None = None,
    ) -> PhoneticResult:
        """Animate speech.

        Parameters
        ----------
        y : np.ndarray, shape (n,) or (channels, n)
            Speech samples.
        sr : int
            Sample rate in Hz.
        fps : float, optional
            Video frame rate (default ``config.fps``).
        n_frames : int, optional
            Number of frames (default ``round(n / sr * fps)``, at least 1).
        transcript : str, optional
            What is said: phones come from forced alignment (more accurate) instead
            of phone recognition. If alignment fails, a ``RuntimeWarning`` is issued
            and phone recognition is used.

        Returns
        -------
        PhoneticResult
        """
        from ..audio import phones as ph

        fps = check_positive("fps", self.config.fps if fps is None else fps)
        words = None
        if transcript is not None:
            try:
                al = ph.align(y=y, sr=sr, transcript=transcript)
                phones, words = al.phones, al.words
            except AlignmentError as e:
                warnings.warn(f"{e}; using phone recognition instead", RuntimeWarning, stacklevel=2)
                phones = ph.recognize_phones(y=y, sr=sr)
        else:
            phones = ph.recognize_phones(y=y, sr=sr)
        duration = phones[-1].end if phones else 0.0
        if n_frames is None:
            n_frames = max(1, int(round(duration * fps)))
        art = animate_phones(phones, n_frames=n_frames, fps=fps, config=self.config)
        lm = articulation_to_landmarks(art, neutral=self.neutral)
        mouth = mouth_openness_68(lm).astype(np.float32)
        return PhoneticResult(
            fps=fps, phones=phones, articulation=art, landmarks=lm, mouth_open=mouth, words=words
        )
