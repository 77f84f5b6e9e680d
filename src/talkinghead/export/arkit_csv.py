"""ARKit blendshape CSV in the layout of Epic's Live Link Face app.

One header line, then one line per frame::

    Timecode,BlendShapeCount,EyeBlinkLeft,...,TongueOut,HeadYaw,HeadPitch,HeadRoll,
    LeftEyeYaw,LeftEyePitch,LeftEyeRoll,RightEyeYaw,RightEyePitch,RightEyeRoll
    00:00:00:00.000,61,0.000000,...

* ``Timecode`` is ``HH:MM:SS:FF.mmm``: hours, minutes, seconds, the frame ``FF`` within
  the second counted at the *timecode rate*, and the sub-frame as thousandths of a frame
  (``.500`` = half a frame). The rate is 60 by default, as Live Link Face takes and the
  importers that read them assume, whatever the animation's fps: a 25 fps animation's
  frames are 2.4 timecode frames apart (``00:00:00:02.400``, ``00:00:00:04.800``, ...);
* ``BlendShapeCount`` is always 61 (52 blendshapes + 9 head and eye rotations);
* the 52 ARKit weights, in ARKit order, spelled with an upper-case first letter;
* ``HeadYaw``, ``HeadPitch``, ``HeadRoll`` and the eye rotations are angles normalised
  to [-1, 1] for [-180, 180] degrees (``angle_radians / pi``), as Unreal's ARKit face
  support (which Live Link Face is built on) writes them. We write our head
  :func:`~talkinghead.face.head3d.rotation_to_euler` angles there (yaw > 0 turns toward
  the subject's left, pitch > 0 looks down, roll > 0 tilts toward the subject's right
  shoulder); apps disagree on the signs (some flip yaw/pitch in landscape), so check
  one clip in the target tool.
* The eye rotations come from the ``eyeLook*`` blendshapes (talkinghead has no separate
  gaze model): yaw > 0 toward the subject's left (``eyeLookOutLeft`` / ``eyeLookInRight``),
  pitch > 0 down (``eyeLookDown*`` minus ``eyeLookUp*``), roll 0, with a weight of 1
  taken as :data:`EYE_LOOK_DEGREES` (30) degrees. The speech animators drive no
  ``eyeLook*`` shapes, so for ``talkinghead animate`` these columns are 0; a face track
  fitted by ``talkinghead export TRACK.npz`` may have them.

Head translation is not part of the format and is dropped. Pure stdlib + numpy.
"""

from __future__ import annotations

import math
import os
import re
from pathlib import Path

import numpy as np

from .._util.atomic import write_text_atomic
from ..errors import InvalidArgumentError, MediaError
from ..face.arkit import ARKIT_INDEX, ARKIT_NAMES, live_link_name

__all__ = [
    "BLEND_SHAPE_COUNT",
    "EYE_LOOK_DEGREES",
    "LIVE_LINK_HEADER",
    "ROTATION_COLUMNS",
    "format_timecode",
    "parse_timecode",
    "eye_rotations",
    "write_arkit_csv",
    "read_arkit_csv",
]

#: The value of the ``BlendShapeCount`` column (52 shapes + 9 rotations).
BLEND_SHAPE_COUNT = 61

#: The nine rotation columns after the blendshapes.
ROTATION_COLUMNS: tuple[str, ...] = (
    "HeadYaw", "HeadPitch", "HeadRoll",
    "LeftEyeYaw", "LeftEyePitch", "LeftEyeRoll",
    "RightEyeYaw", "RightEyePitch", "RightEyeRoll",
)  # fmt: skip

#: The full header, 2 + 52 + 9 = 63 columns.
LIVE_LINK_HEADER: tuple[str, ...] = (
    ("Timecode", "BlendShapeCount")
    + tuple(live_link_name(n) for n in ARKIT_NAMES)
    + ROTATION_COLUMNS
)

#: Eye rotation (degrees) that an ``eyeLook*`` weight of 1 stands for.
EYE_LOOK_DEGREES = 30.0

#: Timecode rates tried (smallest one above the largest ``FF``) when reading a file
#: whose rate is not given.
_STANDARD_RATES = (24, 25, 30, 48, 50, 60, 72, 90, 100, 120, 240)

_TC_RE = re.compile(r"^\s*(\d+):(\d{1,2}):(\d{1,2})[:;](\d+)(?:\.(\d+))?\s*$")


def eye_rotations(anim) -> np.ndarray:
    """Left and right eye (yaw, pitch, roll) in radians from the ``eyeLook*`` weights,
    shape (T, 6) (see the module docstring; zeros where the animation has none)."""
    names = {n.lower(): i for i, n in enumerate(anim.names)}
    w = np.asarray(anim.weights, np.float64)

    def col(name):
        i = names.get(name.lower())
        return w[:, i] if i is not None else np.zeros(len(w))

    k = math.radians(EYE_LOOK_DEGREES)
    out = np.zeros((len(w), 6))
    out[:, 0] = k * (col("eyeLookOutLeft") - col("eyeLookInLeft"))
    out[:, 1] = k * (col("eyeLookDownLeft") - col("eyeLookUpLeft"))
    out[:, 3] = k * (col("eyeLookInRight") - col("eyeLookOutRight"))
    out[:, 4] = k * (col("eyeLookDownRight") - col("eyeLookUpRight"))
    return out


def format_timecode(t: float, *, rate: int) -> str:
    """Seconds -> ``HH:MM:SS:FF.mmm`` at the integer timecode ``rate``.

    The sub-frame ``mmm`` is in thousandths of a frame (rounded).
    """
    if t < 0:
        raise InvalidArgumentError(f"t={t} must be >= 0 seconds")
    n = int(round(t * rate * 1000.0))  # thousandths of a frame
    frames, sub = divmod(n, 1000)
    secs, ff = divmod(frames, rate)
    mins, ss = divmod(secs, 60)
    hh, mm = divmod(mins, 60)
    return f"{hh:02d}:{mm:02d}:{ss:02d}:{ff:02d}.{sub:03d}"


def parse_timecode(text: str, *, rate: float) -> float:
    """``HH:MM:SS:FF[.sss]`` -> seconds at timecode ``rate`` (the sub-frame is a fraction
    of a frame: ``.5`` and ``.500`` are both half a frame)."""
    m = _TC_RE.match(text)
    if not m:
        raise InvalidArgumentError(f"timecode={text!r} must look like HH:MM:SS:FF.mmm")
    hh, mm, ss, ff = (int(g) for g in m.groups()[:4])
    sub = float("0." + m.group(5)) if m.group(5) else 0.0
    return hh * 3600 + mm * 60 + ss + (ff + sub) / rate


def _columns_for(names: tuple[str, ...]) -> np.ndarray:
    """ARKit column index of each animation name (raises on unknown names)."""
    lower = {n.lower(): i for n, i in ARKIT_INDEX.items()}
    idx = []
    for n in names:
        i = lower.get(n.lower())
        if i is None:
            raise InvalidArgumentError(
                f"anim.names contains {n!r}, which must be one of the 52 ARKit blendshapes "
                "(use talkinghead.export.retarget to rename other rigs' shapes)"
            )
        idx.append(i)
    return np.asarray(idx, dtype=np.int64)


def write_arkit_csv(
    path: str | os.PathLike,
    anim,
    *,
    timecode_rate: int | None = None,
    start: float = 0.0,
    decimals: int = 6,
) -> Path:
    """Write an animation as a Live Link Face CSV (atomic).

    Parameters
    ----------
    path : path-like
    anim : BlendshapeAnimation
        ``anim.names`` must be ARKit names (any subset, any order; missing ones are 0).
    timecode_rate : int, optional
        Frames per second of the ``FF`` field (default 60, Live Link Face's; sub-frames
        carry the exact frame times when it differs from ``anim.fps``).
    start : float
        Timecode of the first frame in seconds (default 0: ``00:00:00:00.000``).
    decimals : int
        Decimals written for the weights and rotations.

    Returns
    -------
    Path
    """
    rate = 60 if timecode_rate is None else int(timecode_rate)
    if rate < 1 or (timecode_rate is not None and rate != timecode_rate):
        raise InvalidArgumentError(f"timecode_rate={timecode_rate!r} must be a positive integer")
    if start < 0:
        raise InvalidArgumentError(f"start={start} must be >= 0 seconds")
    if not 0 <= decimals <= 9:
        raise InvalidArgumentError(f"decimals={decimals} must be in 0..9")
    from ..face.head3d import rotation_to_euler

    t_count = anim.n_frames
    table = np.zeros((t_count, 52 + 9), dtype=np.float64)
    table[:, _columns_for(tuple(anim.names))] = anim.weights
    yaw, pitch, roll = rotation_to_euler(anim.rotation)
    table[:, 52:55] = np.stack([yaw, pitch, roll], axis=1) / math.pi
    table[:, 55:61] = eye_rotations(anim) / math.pi

    # exact frame times when the rate equals the fps (no float drift over long clips)
    if rate == anim.fps:
        first = int(round(start * rate))
        times = [(first + k) / rate for k in range(t_count)]
    else:
        times = [start + k / anim.fps for k in range(t_count)]
    fmt = f"%.{decimals}f"
    values = np.char.mod(fmt, np.round(table, decimals) + 0.0)  # + 0.0: no "-0.000"
    lines = [",".join(LIVE_LINK_HEADER)]
    count = str(BLEND_SHAPE_COUNT)
    for t, row in zip(times, values, strict=True):
        lines.append(f"{format_timecode(t, rate=rate)},{count}," + ",".join(row))
    return write_text_atomic(path, "\n".join(lines) + "\n")


def _infer_rate(ff_max: int, path: Path) -> int:
    for r in _STANDARD_RATES:
        if r > ff_max:
            return r
    raise MediaError(f"{path}: frame field up to {ff_max} fits no standard timecode rate")


def read_arkit_csv(
    path: str | os.PathLike, *, fps: float | None = None, timecode_rate: int | None = None
):
    """Read a Live Link Face CSV (ours or the app's) as a BlendshapeAnimation.

    Parameters
    ----------
    path : path-like
    fps : float, optional
        Frame rate of the rows. Default: inferred from the timecodes (exact for files
        we wrote; a clip shorter than one second at a whole fps below 60 needs ``fps``
        or ``timecode_rate``).
    timecode_rate : int, optional
        Rate of the ``FF`` field. Default: the smallest standard rate (24, 25, 30,
        50, 60, ...) above the largest ``FF`` in the file.

    Returns
    -------
    BlendshapeAnimation
        ``names`` = :data:`ARKIT_NAMES` (columns absent from the file are 0),
        ``rotation`` from ``HeadYaw/HeadPitch/HeadRoll`` (``value * pi`` radians).
    """
    from ..face.head3d import BlendshapeAnimation, euler_to_rotation

    p = Path(path)
    if not p.is_file():
        raise MediaError(f"ARKit CSV file {p} does not exist")
    text = p.read_text(encoding="utf-8-sig")
    rows = [line.split(",") for line in text.splitlines() if line.strip()]
    if not rows or rows[0][0].strip().lower() != "timecode":
        raise MediaError(f"{p} is not a Live Link Face CSV (first column must be 'Timecode')")
    header = [h.strip().lower() for h in rows[0]]
    body = rows[1:]
    if not body:
        raise MediaError(f"{p} has a header but no frames")
    width = len(header)
    for i, r in enumerate(body):
        if len(r) != width:
            raise MediaError(f"{p} line {i + 2} has {len(r)} fields, expected {width}")
    try:
        data = np.array([r[1:] for r in body], dtype=np.float64)
    except ValueError as exc:
        raise MediaError(f"{p} holds a value that is not a number: {exc}") from None
    col = {h: j - 1 for j, h in enumerate(header) if j > 0}

    weights = np.zeros((len(body), 52), dtype=np.float32)
    for i, name in enumerate(ARKIT_NAMES):
        j = col.get(name.lower())
        if j is not None:
            weights[:, i] = data[:, j]
    angles = [
        data[:, col[c.lower()]] * math.pi if c.lower() in col else np.zeros(len(body))
        for c in ROTATION_COLUMNS[:3]
    ]
    rotation = euler_to_rotation(*angles).astype(np.float32)

    tcs = [r[0] for r in body]
    matches = [_TC_RE.match(tc) for tc in tcs]
    if not all(matches):
        bad = next(tc for tc, m in zip(tcs, matches, strict=True) if not m)
        raise MediaError(f"{p}: timecode {bad!r} must look like HH:MM:SS:FF.mmm")
    if timecode_rate is None:
        rate = _infer_rate(max(int(m.group(4)) for m in matches), p)
        if fps is not None and len(body) < 2 and float(fps).is_integer():
            rate = int(fps)
    else:
        rate = int(timecode_rate)
    if fps is None:
        times = np.array([parse_timecode(tc, rate=rate) for tc in tcs])
        if len(times) < 2:
            fps = float(rate)
        else:
            k = np.arange(len(times), dtype=np.float64)
            slope = float(np.polyfit(k, times, 1)[0])
            if slope <= 0:
                raise MediaError(f"{p}: timecodes must increase from row to row")
            est = 1.0 / slope
            fps = float(round(est)) if abs(est - round(est)) < 1e-4 * est else round(est, 3)
    return BlendshapeAnimation(fps=fps, weights=weights, rotation=rotation, names=ARKIT_NAMES)
