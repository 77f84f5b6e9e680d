"""2D animation cues from phones: Rhubarb Lip Sync mouth shapes and Oculus/Meta visemes.

Rhubarb Lip Sync mouth shapes (the Hanna-Barbera set used by 2D animators):

=====  =======================================================================
shape  mouth
=====  =======================================================================
A      closed, lips pressed (P B M)
B      slightly open, clenched teeth (most consonants: K S T ...; the EE of "bee")
C      open (EH as in "men", AE as in "bat")
D      wide open (AA as in "father")
E      slightly rounded (AO as in "off", ER as in "bird")
F      puckered (UW as in "you", OW as in "show", W)
G      upper teeth on the lower lip (F V)               -- extended shape
H      tongue raised behind the upper teeth (long L)     -- extended shape
X      idle, mouth at rest (silence)                     -- extended shape
=====  =======================================================================

:func:`phones_to_rhubarb` follows Rhubarb's published phone rules in simplified form:
each phone allows a set of shapes (diphthongs get two, 60 % / 40 % of the phone); a
flexible set takes the shape closest (least mouth effort) to the following shape, so
consonants anticipate the next vowel; plosives show their closure (A for P/B) just
before the release; silences are X; cues shorter than ``min_duration`` are merged
(a bilabial closure is lengthened instead). Times are whole centiseconds like
Rhubarb's. Rhubarb's tweening (in-between shapes) is not reproduced.

:func:`write_rhubarb` writes Rhubarb's ``tsv``, ``json`` and ``xml`` output formats
(same layout, two-decimal times), :func:`read_rhubarb` reads them back.

:func:`phones_to_oculus_visemes` gives the 15 Oculus/Meta visemes (:data:`OCULUS_VISEMES`)
as per-frame weights, each row summing to 1, with coarticulation: each phone segment
holds its viseme fully over its core and fades into its neighbours over about
``smoothing`` seconds. :func:`write_visemes` writes them as CSV or JSON. Pure numpy.
"""

from __future__ import annotations

import json
import math
import os
import re
from dataclasses import dataclass
from pathlib import Path
from xml.sax.saxutils import escape, quoteattr

import numpy as np

from .._util.atomic import write_text_atomic
from ..errors import InvalidArgumentError, MediaError, check_positive

__all__ = [
    "RHUBARB_SHAPES",
    "BASIC_SHAPES",
    "OCULUS_VISEMES",
    "RPM_VISEMES",
    "PHONE_TO_OCULUS",
    "MouthCue",
    "phones_to_rhubarb",
    "write_rhubarb",
    "read_rhubarb",
    "phones_to_oculus_visemes",
    "write_visemes",
]

#: All nine Rhubarb mouth shapes.
RHUBARB_SHAPES = "ABCDEFGHX"
#: The six basic shapes (the extended G, H, X fall back to A, C, A).
BASIC_SHAPES = "ABCDEF"
_BASIC_OF = {"G": "A", "H": "C", "X": "A"}

# For each reference shape, all shapes from the least to the most mouth movement
# needed to reach them (Rhubarb's effort ordering).
_EFFORT = {
    "A": "AXGBCHEDF",
    "B": "BGAXCHEDF",
    "C": "CHBGDAXEF",
    "D": "DCHBGAXEF",
    "E": "ECHBGAXDF",
    "F": "FBGAXCHED",
    "G": "GABCHXEDF",
    "H": "HCBGDAXEF",
    "X": "XAGBCHEDF",
}
_ANY = "ABCDEFGHX"
_ANY_OPEN = "BCDEFGH"

#: The 15 Oculus / Meta Lipsync visemes, in their standard order.
OCULUS_VISEMES: tuple[str, ...] = (
    "sil", "PP", "FF", "TH", "DD", "kk", "CH", "SS", "nn", "RR", "aa", "E", "ih", "oh", "ou",
)  # fmt: skip

#: The same 15 visemes as Ready Player Me avatars name their morph targets (Oculus's
#: ``ih``, ``oh``, ``ou`` are ``I``, ``O``, ``U`` there).
RPM_VISEMES: tuple[str, ...] = tuple(
    "viseme_" + {"ih": "I", "oh": "O", "ou": "U"}.get(v, v) for v in OCULUS_VISEMES
)

#: ARPAbet phone -> Oculus viseme (diphthongs: first and second part).
PHONE_TO_OCULUS: dict[str, tuple[str, ...]] = {
    "SIL": ("sil",),
    "P": ("PP",), "B": ("PP",), "M": ("PP",),
    "F": ("FF",), "V": ("FF",),
    "TH": ("TH",), "DH": ("TH",),
    "T": ("DD",), "D": ("DD",),
    "K": ("kk",), "G": ("kk",), "NG": ("kk",), "HH": ("kk",),
    "CH": ("CH",), "JH": ("CH",), "SH": ("CH",), "ZH": ("CH",),
    "S": ("SS",), "Z": ("SS",),
    "N": ("nn",), "L": ("nn",),
    "R": ("RR",), "ER": ("RR",),
    "AA": ("aa",), "AH": ("aa",), "AE": ("aa",),
    "AW": ("aa", "ou"), "AY": ("aa", "ih"),
    "EH": ("E",), "EY": ("E", "ih"),
    "IH": ("ih",), "IY": ("ih",), "Y": ("ih",),
    "AO": ("oh",), "OW": ("oh", "ou"), "OY": ("oh", "ih"),
    "UH": ("ou",), "UW": ("ou",), "W": ("ou",),
}  # fmt: skip

# Dominance of each viseme over its neighbours (closures must be seen).
_OCULUS_STRENGTH = {"sil": 0.6, "PP": 3.0, "FF": 2.0, "TH": 1.2, "CH": 1.2}
_DIPHTHONG_SPLIT = 0.6


@dataclass(frozen=True)
class MouthCue:
    """One Rhubarb mouth cue: ``value`` from ``start`` to ``end`` seconds."""

    start: float
    end: float
    value: str


# --------------------------------------------------------------------------- phones
def _label(label: str) -> str:
    """Upper-case ARPAbet without stress; silences/fillers -> "SIL"."""
    lab = re.sub(r"\d", "", str(label).strip().upper())
    if lab in PHONE_TO_OCULUS:
        return lab
    if lab in ("", "SP", "SPN", "NSN", "PAU", "SILENCE") or lab[:1] in "+<[":
        return "SIL"
    raise InvalidArgumentError(
        f"phone label={label!r} must be an ARPAbet phone (AA ... ZH, stress allowed) or SIL"
    )


def _check_phones(phones) -> list[tuple[str, float, float]]:
    out = []
    try:
        items = list(phones)
    except TypeError:
        raise InvalidArgumentError("phones must be a list of Phone(label, start, end)") from None
    for p in items:
        try:
            lab, s, e = p.label, float(p.start), float(p.end)
        except AttributeError:
            try:
                lab, s, e = p[0], float(p[1]), float(p[2])
            except (TypeError, IndexError, ValueError):
                raise InvalidArgumentError(
                    f"phones item {p!r} must be a Phone(label, start, end)"
                ) from None
        if not (math.isfinite(s) and math.isfinite(e)) or e < s or s < 0:
            raise InvalidArgumentError(
                f"phone {lab!r} start={s}, end={e} must satisfy 0 <= start <= end"
            )
        if out and s < out[-1][2] - 1e-6:
            raise InvalidArgumentError(
                f"phone {lab!r} at start={s} overlaps the previous phone (end={out[-1][2]}); "
                "phones must be sorted and not overlap"
            )
        if e > s:
            out.append((_label(lab), s, e))
    return out


# --------------------------------------------------------------------------- rhubarb
def _shape_sets(lab: str, dur: float) -> list[tuple[float, str]]:
    """[(fraction of the phone, allowed shapes), ...] for one phone."""
    one = {
        "SIL": "X", "AO": "E", "AA": "D", "IY": "B", "UW": "F", "EH": "C", "IH": "B",
        "UH": "F", "AE": "C", "CH": "BF", "JH": "BF", "F": "G", "V": "G", "TH": "BF",
        "DH": "BF", "S": "BF", "Z": "BF", "SH": "BF", "ZH": "BF", "HH": _ANY, "M": "A",
        "N": "BCFH", "NG": "BCEF", "R": "BEF", "Y": "BCF", "W": "F",
        "P": _ANY, "B": _ANY, "T": _ANY_OPEN, "D": _ANY_OPEN, "K": _ANY_OPEN, "G": _ANY_OPEN,
    }  # fmt: skip
    s = _DIPHTHONG_SPLIT
    if lab == "AH":
        return [(1.0, "C" if dur < 0.2 else "D")]
    if lab == "ER":
        return [(1.0, "BC" if dur < 0.07 else "E")]
    if lab == "L":
        return [(1.0, "BEFH" if dur < 0.2 else "H")]
    if lab == "EY":
        return [(s, "C"), (1 - s, "B")]
    if lab == "AY":
        return [(s, "C" if dur < 0.2 else "D"), (1 - s, "B")]
    if lab == "OW":
        return [(s, "E"), (1 - s, "F")]
    if lab == "AW":
        return [(s, "C" if dur < 0.3 else "D"), (1 - s, "E")]
    if lab == "OY":
        return [(s, "E"), (1 - s, "B")]
    return [(1.0, one[lab])]


_OCCLUSION = {"P": "A", "B": "A", "T": "BF", "D": "BF", "K": "BCEFH", "G": "BCEFH"}


def phones_to_rhubarb(
    phones,
    *,
    duration: float | None = None,
    min_duration: float = 0.04,
    extended_shapes: str = "GHX",
) -> list[MouthCue]:
    """Rhubarb Lip Sync mouth cues from timed phones.

    Parameters
    ----------
    phones : list of Phone
        Timed ARPAbet phones (``label``, ``start``, ``end`` seconds), sorted, e.g. from
        :func:`talkinghead.audio.phones.align_phones`. Gaps count as silence.
    duration : float, optional
        Length of the recording in seconds (default: the end of the last phone). The
        cues cover ``[0, duration]`` truncated to whole centiseconds, like Rhubarb's.
    min_duration : float
        Shortest cue in seconds; shorter ones are merged into a neighbour (a bilabial
        closure ``A`` is lengthened instead).
    extended_shapes : str
        Which of the extended shapes ``G``, ``H``, ``X`` may be used (Rhubarb's
        ``--extendedShapes``); the others fall back to ``A``, ``C``, ``A``.

    Returns
    -------
    list of MouthCue
        Contiguous: ``cues[0].start == 0``, ``cues[i].end == cues[i + 1].start``,
        ``cues[-1].end == duration``; consecutive values differ.
    """
    segs = _check_phones(phones)
    if duration is None:
        if not segs:
            raise InvalidArgumentError("duration=None needs at least one phone to end on")
        duration = segs[-1][2]
    duration = check_positive("duration", duration)
    if min_duration < 0 or not math.isfinite(min_duration):
        raise InvalidArgumentError(f"min_duration={min_duration} must be >= 0 seconds")
    ext = str(extended_shapes).upper()
    if set(ext) - set("GHX"):
        raise InvalidArgumentError(f"extended_shapes={extended_shapes!r} must be a subset of 'GHX'")
    total = int(math.floor(duration * 100 + 1e-6))  # centiseconds, truncated
    if total < 1:
        raise InvalidArgumentError(f"duration={duration} must be at least 0.01 s")

    # 1. timeline of (start, end, allowed shapes) in seconds, silence in the gaps
    timeline: list[list] = []
    t = 0.0
    for lab, s, e in segs:
        if s >= duration:
            break
        e = min(e, duration)
        if s > t + 1e-9:
            timeline.append([t, s, "X"])
        sets = _shape_sets(lab, e - s)
        pos = s
        for k, (frac, allowed) in enumerate(sets):
            end = e if k == len(sets) - 1 else pos + frac * (e - s)
            timeline.append([pos, end, allowed])
            pos = end
        if lab in _OCCLUSION and len(timeline) >= 2:
            _insert_occlusion(timeline, len(timeline) - 1, _OCCLUSION[lab])
        t = e
    if t < duration - 1e-9:
        timeline.append([t, duration, "X"])

    # 2. resolve flexible shape sets right to left (anticipate the next shape)
    shapes: list[str] = [""] * len(timeline)
    ref = "X"
    for i in range(len(timeline) - 1, -1, -1):
        allowed = timeline[i][2]
        shapes[i] = allowed if len(allowed) == 1 else next(c for c in _EFFORT[ref] if c in allowed)
        ref = shapes[i]
    shapes = [s if s in BASIC_SHAPES or s in ext else _BASIC_OF[s] for s in shapes]

    # 3. whole centiseconds, merge, enforce min_duration
    bounds = [0] + [min(total, int(round(seg[1] * 100))) for seg in timeline]
    bounds[-1] = total
    cues = [[bounds[i], bounds[i + 1], shapes[i]] for i in range(len(shapes))]
    cues = _merge_equal([c for c in cues if c[1] > c[0]])
    cues = _enforce_min(cues, int(round(min_duration * 100)))
    return [MouthCue(s / 100, e / 100, v) for s, e, v in cues]


def _insert_occlusion(timeline: list[list], i: int, allowed: str) -> None:
    """Show a plosive's closure over the tail of what precedes phone segment ``i``."""
    prev_start, start = timeline[i - 1][0], timeline[i][0]
    prev_dur = start - prev_start
    occ = min(max(prev_dur / 2, 0.04), 0.12, 0.8 * prev_dur)
    if occ <= 0:
        return
    timeline[i - 1][1] = start - occ
    timeline.insert(i, [start - occ, start, allowed])


def _merge_equal(cues: list[list]) -> list[list]:
    out: list[list] = []
    for c in cues:
        if out and out[-1][2] == c[2]:
            out[-1][1] = c[1]
        else:
            out.append(list(c))
    return out


def _enforce_min(cues: list[list], min_cs: int) -> list[list]:
    def dur(k: int) -> int:
        return cues[k][1] - cues[k][0]

    while len(cues) > 1 and min_cs > 0:
        short = [i for i, c in enumerate(cues) if c[1] - c[0] < min_cs]
        if not short:
            break
        i = min(short, key=lambda k: (dur(k), k))
        nbrs = [k for k in (i - 1, i + 1) if 0 <= k < len(cues)]
        j = max(nbrs, key=dur)
        need = min_cs - dur(i)
        if cues[i][2] == "A" and dur(j) - need >= min_cs:
            if j < i:
                cues[j][1] -= need
                cues[i][0] -= need
            else:
                cues[j][0] += need
                cues[i][1] += need
            continue
        if j < i:
            cues[j][1] = cues[i][1]
        else:
            cues[j][0] = cues[i][0]
        del cues[i]
        cues[:] = _merge_equal(cues)
    return cues


def _fmt(t: float) -> str:
    return f"{t:.2f}"


def write_rhubarb(
    path: str | os.PathLike,
    cues: list[MouthCue],
    fmt: str = "tsv",
    *,
    sound_file: str | os.PathLike = "",
    duration: float | None = None,
) -> Path:
    """Write mouth cues in one of Rhubarb Lip Sync's output formats (atomic).

    Parameters
    ----------
    path : path-like
    cues : list of MouthCue
        From :func:`phones_to_rhubarb` (contiguous, starting at 0).
    fmt : {"tsv", "json", "xml"}
        ``tsv``: ``start<TAB>shape`` per cue plus a last line ``end<TAB>X`` (``A``
        when no cue uses ``X``); ``json``/``xml``: ``metadata`` (``soundFile``,
        ``duration``) and ``mouthCues`` with ``start``, ``end``, ``value``.
    sound_file : path-like
        Written to ``metadata.soundFile`` (Rhubarb writes the recording's absolute path).
    duration : float, optional
        ``metadata.duration`` (default: the end of the last cue).
    """
    fmt = str(fmt).lower()
    if fmt not in ("tsv", "json", "xml"):
        raise InvalidArgumentError(f"fmt={fmt!r} must be 'tsv', 'json' or 'xml'")
    cues = list(cues)
    if not cues:
        cues = [MouthCue(0.0, 0.0, "X")]
    dur = cues[-1].end if duration is None else float(duration)
    dur = math.floor(dur * 100 + 1e-6) / 100
    sound = str(sound_file)
    if fmt == "tsv":
        closed = "X" if any(c.value == "X" for c in cues) else "A"
        lines = [f"{_fmt(c.start)}\t{c.value}" for c in cues]
        lines.append(f"{_fmt(cues[-1].end)}\t{closed}")
        text = "\n".join(lines) + "\n"
    elif fmt == "json":
        body = ",\n".join(
            f'    {{ "start": {_fmt(c.start)}, "end": {_fmt(c.end)}, "value": "{c.value}" }}'
            for c in cues
        )
        text = (
            "{\n"
            '  "metadata": {\n'
            f'    "soundFile": {json.dumps(sound, ensure_ascii=False)},\n'
            f'    "duration": {_fmt(dur)}\n'
            "  },\n"
            '  "mouthCues": [\n'
            f"{body}\n"
            "  ]\n"
            "}\n"
        )
    else:
        body = "\n".join(
            f"    <mouthCue start={quoteattr(_fmt(c.start))} end={quoteattr(_fmt(c.end))}>"
            f"{escape(c.value)}</mouthCue>"
            for c in cues
        )
        text = (
            '<?xml version="1.0" encoding="utf-8"?>\n'
            "<rhubarbResult>\n"
            "  <metadata>\n"
            f"    <soundFile>{escape(sound)}</soundFile>\n"
            f"    <duration>{_fmt(dur)}</duration>\n"
            "  </metadata>\n"
            "  <mouthCues>\n"
            f"{body}\n"
            "  </mouthCues>\n"
            "</rhubarbResult>\n"
        )
    return write_text_atomic(path, text)


def read_rhubarb(path: str | os.PathLike) -> list[MouthCue]:
    """Read Rhubarb ``tsv``/``json``/``xml`` output (ours or Rhubarb's) back into cues."""
    p = Path(path)
    if not p.is_file():
        raise MediaError(f"Rhubarb cue file {p} does not exist")
    text = p.read_text(encoding="utf-8-sig").strip()
    try:
        if text.startswith("{"):
            d = json.loads(text)
            return [MouthCue(float(c["start"]), float(c["end"]), str(c["value"]))
                    for c in d["mouthCues"]]  # fmt: skip
        if text.startswith("<"):
            import xml.etree.ElementTree as ET

            root = ET.fromstring(text)
            return [
                MouthCue(float(c.get("start")), float(c.get("end")), (c.text or "").strip())
                for c in root.iter("mouthCue")
            ]
        rows = [line.split("\t") for line in text.splitlines() if line.strip()]
        times = [float(r[0]) for r in rows]
        return [MouthCue(times[i], times[i + 1], rows[i][1].strip()) for i in range(len(rows) - 1)]
    except (ValueError, KeyError, TypeError, IndexError) as exc:
        raise MediaError(f"{p} is not a Rhubarb tsv/json/xml file: {exc}") from None
    except Exception as exc:  # xml.etree.ElementTree.ParseError
        raise MediaError(f"{p} is not a Rhubarb tsv/json/xml file: {exc}") from None


# --------------------------------------------------------------------------- oculus visemes
def phones_to_oculus_visemes(
    phones, *, n_frames: int, fps: float, smoothing: float = 0.035
) -> np.ndarray:
    """Per-frame weights of the 15 Oculus visemes, with coarticulation.

    Each phone segment (diphthongs: two, 60 % / 40 %) has its viseme at full dominance
    over its core (the middle half) and a dominance ``exp(-(d / smoothing) ** 2)`` at a
    distance ``d`` outside it, times a per-viseme strength (PP 3, FF 2, TH/CH 1.2,
    sil 0.6, others 1). Each frame's weights are the normalised dominances, summed per
    viseme. Frame ``k`` is at ``k / fps`` seconds; gaps between phones are silence.

    Parameters
    ----------
    phones : list of Phone
    n_frames : int
    fps : float
    smoothing : float
        Seconds; 0 gives one-hot rows (the viseme of the segment under each frame).

    Returns
    -------
    ndarray, shape (n_frames, 15), float32
        Columns in :data:`OCULUS_VISEMES` order; each row sums to 1.
    """
    fps = check_positive("fps", fps)
    if int(n_frames) != n_frames or n_frames < 0:
        raise InvalidArgumentError(f"n_frames={n_frames!r} must be an integer >= 0")
    n_frames = int(n_frames)
    if smoothing < 0 or not math.isfinite(smoothing):
        raise InvalidArgumentError(f"smoothing={smoothing} must be >= 0 seconds")
    segs: list[tuple[float, float, int]] = []
    t = 0.0
    index = {v: i for i, v in enumerate(OCULUS_VISEMES)}
    for lab, s, e in _check_phones(phones):
        if s > t + 1e-9:
            segs.append((t, s, 0))
        parts = PHONE_TO_OCULUS[lab]
        if len(parts) == 1:
            segs.append((s, e, index[parts[0]]))
        else:
            m = s + _DIPHTHONG_SPLIT * (e - s)
            segs.append((s, m, index[parts[0]]))
            segs.append((m, e, index[parts[1]]))
        t = e
    end = n_frames / fps
    if t < end:
        segs.append((t, end + 1.0, 0))
    out = np.zeros((n_frames, len(OCULUS_VISEMES)), dtype=np.float64)
    if n_frames == 0:
        return out.astype(np.float32)
    times = np.arange(n_frames) / fps
    arr = np.array(segs, dtype=np.float64).reshape(-1, 3)
    starts, ends, vis = arr[:, 0], arr[:, 1], arr[:, 2].astype(np.int64)
    centre = 0.5 * (starts + ends)
    core = 0.25 * (ends - starts)
    strength = np.array([_OCULUS_STRENGTH.get(OCULUS_VISEMES[v], 1.0) for v in vis])
    # the segment under each frame (always gets a tiny floor so rows never vanish)
    under = np.clip(np.searchsorted(starts, times, side="right") - 1, 0, len(segs) - 1)
    if smoothing == 0:
        out[np.arange(n_frames), vis[under]] = 1.0
        return out.astype(np.float32)
    d = np.maximum(np.abs(times[:, None] - centre[None, :]) - core[None, :], 0.0)
    dom = strength[None, :] * np.exp(-((d / smoothing) ** 2))
    dom[np.arange(n_frames), under] += 1e-9
    dom /= dom.sum(axis=1, keepdims=True)
    np.add.at(out.T, vis, dom.T)
    return out.astype(np.float32)


def write_visemes(
    path: str | os.PathLike,
    weights: np.ndarray,
    *,
    fps: float,
    fmt: str | None = None,
    prefix: str = "",
    decimals: int = 4,
) -> Path:
    """Write per-frame viseme weights as CSV or JSON (atomic).

    Parameters
    ----------
    path : path-like
    weights : ndarray, shape (T, 15)
        From :func:`phones_to_oculus_visemes`.
    fps : float
    fmt : {"csv", "json"}, optional
        Default: from the suffix of ``path`` (``.json`` -> JSON, else CSV).
    prefix : str
        Prepended to the viseme names. ``"viseme_"`` gives the Ready Player Me morph
        names, :data:`RPM_VISEMES` (``viseme_sil``, ``viseme_PP``, ..., ``viseme_E``,
        ``viseme_I``, ``viseme_O``, ``viseme_U``).
    decimals : int

    CSV: header ``time,<15 names>``, one row per frame (``time`` = k / fps seconds).
    JSON: ``{"fps", "n_frames", "names", "weights": [[15 values] per frame]}``.
    """
    fps = check_positive("fps", fps)
    w = np.asarray(weights, dtype=np.float64)
    if w.ndim != 2 or w.shape[1] != len(OCULUS_VISEMES):
        raise InvalidArgumentError(f"weights.shape={w.shape} must be (T, {len(OCULUS_VISEMES)})")
    if fmt is None:
        fmt = "json" if str(path).lower().endswith(".json") else "csv"
    fmt = fmt.lower()
    if fmt not in ("csv", "json"):
        raise InvalidArgumentError(f"fmt={fmt!r} must be 'csv' or 'json'")
    names = list(RPM_VISEMES) if prefix == "viseme_" else [prefix + v for v in OCULUS_VISEMES]
    vals = np.char.mod(f"%.{decimals}f", np.round(w, decimals) + 0.0)
    if fmt == "csv":
        times = np.char.mod("%.6f", np.arange(len(w)) / fps)
        lines = [",".join(["time"] + names)]
        lines += [t + "," + ",".join(r) for t, r in zip(times, vals, strict=True)]
        text = "\n".join(lines) + "\n"
    else:
        head = json.dumps({"fps": fps, "n_frames": len(w), "names": names})[:-1]
        rows = ",\n  ".join("[" + ",".join(r) + "]" for r in vals)
        text = head + ', "weights": [\n  ' + rows + "\n]}\n"
    return write_text_atomic(path, text)
