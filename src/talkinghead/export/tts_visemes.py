"""Viseme events in the shapes cloud text-to-speech services give: Azure and Amazon Polly.

Avatars built for a TTS service animate from its viseme events; these writers give the
same events for any recording, from its phones, so such an avatar plays recorded speech.

**Azure** (``azure-visemes``): the 22 viseme IDs of Azure Speech's ``VisemeReceived``
event (the SAPI 5 / Disney viseme set, :data:`AZURE_VISEMES`): 0 silence, 1 ae ax ah,
2 aa, 3 ao, 4 ey eh uh, 5 er, 6 y iy ih ix, 7 w uw, 8 ow, 9 aw, 10 oy, 11 ay, 12 h,
13 r, 14 l, 15 s z, 16 sh ch jh zh, 17 th dh, 18 f v, 19 d t n, 20 k g ng, 21 p b m.
One JSON array, one object per viseme change::

    [{"audioOffset": 0, "visemeId": 0}, {"audioOffset": 2500000, "visemeId": 21}, ...]

``audioOffset`` is in ticks of 100 ns, as the SDK's ``VisemeReceived.audio_offset``
(divide by 10 000 for milliseconds).

**Polly** (``polly-marks``): Amazon Polly speech marks of type ``viseme``, one JSON
object per line (Polly's own output is JSON lines, not an array)::

    {"time":0,"type":"viseme","value":"sil"}
    {"time":250,"type":"viseme","value":"p"}

``time`` in milliseconds from the start of the audio; values from Polly's en-US
phoneme/viseme table (:data:`PHONE_TO_POLLY`: p t S T f k i r s u @ a e E o O sil;
``l`` is written ``t``).

Phones are ARPAbet (stress digits allowed). Diphthongs are one viseme in both services
(Azure has IDs for aw, oy, ay; Polly writes them ``a``, ``O``, ``a``). Pure stdlib.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from .._util.atomic import write_text_atomic
from .cues import _check_phones

__all__ = [
    "AZURE_VISEMES",
    "PHONE_TO_AZURE",
    "PHONE_TO_POLLY",
    "POLLY_VISEMES",
    "phones_to_azure",
    "phones_to_polly",
    "write_azure_visemes",
    "write_polly_marks",
]

#: Azure / SAPI viseme ID -> the ARPAbet phones it shows.
AZURE_VISEMES: dict[int, tuple[str, ...]] = {
    0: ("SIL",), 1: ("AE", "AH"), 2: ("AA",), 3: ("AO",), 4: ("EY", "EH", "UH"),
    5: ("ER",), 6: ("Y", "IY", "IH"), 7: ("W", "UW"), 8: ("OW",), 9: ("AW",),
    10: ("OY",), 11: ("AY",), 12: ("HH",), 13: ("R",), 14: ("L",), 15: ("S", "Z"),
    16: ("SH", "CH", "JH", "ZH"), 17: ("TH", "DH"), 18: ("F", "V"), 19: ("D", "T", "N"),
    20: ("K", "G", "NG"), 21: ("P", "B", "M"),
}  # fmt: skip

#: ARPAbet phone -> Azure viseme ID.
PHONE_TO_AZURE: dict[str, int] = {p: i for i, ps in AZURE_VISEMES.items() for p in ps}

#: The Polly viseme values.
POLLY_VISEMES: tuple[str, ...] = (
    "sil", "p", "t", "S", "T", "f", "k", "i", "r", "s", "u", "@", "a", "e", "E", "o", "O",
)  # fmt: skip

#: ARPAbet phone -> Polly viseme (Polly's en-US phoneme/viseme table).
PHONE_TO_POLLY: dict[str, str] = {
    "SIL": "sil",
    "P": "p", "B": "p", "M": "p",
    "T": "t", "D": "t", "N": "t", "L": "t",
    "CH": "S", "JH": "S", "SH": "S", "ZH": "S",
    "TH": "T", "DH": "T",
    "F": "f", "V": "f",
    "K": "k", "G": "k", "NG": "k", "HH": "k",
    "Y": "i", "IY": "i", "IH": "i",
    "R": "r",
    "S": "s", "Z": "s",
    "W": "u", "UW": "u", "UH": "u",
    "AH": "@", "ER": "@",
    "AE": "a", "AA": "a", "AY": "a", "AW": "a",
    "EY": "e",
    "EH": "E",
    "OW": "o",
    "AO": "O", "OY": "O",
}  # fmt: skip


def _events(phones, table, duration: float | None):
    """[(start seconds, value), ...]: one event per change, silence first and in gaps."""
    ev: list[tuple[float, object]] = []
    t = 0.0
    sil = table["SIL"]
    for lab, s, e in _check_phones(phones):
        if s > t + 1e-9:
            ev.append((t, sil))
        ev.append((s, table[lab]))
        t = e
    if duration is None or t < duration - 1e-9:
        ev.append((t, sil))
    if not ev or ev[0][0] > 0:
        ev.insert(0, (0.0, sil))
    out: list[tuple[float, object]] = []
    for s, v in ev:
        if out and out[-1][1] == v:
            continue
        if out and abs(out[-1][0] - s) < 1e-9:
            out[-1] = (s, v)  # a zero-length event: the later one wins
            if len(out) > 1 and out[-2][1] == v:
                out.pop()
            continue
        out.append((s, v))
    return out


def phones_to_azure(phones, *, duration: float | None = None) -> list[dict]:
    """Azure ``VisemeReceived``-style events ``{"audioOffset": ticks, "visemeId": int}``."""
    return [
        {"audioOffset": int(round(s * 1e7)), "visemeId": int(v)}
        for s, v in _events(phones, PHONE_TO_AZURE, duration)
    ]


def phones_to_polly(phones, *, duration: float | None = None) -> list[dict]:
    """Polly viseme speech marks ``{"time": ms, "type": "viseme", "value": str}``."""
    return [
        {"time": int(round(s * 1000)), "type": "viseme", "value": v}
        for s, v in _events(phones, PHONE_TO_POLLY, duration)
    ]


def write_azure_visemes(path: str | os.PathLike, phones, *, duration: float | None = None) -> Path:
    """Write :func:`phones_to_azure` as a JSON array (atomic)."""
    ev = phones_to_azure(phones, duration=duration)
    return write_text_atomic(path, "[\n" + ",\n".join(json.dumps(e) for e in ev) + "\n]\n")


def write_polly_marks(path: str | os.PathLike, phones, *, duration: float | None = None) -> Path:
    """Write :func:`phones_to_polly` as JSON lines, Polly's speech-marks layout (atomic)."""
    ev = phones_to_polly(phones, duration=duration)
    return write_text_atomic(path, "".join(json.dumps(e, separators=(",", ":")) + "\n" for e in ev))
