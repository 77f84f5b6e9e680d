"""Drive the 3D blendshape head from the rule-based animator's articulation parameters.

* :func:`articulation_to_blendshapes` maps ``(jaw_open, lip_width, lip_round, lip_close)``
  (:data:`talkinghead.face.visemes.PARAMS`) to the 52 ARKit weights;
* :func:`procedural_head_motion` gives small smooth nods/turns that follow speech energy;
* :func:`procedural_blinks` gives natural blinks (about 17 per minute, 100-150 ms each);
* :func:`articulation_to_animation` puts the three together in a BlendshapeAnimation.

Pure numpy, cheap to import.
"""

from __future__ import annotations

import numpy as np

from ..audio.energy import frame_rms
from ..errors import InvalidArgumentError, check_positive
from ..face.arkit import ARKIT_INDEX, ARKIT_NAMES
from ..face.head3d import BlendshapeAnimation, euler_to_rotation
from .upper_face import head_motion

__all__ = [
    "FROWN_AT_ONE",
    "JAW_OPEN_AT_ONE",
    "SMILE_AT_ONE",
    "SMILE_WIDENING",
    "articulation_to_animation",
    "articulation_to_blendshapes",
    "procedural_blinks",
    "procedural_head_motion",
]

#: Inner-lip gap / outer eye-corner distance that ``jawOpen = 1`` produces on the shipped
#: head (measured with ``mouth_openness_mesh``; ``jaw_open`` = 0.3 is a wide "aa").
JAW_OPEN_AT_ONE = 0.36
#: ``lip_width`` (relative mouth-width change) reached by full stretch + smile.
SPREAD_AT_ONE = 0.2
#: ``upper_up`` / ``lower_down`` (eye-corner units about the speaker's mean) that give a
#: weight of 1 to mouthUpperUp*, mouthLowerDown* (about 3 standard deviations of the real
#: lips in speech, ``DofStats`` of the shipped mouth model).
UPPER_UP_AT_ONE = 0.04
LOWER_DOWN_AT_ONE = 0.08
#: Corner raise / drop (``smile`` > 0 / < 0, fraction of ``|p36 - p45|``) that the shipped
#: head's ``mouthSmile`` = 1 (with 0.4 ``cheekSquint``, 0.3 ``mouthDimple``) / ``mouthFrown``
#: = 1 produces in its projected 68 points, measured (``tests/render/test_render_head3d.py``
#: checks them): the 2D sketch and the head then raise the corners alike (with 0.03, 3.4x
#: too much on the head, its corners sat up to 0.08 eye distances above the sketch's).
SMILE_AT_ONE = 0.10
FROWN_AT_ONE = 0.078
#: Relative mouth-width gain of that smile on the head (its corners also move out); taken off
#: ``lip_width``, which the learned mouth measures with the smile's widening in it.
SMILE_WIDENING = 0.23


def articulation_to_blendshapes(articulation: np.ndarray) -> np.ndarray:
    """Articulation parameters -> ARKit blendshape weights.

    Parameters
    ----------
    articulation : ndarray, shape (T, 4) or (T, 7)
        Columns ``jaw_open, lip_width, lip_round, lip_close`` as in
        :data:`talkinghead.face.visemes.PARAMS`; with 7 columns (the learned mouth,
        :data:`talkinghead.face.articulation.ARTICULATION_NAMES`) also ``upper_up``,
        ``lower_down``, ``smile`` in eye-corner units about the speaker's mean. mouthStretch*
        and the spread part of mouthSmile* follow ``lip_width`` > 0 alone; the learned mouth
        (:func:`~talkinghead.face.articulation.dofs_to_articulation`) keeps ``lip_width`` <= 0
        wherever ``lip_round`` > 0, so its rounding never stretches.

    Returns
    -------
    ndarray, shape (T, 52), float32 in [0, 1]
        Columns in :data:`~talkinghead.face.arkit.ARKIT_NAMES` order; drives jawOpen,
        mouthClose, mouthFunnel, mouthPucker, mouthStretch*, mouthSmile*, mouthPress*,
        mouthLowerDown*, mouthUpperUp*, mouthRollLower/Upper (lips pressed in a closure);
        with 7 columns also mouthFrown*, mouthDimple*, cheekSquint* (corners down / up),
        noseSneer* (upper lip raised), mouthRollUpper (upper lip lowered), mouthShrugLower
        (lower lip pushed up).
    """
    a = np.asarray(articulation, dtype=np.float64)
    if a.ndim != 2 or a.shape[1] not in (4, 7):
        raise InvalidArgumentError(
            f"articulation.shape={a.shape} must be (T, 4): jaw_open, lip_width, lip_round, "
            "lip_close (or (T, 7): + upper_up, lower_down, smile)"
        )
    a = np.nan_to_num(a)
    jaw, width, rnd, close = a[:, :4].T
    out = np.zeros((len(a), len(ARKIT_NAMES)), np.float64)

    def put(name, val):
        out[:, ARKIT_INDEX[name]] = val

    close = np.clip(close, 0, 1)
    rnd = np.clip(rnd, 0, 1)
    up = down = smile = np.zeros(len(a))
    if a.shape[1] == 7:
        up, down, smile = a[:, 4], a[:, 5], a[:, 6]
    corners_up = np.clip(smile / SMILE_AT_ONE, 0, 1)
    corners_down = np.clip(-smile / FROWN_AT_ONE, 0, 1)
    width = width - SMILE_WIDENING * corners_up  # the smile shapes widen the mouth themselves
    jaw_w = np.clip(jaw / JAW_OPEN_AT_ONE, 0, 1)
    put("jawOpen", jaw_w)
    # lips pressed together whatever the jaw does: mouthClose cancels the lip part of jawOpen
    put("mouthClose", close * jaw_w)
    press = 0.6 * close * (1 - jaw_w)
    put("mouthPressLeft", press)
    put("mouthPressRight", press)
    spread = np.clip(width / SPREAD_AT_ONE, 0, 1)
    narrow = np.clip(-width / 0.33, 0, 1)
    put("mouthStretchLeft", 0.6 * spread)
    put("mouthStretchRight", 0.6 * spread)
    put("mouthSmileLeft", 0.35 * spread)
    put("mouthSmileRight", 0.35 * spread)
    open_frac = np.clip(jaw / 0.1, 0, 1)
    put("mouthFunnel", rnd * 0.7 * open_frac)
    put("mouthPucker", np.clip(rnd * (1 - 0.5 * open_frac) + narrow, 0, 1))
    # open vowels show some teeth: lips part a little more than the jaw
    lip_part = 0.25 * jaw_w * (1 - close)
    # a closure presses the lips slightly inwards
    put("mouthRollLower", 0.3 * press)
    raise_ = np.clip(up / UPPER_UP_AT_ONE, 0, 1)
    drop = np.clip(down / LOWER_DOWN_AT_ONE, 0, 1)
    # a lowered upper lip rolls in (ARKit's mouthShrugUpper raises it: the opposite)
    put("mouthRollUpper", 0.2 * press + np.clip(-up / UPPER_UP_AT_ONE, 0, 1))
    put("mouthShrugLower", np.clip(-down / LOWER_DOWN_AT_ONE, 0, 1))
    for side in ("Left", "Right"):
        put(f"mouthLowerDown{side}", lip_part + drop)
        put(f"mouthUpperUp{side}", 0.6 * lip_part + raise_)
        put(f"noseSneer{side}", 0.3 * raise_)
        put(f"mouthSmile{side}", out[:, ARKIT_INDEX[f"mouthSmile{side}"]] + corners_up)
        put(f"cheekSquint{side}", 0.4 * corners_up)
        put(f"mouthDimple{side}", 0.3 * corners_up)
        put(f"mouthFrown{side}", corners_down)
    return np.clip(out, 0, 1).astype(np.float32)


def procedural_head_motion(
    n_frames: int,
    fps: float,
    energy: np.ndarray | None = None,
    seed: int = 0,
    *,
    amplitude: float = 1.0,
) -> np.ndarray:
    """Small, smooth head motion: slow drift plus nods that follow speech energy, as
    rotation vectors (:func:`talkinghead.models.upper_face.head_motion`, the head of every
    animation, seeded ``seed``).

    Parameters
    ----------
    n_frames : int
    fps : float
    energy : ndarray, shape (T,), optional
        Speech energy per frame (any scale; e.g. RMS). Emphasised stretches get nods.
    seed : int
    amplitude : float
        Scales all angles (1: yaw 0.9 deg, pitch 1.4 deg, roll 0.9 deg standard deviation,
        soft-limited to 2.5 standard deviations).

    Returns
    -------
    ndarray, shape (T, 3), float32
        Rotation vectors in radians (see :func:`talkinghead.face.head3d.rotation_to_euler`).
    """
    n_frames = int(n_frames)
    if n_frames < 0:
        raise InvalidArgumentError(f"n_frames={n_frames} must be >= 0")
    check_positive("fps", fps)
    if n_frames == 0:
        return np.zeros((0, 3), np.float32)
    if energy is not None:
        energy = np.asarray(energy, np.float64)
        if energy.shape != (n_frames,):
            raise InvalidArgumentError(f"energy.shape={energy.shape} must be ({n_frames},)")
    yaw, pitch, roll = head_motion(np.random.default_rng(seed), n_frames, fps, energy)
    rot = euler_to_rotation(amplitude * yaw, amplitude * pitch, amplitude * roll)
    return np.asarray(rot, np.float32).reshape(n_frames, 3)


def procedural_blinks(
    n_frames: int, fps: float, seed: int = 0, *, rate_per_min: float = 17.0
) -> np.ndarray:
    """Natural blink curves for ``eyeBlinkLeft`` / ``eyeBlinkRight``.

    Blinks occur as a Poisson process (``rate_per_min``, at least 1 s apart), last
    100-150 ms (fast closing, slower opening) and reach 1 at a frame.

    Parameters
    ----------
    n_frames : int
    fps : float
    seed : int
    rate_per_min : float

    Returns
    -------
    ndarray, shape (T, 2), float32 in [0, 1]
        Columns ``eyeBlinkLeft, eyeBlinkRight`` (equal: both eyes blink together).
    """
    n_frames = int(n_frames)
    if n_frames < 0:
        raise InvalidArgumentError(f"n_frames={n_frames} must be >= 0")
    check_positive("fps", fps)
    check_positive("rate_per_min", rate_per_min)
    rng = np.random.default_rng(seed)
    out = np.zeros(n_frames)
    t_end = n_frames / fps
    mean_gap = 60.0 / rate_per_min
    t = rng.uniform(0.3, mean_gap)
    times = np.arange(n_frames) / fps
    while t < t_end:
        peak = round(t * fps) / fps  # peak on a frame
        dur = rng.uniform(0.10, 0.15)
        t_close, t_open = 0.4 * dur, 0.6 * dur
        d = times - peak
        c = np.where(
            d < 0,
            0.5 * (1 + np.cos(np.pi * np.clip(d / t_close, -1, 0))),
            0.5 * (1 + np.cos(np.pi * np.clip(d / t_open, 0, 1))),
        )
        c[np.abs(d) > dur] = 0
        out = np.maximum(out, c)
        t += max(1.0, rng.exponential(mean_gap - 1.0) + 1.0) if mean_gap > 1 else mean_gap
    return np.repeat(out[:, None], 2, axis=1).astype(np.float32)


def articulation_to_animation(
    articulation: np.ndarray,
    *,
    fps: float,
    energy: np.ndarray | None = None,
    seed: int = 0,
    head_motion: bool = True,
    blinks: bool = True,
) -> BlendshapeAnimation:
    """Articulation (T, 4) -> a complete BlendshapeAnimation (mouth, blinks, head pose)."""
    w = articulation_to_blendshapes(articulation)
    n = len(w)
    if blinks:
        b = procedural_blinks(n, fps, seed)
        w[:, ARKIT_INDEX["eyeBlinkLeft"]] = np.maximum(w[:, ARKIT_INDEX["eyeBlinkLeft"]], b[:, 0])
        w[:, ARKIT_INDEX["eyeBlinkRight"]] = np.maximum(w[:, ARKIT_INDEX["eyeBlinkRight"]], b[:, 1])
    rot = procedural_head_motion(n, fps, energy, seed) if head_motion else None
    return BlendshapeAnimation(fps=fps, names=ARKIT_NAMES, weights=w, rotation=rot)


def animation_to_blendshapes(
    anim, *, y: np.ndarray | None = None, sr: int | None = None, seed: int = 0
) -> BlendshapeAnimation:
    """A :class:`talkinghead.inference.Animation` -> 52 ARKit weights with head motion and blinks.

    ``y``/``sr`` (the speech) make the head nod with its energy; without them the
    head only drifts slowly.
    """
    rotation = getattr(anim, "rotation", None)
    blink = getattr(anim, "blink", None)
    brow = getattr(anim, "brow", None)
    if rotation is None or blink is None or brow is None:  # parameters without an upper face
        energy = None
        if y is not None and sr is not None:
            energy = frame_rms(y=y, sr=sr, fps=anim.fps, n_frames=anim.n_frames)
        return articulation_to_animation(anim.articulation, fps=anim.fps, energy=energy, seed=seed)
    # the Animation's own head, brows and blinks: 2D and 3D outputs show the same face
    w = articulation_to_blendshapes(anim.articulation)
    b = np.clip(np.asarray(blink, np.float64), 0, 1)
    for side in ("Left", "Right"):
        w[:, ARKIT_INDEX[f"eyeBlink{side}"]] = np.maximum(w[:, ARKIT_INDEX[f"eyeBlink{side}"]], b)
        w[:, ARKIT_INDEX[f"browOuterUp{side}"]] = 0.6 * np.clip(brow, 0, 1)
    w[:, ARKIT_INDEX["browInnerUp"]] = np.clip(brow, 0, 1)
    return BlendshapeAnimation(
        fps=anim.fps, names=ARKIT_NAMES, weights=w.astype(np.float32),
        rotation=np.asarray(rotation, np.float32),
    )  # fmt: skip
