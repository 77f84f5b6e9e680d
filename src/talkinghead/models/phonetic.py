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
from ..face.landmarks68 import mouth_openness_68
from ..face.visemes import (
    JAW_OPEN,
    LIP_CLOSE,
    LIP_ROUND,
    LIP_WIDTH,
    PARAMS,
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


# --------------------------------------------------------------------------- neutral face


def _make_neutral() -> np.ndarray:
    """A plausible frontal neutral 68-point face with closed lips.

    Eye-pinned units: eye centres at (-0.5, 0) and (0.5, 0); x to the image right
    (the subject's left), y downward as in images.
    """
    p = np.zeros((68, 2))
    # jaw 0-16: half ellipse from the right ear (image left) through the chin (8)
    phi = np.linspace(0.0, math.pi, 17)
    p[0:17, 0] = -0.98 * np.cos(phi)
    p[0:17, 1] = 0.05 + 1.42 * np.sin(phi) ** 0.85
    # brows 17-21 (right, outer -> inner) and 22-26 (left, inner -> outer)
    bx = np.array([-0.85, -0.72, -0.56, -0.40, -0.24])
    by = np.array([-0.22, -0.30, -0.33, -0.32, -0.28])
    p[17:22] = np.c_[bx, by]
    p[22:27] = np.c_[-bx[::-1], by[::-1]]
    # nose bridge 27-30 and base 31-35
    p[27:31] = np.c_[np.zeros(4), [0.0, 0.15, 0.30, 0.45]]
    p[31:36] = np.c_[[-0.17, -0.09, 0.0, 0.09, 0.17], [0.54, 0.57, 0.59, 0.57, 0.54]]
    # eyes: right 36-41 (outer corner 36, inner 39), left 42-47 (inner 42, outer 45)
    ex = np.array([-0.65, -0.56, -0.44, -0.35, -0.44, -0.56])
    ey = np.array([0.0, -0.06, -0.06, 0.0, 0.05, 0.05])
    p[36:42] = np.c_[ex, ey]
    p[42:48] = np.c_[-ex[[3, 2, 1, 0, 5, 4]], ey[[3, 2, 1, 0, 5, 4]]]
    # outer lips 48-59 (48 right corner, 51 upper centre, 54 left corner, 57 lower centre)
    p[48:60] = [
        [-0.40, 0.95], [-0.27, 0.88], [-0.12, 0.84], [0.0, 0.86], [0.12, 0.84], [0.27, 0.88],
        [0.40, 0.95], [0.27, 1.04], [0.13, 1.08], [0.0, 1.09], [-0.13, 1.08], [-0.27, 1.04],
    ]  # fmt: skip
    # inner lips 60-67 (closed: 61-63 coincide with 67-65)
    p[60:68] = [
        [-0.34, 0.95], [-0.12, 0.945], [0.0, 0.95], [0.12, 0.945],
        [0.34, 0.95], [0.12, 0.945], [0.0, 0.95], [-0.12, 0.945],
    ]  # fmt: skip
    return p


#: Fallback neutral 68-point face (closed mouth), eye-pinned units: eye centres at
#: (-0.5, 0) and (0.5, 0), y downward. Outer eye-corner distance 1.3, mouth width 0.8.
#: Replace with the tracked mean shape when available (``neutral=`` everywhere).
DEFAULT_NEUTRAL_68: np.ndarray = _make_neutral()
DEFAULT_NEUTRAL_68.flags.writeable = False


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


# --------------------------------------------------------------------------- landmarks

# jaw drop weights: lower lip (outer 55-59, inner 65-67), lip corners, jaw line 4-12
_LOWER_OUTER = np.array([55, 56, 57, 58, 59])
_LOWER_OUTER_W = np.array([0.7, 0.92, 1.0, 0.92, 0.7])
_LOWER_INNER = np.array([65, 66, 67])
_LOWER_INNER_W = np.array([0.88, 1.0, 0.88])
_CORNERS = np.array([48, 54, 60, 64])
_CORNER_W = 0.45
_JAW = np.arange(3, 14)
_JAW_W = 0.5 * (1.0 + np.cos(np.pi * (_JAW - 8) / 5.0))  # 1 at the chin, 0 at 3 and 13
# inner-lip pairs (upper, lower) and the outer points that follow them
_PAIRS_UP = np.array([61, 62, 63])
_PAIRS_LO = np.array([67, 66, 65])
_UPPER_SHARE = 0.4  # the upper lip covers 40 % of the closing, the lower lip 60 %
_MOUTH = np.arange(48, 68)
_UPPER_OUTER = np.array([49, 50, 51, 52, 53])
_UPPER_OUTER_W = np.array([0.7, 0.92, 1.0, 0.92, 0.7])


def _check_neutral(neutral) -> np.ndarray:
    if neutral is None:
        return np.asarray(DEFAULT_NEUTRAL_68, dtype=np.float64)
    n = np.asarray(neutral, dtype=np.float64)
    if n.shape != (68, 2):
        raise InvalidArgumentError(f"neutral.shape={n.shape} must be (68, 2)")
    if not np.all(np.isfinite(n)):
        raise InvalidArgumentError("neutral must hold finite coordinates (found NaN/inf)")
    if np.linalg.norm(n[45] - n[36]) <= 0 or np.linalg.norm(n[54] - n[48]) <= 0:
        raise InvalidArgumentError(
            "neutral must have distinct outer eye corners (36, 45) and mouth corners (48, 54)"
        )
    return n


#: How much ``lip_round = 1`` narrows the mouth (fraction of its width).
ROUND_NARROWING = 0.35
#: Outer lip points moved by the ``upper_up`` / ``lower_down`` / ``smile`` columns of a
#: 7-column articulation (:data:`talkinghead.face.articulation.ARTICULATION_NAMES`).
_CORNERS_SMILE_W = np.array([1.0, 1.0, 0.8, 0.8])


def articulation_to_landmarks(
    articulation: np.ndarray,
    *,
    neutral: np.ndarray | None = None,
    round_narrowing: float = ROUND_NARROWING,
    round_pout: float = 0.05,
) -> np.ndarray:
    """Deform a neutral 68-point face by articulation parameters.

    Works in the face's own frame (x along the outer eye corners 36 -> 45, y
    perpendicular towards the mouth), so any similarity-transformed neutral works
    (pixels or normalised units, y up or down).

    - ``jaw_open`` (fraction of ``|p36 - p45|``) lowers the lower lip (outer 55-59,
      inner 65-67), the lip corners (45 % of it) and the jaw line 4-12 (fully at the
      chin 8, smoothly less towards 4 and 12);
    - ``lip_width`` scales the mouth width about the mouth centre by ``1 + lip_width``;
    - ``lip_round`` narrows the mouth by ``round_narrowing * lip_round`` of its width,
      opens the lateral inner points like the centre (an "o" instead of a slit) and
      pouts the outer lips (``round_pout * lip_round`` of ``|p36 - p45|`` outwards);
    - ``lip_close`` shrinks each inner-lip gap (61-67, 62-66, 63-65) by the factor
      ``1 - lip_close`` (upper lip 40 %, lower lip 60 % of the way); the outer lips
      follow, so at 1 the inner lips coincide;
    - with 7 columns (:data:`talkinghead.face.articulation.ARTICULATION_NAMES`, the learned
      mouth) also ``upper_up`` raises the outer upper lip 49-53, ``lower_down`` lowers the
      outer lower lip 55-59, and ``smile`` raises the lip corners 48, 54 (and 80 % of it the
      inner corners 60, 64), each by that fraction of ``|p36 - p45|``; the inner-lip gap
      (the opening) is left as ``jaw_open`` drew it.

    Parameters
    ----------
    articulation : np.ndarray, shape (n_frames, 4 or 7) or (4,) or (7,)
        Columns ``jaw_open, lip_width, lip_round, lip_close`` [, ``upper_up, lower_down,
        smile``].
    neutral : np.ndarray, shape (68, 2), optional
        The neutral face (default :data:`DEFAULT_NEUTRAL_68`).
    round_narrowing, round_pout : float
        Strength of rounding (see above).

    Returns
    -------
    np.ndarray, shape (n_frames, 68, 2) (or (68, 2) for a single frame), float32
        In the units of ``neutral``.
    """
    a = np.asarray(articulation, dtype=np.float64)
    single = a.ndim == 1
    if single:
        a = a[None]
    if a.ndim != 2 or a.shape[1] not in (len(PARAMS), len(PARAMS) + 3):
        raise InvalidArgumentError(
            f"articulation.shape={np.shape(articulation)} must be (n_frames, 4 or 7) or (4,)"
        )
    if not np.all(np.isfinite(a)):
        raise InvalidArgumentError("articulation must be finite (found NaN/inf)")
    n = _check_neutral(neutral)
    iod = float(np.linalg.norm(n[45] - n[36]))
    ex = (n[45] - n[36]) / iod
    ey = np.array([-ex[1], ex[0]])
    origin = 0.5 * (n[48] + n[54])
    eye_mid = 0.5 * (n[36] + n[45])
    if np.dot(origin - eye_mid, ey) < 0:
        ey = -ey
    basis = np.stack([ex, ey])  # rows: local axes
    local = (n - origin) @ basis.T  # (68, 2): u along the eyes, v towards the chin

    T = a.shape[0]
    jaw = np.maximum(a[:, JAW_OPEN], 0.0) * iod  # (T,)
    width = a[:, LIP_WIDTH]
    rnd = np.clip(a[:, LIP_ROUND], 0.0, 1.0)
    close = np.clip(a[:, LIP_CLOSE], 0.0, 1.0)
    pts = np.broadcast_to(local, (T, 68, 2)).copy()

    # horizontal: spreading and rounding narrow/widen the mouth about its centre
    sx = (1.0 + width) * (1.0 - round_narrowing * rnd)
    pts[:, _MOUTH, 0] *= sx[:, None]
    # rounding pouts the outer lips (thicker-looking lips, rounder contour)
    pout = round_pout * iod * rnd
    pts[:, _UPPER_OUTER, 1] -= pout[:, None] * _UPPER_OUTER_W
    pts[:, _LOWER_OUTER, 1] += pout[:, None] * _LOWER_OUTER_W
    # jaw: lower lip, corners and jaw line drop
    pts[:, _LOWER_OUTER, 1] += jaw[:, None] * _LOWER_OUTER_W
    inner_w = _LOWER_INNER_W + (1.0 - _LOWER_INNER_W) * rnd[:, None]  # rounder "o"
    pts[:, _LOWER_INNER, 1] += jaw[:, None] * inner_w
    pts[:, _CORNERS, 1] += (_CORNER_W * jaw)[:, None]
    pts[:, _JAW, 1] += jaw[:, None] * _JAW_W
    # lip closure: move each inner pair towards its meeting point; the outer lips follow
    d = pts[:, _PAIRS_LO] - pts[:, _PAIRS_UP]  # (T, 3, 2)
    up = close[:, None, None] * _UPPER_SHARE * d
    lo = -close[:, None, None] * (1.0 - _UPPER_SHARE) * d
    pts[:, _PAIRS_UP] += up
    pts[:, _PAIRS_LO] += lo
    pts[:, [50, 51, 52]] += up
    pts[:, [49, 53]] += 0.5 * up[:, [0, 2]]
    pts[:, [58, 57, 56]] += lo
    pts[:, [59, 55]] += 0.5 * lo[:, [0, 2]]
    if a.shape[1] > len(PARAMS):  # the learned mouth's extra lip motions (v points down)
        pts[:, _UPPER_OUTER, 1] -= (a[:, 4] * iod)[:, None] * _UPPER_OUTER_W
        pts[:, _LOWER_OUTER, 1] += (a[:, 5] * iod)[:, None] * _LOWER_OUTER_W
        pts[:, _CORNERS, 1] -= (a[:, 6] * iod)[:, None] * _CORNERS_SMILE_W

    out = origin + pts @ basis  # back to the neutral's frame
    out = out.astype(np.float32)
    return out[0] if single else out


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
        self.neutral = _check_neutral(neutral)

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
