"""Expression beyond the lips: head motion, brow raises and blinks that follow the speech.

The mouth comes from a learned model; the upper face comes from the speech's energy
(the Sakurai and Pham papers drive head and brows from prosody): louder, emphasised
stretches get nods and brow raises, pauses get stillness, and blinks follow a natural
Poisson rhythm. Amplitudes are calibrated to the real talking faces of
``../shared/data`` (``bench/upper_face.py``, ``docs/default_model.md``).

:func:`upper_face_motion` computes it once; :func:`apply_upper_face_68` draws it on the
68-point face (brows, eyelids, head roll), and the 3D exports read the same arrays
(:func:`talkinghead.models.blendshape_bridge.animation_to_blendshapes`), so every output
shows the same face. Pure numpy.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import InvalidArgumentError, check_positive
from .upper_face import HEAD_SD, NOD_GAIN, emphasis, gauss_filter, head_motion, smooth_noise

__all__ = [
    "BROW_AT_ONE",
    "HEAD_SD",
    "UpperFace",
    "upper_face_motion",
    "procedural_brows",
    "apply_upper_face_68",
    "driving_landmarks",
    "CausalUpperFace",
]

#: Brow lift (eye-pinned units: eye centres 1 apart) that ``brow = 1`` gives on the 68 points.
BROW_AT_ONE = 0.12
#: Brow raise (``brow`` units) per unit of emphasis, and of the seeded slow brow drift.
BROW_GAIN = 0.08
BROW_DRIFT = 0.15
#: Correlation time (s) of the brow drift.
BROW_DRIFT_S = 0.5


@dataclass
class UpperFace:
    """Upper-face motion per frame.

    Attributes
    ----------
    rotation : np.ndarray, float32, shape (T, 3)
        Head rotation vectors in radians (:func:`talkinghead.face.head3d.rotation_to_euler`).
    brow : np.ndarray, float32, shape (T,)
        Brow raise in [0, 1] (``browInnerUp``; ``BROW_AT_ONE`` units on the 68 points).
    blink : np.ndarray, float32, shape (T,)
        Eyelid closure in [0, 1] (both eyes).
    """

    rotation: np.ndarray
    brow: np.ndarray
    blink: np.ndarray


def procedural_brows(energy: np.ndarray, fps: float, *, gain: float | None = None) -> np.ndarray:
    """Brow raises on emphasised syllables, shape (T,), float32 in [0, 1].

    The smoothed emphasis (:func:`~talkinghead.models.upper_face.emphasis`) above a small
    threshold lifts the brows with a ~250 ms rise and fall; silence and even speech leave
    them at rest.
    """

    check_positive("fps", fps)
    e = np.asarray(energy, np.float64).reshape(-1)
    if len(e) == 0:
        return np.zeros(0, np.float32)
    emph, _ = emphasis(e, fps)
    b = gauss_filter(np.clip(emph - 0.05, 0, None), 0.12 * fps)
    return np.clip((BROW_GAIN if gain is None else gain) * b * 4.0, 0, 1).astype(np.float32)


def upper_face_motion(
    *, y: np.ndarray | None, sr: int | None, fps: float, n_frames: int, seed: int | None = None
) -> UpperFace:
    """Head rotation, brows and blinks for ``n_frames`` frames of speech ``y``.

    Head: seeded slow drift (``HEAD_SD``: yaw, pitch, roll; correlation times 0.9, 0.7,
    1.2 s; soft-limited to 2.5 sd) plus nods (``NOD_GAIN``) on emphasised syllables.
    Brows: raises on emphasis (:func:`procedural_brows`) plus a seeded slow drift
    (``BROW_DRIFT``). Blinks: :func:`~talkinghead.models.blendshape_bridge.procedural_blinks`.
    The constants match the median statistics of the real clips (``bench/upper_face.py``).
    Without audio (``y`` None) there are no nods or emphasis raises. Deterministic: the
    default ``seed`` (None) is derived from the audio, so one input always gives the same
    face and different inputs different drifts and blink times.
    """
    from ..audio.energy import frame_rms
    from ..face.head3d import euler_to_rotation
    from .blendshape_bridge import procedural_blinks

    fps = check_positive("fps", fps)
    n_frames = int(n_frames)
    if n_frames < 0:
        raise InvalidArgumentError(f"n_frames={n_frames} must be >= 0")
    if n_frames == 0:
        z = np.zeros(0, np.float32)
        return UpperFace(rotation=np.zeros((0, 3), np.float32), brow=z, blink=z)
    if seed is None:
        import zlib

        q = (
            b""
            if y is None
            else (np.asarray(y, np.float32)[::7] * 32767).astype(np.int16).tobytes()
        )
        seed = zlib.crc32(q)
    rng = np.random.default_rng(seed)
    energy = None
    if y is not None and sr is not None and len(y):
        energy = frame_rms(y=np.asarray(y), sr=int(sr), fps=fps, n_frames=n_frames)
    yaw, pitch, roll = head_motion(rng, n_frames, fps, energy)
    drift = np.clip(smooth_noise(rng, n_frames, fps, BROW_DRIFT_S), 0, None)
    brow = BROW_DRIFT * drift
    if energy is not None:
        brow = brow + procedural_brows(energy, fps)
    rot = np.asarray(euler_to_rotation(yaw, pitch, roll), np.float32).reshape(n_frames, 3)
    blink = procedural_blinks(n_frames, fps, int(rng.integers(2**31)))[:, 0]
    return UpperFace(
        rotation=rot, brow=np.clip(brow, 0, 1).astype(np.float32), blink=blink.astype(np.float32)
    )


_BROWS = np.arange(17, 27)
# upper-lid point -> the lower-lid point it meets when the eye closes
_LIDS = {37: 41, 38: 40, 43: 47, 44: 46}


def apply_upper_face_68(
    landmarks: np.ndarray,
    *,
    brow: np.ndarray | None = None,
    blink: np.ndarray | None = None,
    rotation: np.ndarray | None = None,
) -> np.ndarray:
    """Draw brows, eyelids and head roll on 68-point faces.

    Parameters
    ----------
    landmarks : np.ndarray, shape (T, 68, 2)
        Eye-pinned units, y down.
    brow, blink : np.ndarray, shape (T,), optional
    rotation : np.ndarray, shape (T, 3), optional
        Only the roll is drawn (a rotation of the image plane about the eye midpoint);
        yaw and pitch need the 3D head.

    Returns
    -------
    np.ndarray, float32, shape (T, 68, 2)
    """
    lm = np.array(landmarks, dtype=np.float64, copy=True)
    if lm.ndim != 3 or lm.shape[1:] != (68, 2):
        raise InvalidArgumentError(f"landmarks.shape={lm.shape} must be (T, 68, 2)")
    T = len(lm)
    for name, a in (("brow", brow), ("blink", blink)):
        if a is not None and np.shape(a) != (T,):
            raise InvalidArgumentError(f"{name}.shape={np.shape(a)} must be ({T},)")
    if brow is not None:
        lm[:, _BROWS, 1] -= BROW_AT_ONE * np.asarray(brow, np.float64)[:, None]
    if blink is not None:
        b = np.clip(np.asarray(blink, np.float64), 0, 1)[:, None]
        for up, lo in _LIDS.items():
            lm[:, up] = (1 - b) * lm[:, up] + b * lm[:, lo]
    if rotation is not None:
        from ..face.head3d import rotation_to_euler

        rot = np.asarray(rotation, np.float64)
        if rot.shape != (T, 3):
            raise InvalidArgumentError(f"rotation.shape={rot.shape} must be ({T}, 3)")
        _, _, roll = rotation_to_euler(rot)
        c = lm[:, 36:48].mean(axis=1, keepdims=True)  # eye midpoint
        cs, sn = np.cos(roll)[:, None], np.sin(roll)[:, None]
        d = lm - c
        # roll > 0 tilts toward the subject's right shoulder (image left): the subject's
        # left side (image right) goes up, counter-clockwise on screen (y down), as the 3D head
        lm = c + np.stack([cs * d[..., 0] + sn * d[..., 1], -sn * d[..., 0] + cs * d[..., 1]], -1)
    return lm.astype(np.float32)


def driving_landmarks(anim, *, blinks: bool) -> tuple[np.ndarray, bool]:
    """The landmarks a renderer should follow, and whether it should add blinks itself.

    An :class:`~talkinghead.inference.Animation` with its own ``blink`` already closes the
    eyelids on its landmarks: the renderer adds none, and ``blinks=False`` re-opens them
    (the upper lids go back to the neutral face). Parameters without ``blink`` leave
    blinking to the renderer.

    Returns
    -------
    (np.ndarray, shape (T, 68, 2), bool)
    """
    lms = np.asarray(anim.landmarks, dtype=np.float64)
    if getattr(anim, "blink", None) is None:
        return lms, bool(blinks)
    if not blinks:
        from ..face.normalize import neutral_face_68

        lids = list(_LIDS)
        lms = lms.copy()
        lms[:, lids] = neutral_face_68()[lids]
    return lms, False


#: Time constants (s) of the causal emphasis: fast and slow level, nod and brow smoothing.
CAUSAL_TAU = {"fast": 0.12, "slow": 0.8, "nod": 0.1, "brow": 0.12}
#: Half-life (s) of the causal level reference (the offline pass uses the clip's 95th pct).
CAUSAL_PEAK_HALF_LIFE_S = 10.0
#: Frames of head and brow drift :class:`CausalUpperFace` computes at once (drawn ahead:
#: noise, not audio, so no latency; the values do not depend on it).
DRIFT_BLOCK = 50


class CausalUpperFace:
    """:func:`upper_face_motion` run causally, frame by frame (live streams).

    The same generators and constants as offline (``HEAD_SD`` drift soft-limited to 2.5
    sd, nods ``NOD_GAIN``, brows ``BROW_GAIN`` + ``BROW_DRIFT``, Poisson blinks of
    100-150 ms), with three changes that make frame ``t`` depend only on the audio up to
    frame ``t``'s start:

    - the random parts (drift noise, blink times) come from per-part generators seeded
      by ``seed`` and are drawn ahead as needed (noise is not audio: drawing it early
      adds no latency); the drift is divided by its theoretical standard deviation
      instead of the clip's;
    - the speech energy of frame ``t`` is the RMS of the previous frame's span
      ``[(t - 1) / fps, t / fps)`` (frame 0: 0);
    - the level reference is a decaying running peak (``CAUSAL_PEAK_HALF_LIFE_S``) instead
      of the clip's 95th percentile, and the Gaussian smoothings are one-sided
      exponential filters (``CAUSAL_TAU``), so nods and brow raises come ~0.1 s later.

        :meth:`offline` computes a whole signal at once; :meth:`step` gives the same rows
    frame by frame, in any grouping (``tests/models/test_expression.py``).

    Parameters
    ----------
    fps : float
    sr : int
        Rate of the samples given to :meth:`push`.
    seed : int
    """

    def __init__(self, *, fps: float, sr: int, seed: int = 0) -> None:
        self.fps = check_positive("fps", fps)
        self.sr = int(check_positive("sr", sr))
        self.seed = int(seed)
        ss = np.random.SeedSequence(self.seed).spawn(5)
        self._rng = [np.random.default_rng(s) for s in ss[:4]]  # yaw, pitch, roll, brow
        self._blink_rng = np.random.default_rng(ss[4])
        corr = (0.9, 0.7, 1.2, BROW_DRIFT_S)
        self._k, self._sd = [], []
        for c in corr:
            sigma = max(c * self.fps, 1.0)
            half = int(3 * sigma)
            k = np.exp(-0.5 * (np.arange(-half, half + 1) / sigma) ** 2)
            k = k / k.sum()
            self._k.append(k)
            self._sd.append(float(np.sqrt(np.sum(k * k))))
        self._noise = [np.zeros(0) for _ in range(4)]  # drawn noise not yet fully used
        self._noise0 = [0, 0, 0, 0]  # frame index of _noise[i][0]
        self._dc = [np.zeros(0) for _ in range(4)]  # drift computed ahead, not yet used
        self._dc0 = [0, 0, 0, 0]  # frame index of _dc[i][0]
        self._a = {k: 1.0 - np.exp(-1.0 / (v * self.fps)) for k, v in CAUSAL_TAU.items()}
        self._peak_decay = 0.5 ** (1.0 / (CAUSAL_PEAK_HALF_LIFE_S * self.fps))
        self._ema = {"fast": 0.0, "slow": 0.0, "nod": 0.0, "brow": 0.0}
        self._peak = 0.0
        # blinks (the procedural_blinks process, drawn lazily)
        self._mean_gap = 60.0 / 17.0
        self._next_t = float(self._blink_rng.uniform(0.3, self._mean_gap))
        self._events: list[tuple[float, float]] = []  # (peak time, duration)
        # audio
        self._csum_edge = 0.0  # sum of squares since the last frame edge
        self._n_in = 0  # samples received
        self.n_out = 0

    # ------------------------------------------------------------------ random parts
    def _drift(self, i: int, t0: int, t1: int) -> np.ndarray:
        """Drift ``i`` of frames ``t0..t1-1`` (``t0`` = the previous call's ``t1``), computed
        ``DRIFT_BLOCK`` frames ahead: a live stream asks for one frame at a time, and one
        convolution per block instead of per frame gives the same values."""
        end = self._dc0[i] + len(self._dc[i])
        if t1 > end:
            more = self._drift_block(i, end, max(t1, end + DRIFT_BLOCK))
            self._dc[i] = np.concatenate([self._dc[i], more]) if len(self._dc[i]) else more
        a, b = t0 - self._dc0[i], t1 - self._dc0[i]
        out = self._dc[i][a:b]
        self._dc[i] = self._dc[i][b:]
        self._dc0[i] = t1
        return out

    def _drift_block(self, i: int, t0: int, t1: int) -> np.ndarray:
        k = self._k[i]
        half = (len(k) - 1) // 2
        need = t1 + 2 * half - self._noise0[i]  # noise samples [noise0, t1 + 2 half)
        have = len(self._noise[i])
        if need > have:
            more = self._rng[i].standard_normal(need - have)
            self._noise[i] = np.concatenate([self._noise[i], more])
        x = self._noise[i][t0 - self._noise0[i] : t1 + 2 * half - self._noise0[i]]
        y = np.convolve(x, k, mode="valid") / self._sd[i]  # frames t0..t1-1
        drop = t1 - self._noise0[i]
        self._noise[i] = self._noise[i][drop:]
        self._noise0[i] += drop
        return y

    def _blinks(self, t: np.ndarray) -> np.ndarray:
        times = t / self.fps
        horizon = (t[-1] + 1) / self.fps + 0.2 if len(t) else 0.0
        while self._next_t < horizon:
            peak = round(self._next_t * self.fps) / self.fps
            dur = float(self._blink_rng.uniform(0.10, 0.15))
            self._events.append((peak, dur))
            g = self._mean_gap
            self._next_t += max(1.0, self._blink_rng.exponential(g - 1.0) + 1.0)
        out = np.zeros(len(t))
        for peak, dur in self._events:
            d = times - peak
            c = np.where(
                d < 0,
                0.5 * (1 + np.cos(np.pi * np.clip(d / (0.4 * dur), -1, 0))),
                0.5 * (1 + np.cos(np.pi * np.clip(d / (0.6 * dur), 0, 1))),
            )
            c[np.abs(d) > dur] = 0
            out = np.maximum(out, c)
        if len(t):
            self._events = [e for e in self._events if e[0] + e[1] >= times[-1]]
        return out

    # ------------------------------------------------------------------ frames
    def step(self, energy: np.ndarray) -> UpperFace:
        """The next ``len(energy)`` rows, given each frame's speech energy (the RMS of the
        previous frame's span, as :meth:`offline` computes it)."""
        t0 = self.n_out
        n = len(energy)
        t1 = t0 + n
        if n == 0:
            z = np.zeros(0, np.float32)
            return UpperFace(rotation=np.zeros((0, 3), np.float32), brow=z, blink=z)
        lim = lambda x: 2.5 * np.tanh(x / 2.5)  # noqa: E731
        yaw = HEAD_SD[0] * lim(self._drift(0, t0, t1))
        pitch = HEAD_SD[1] * lim(self._drift(1, t0, t1))
        roll = HEAD_SD[2] * lim(self._drift(2, t0, t1))
        brow = BROW_DRIFT * np.clip(self._drift(3, t0, t1), 0, None)
        a, em = self._a, self._ema
        nod = np.zeros(n)
        braise = np.zeros(n)
        for i, e in enumerate(np.asarray(energy, np.float64)):  # a recursion per frame
            self._peak = max(float(e), self._peak * self._peak_decay)
            x = min(max(e / self._peak, 0.0), 1.0) if self._peak > 1e-6 else 0.0
            em["fast"] += a["fast"] * (x - em["fast"])
            em["slow"] += a["slow"] * (x - em["slow"])
            emph = max(em["fast"] - em["slow"], 0.0)
            em["nod"] += a["nod"] * (emph - em["nod"])
            em["brow"] += a["brow"] * (max(emph - 0.05, 0.0) - em["brow"])
            nod[i] = em["nod"]
            braise[i] = min(max(BROW_GAIN * em["brow"] * 4.0, 0.0), 1.0)
        pitch = pitch + NOD_GAIN * nod
        brow = brow + braise
        rot = _small_euler_to_rotvec(yaw, pitch, roll).astype(np.float32)
        blink = self._blinks(np.arange(t0, t1))
        self.n_out = t1
        return UpperFace(rotation=rot, brow=np.clip(brow, 0, 1).astype(np.float32),
                         blink=blink.astype(np.float32))  # fmt: skip

    def offline(self, y: np.ndarray | None, n_frames: int) -> UpperFace:
        """All ``n_frames`` rows for the whole signal ``y`` (at ``sr``) in one go (a fresh
        generator with this one's seed; this object's stream state is not touched)."""
        from ..audio.energy import frame_rms

        g = CausalUpperFace(fps=self.fps, sr=self.sr, seed=self.seed)
        n_frames = int(n_frames)
        if y is None or len(y) == 0:
            return g.step(np.zeros(n_frames))
        e = frame_rms(y=np.asarray(y, np.float64), sr=self.sr, fps=self.fps,
                         n_frames=max(0, n_frames - 1))  # fmt: skip
        return g.step(np.concatenate([[0.0], e])[:n_frames])


def _small_euler_to_rotvec(yaw, pitch, roll) -> np.ndarray:
    """:func:`~talkinghead.face.head3d.euler_to_rotation` (``R = Ry Rx Rz``) for angles well
    below pi, in a few array operations (a live stream calls it once per frame).

    Returns
    -------
    np.ndarray, float64, shape (n, 3)
    """
    cy, sy = np.cos(yaw), np.sin(yaw)
    cp, sp = np.cos(pitch), np.sin(pitch)
    cr, sr = np.cos(roll), np.sin(roll)
    # Ry @ Rx: rows [[cy, sy sp, sy cp], [0, cp, -sp], [-sy, cy sp, cy cp]], then @ Rz
    m00, m01 = cy * cr + sy * sp * sr, -cy * sr + sy * sp * cr
    m02, m10, m11, m12 = sy * cp, cp * sr, cp * cr, -sp
    m20, m21 = -sy * cr + cy * sp * sr, sy * sr + cy * sp * cr
    m22 = cy * cp
    cos = np.clip((m00 + m11 + m22 - 1.0) / 2.0, -1.0, 1.0)
    theta = np.arccos(cos)
    s = np.sin(theta)
    scale = np.where(s < 1e-6, 0.5, theta / (2.0 * np.where(s < 1e-6, 1.0, s)))
    return np.stack([m21 - m12, m02 - m20, m10 - m01], axis=-1) * scale[..., None]
