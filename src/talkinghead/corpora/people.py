"""Who is in a recording: one id per person across the copies of the shared data.

The ``tsv`` recipe (:mod:`talkinghead.corpora.tsv`) writes it into each recording's
``extra["person"]``; the held-out splits (:mod:`talkinghead.evaluate.splits`) keep every
person on one side.
"""

from __future__ import annotations

import re
from pathlib import Path

__all__ = ["person_id", "recording_person"]

# one id per well-known person appearing in several sources
_NAMED = {
    "barack obama": "barack_obama",
    "michael scott / steve carell": "steve_carell",
    "alexandria ocasio-cortez": "alexandria_ocasio_cortez",
}
# rizkiarm__LipNet GRID samples whose GRID speaker id is known (hunt/README.md and the
# hints: lrwp9a is s23, "id2_vcd_swwp2s" is GRID speaker 2's file)
_LIPNET_KNOWN = {"lrwp9a": "grid:s23", "id2_vcd_swwp2s": "grid:s2"}


def _slug(s: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", s.lower()).strip("_")


def recording_person(rec: dict) -> str:
    """The person of a prepared recording (a ``recordings.jsonl`` row as a dict): its
    ``extra.person`` (set by ``prepare``), else its ``speaker``, else its id. Training
    recipes group frames and references by it and keep test people out with it."""
    return (rec.get("extra") or {}).get("person") or rec.get("speaker") or rec["id"]


def person_id(hint: str, *, source: str = "", file: str = "") -> str:
    """One id per person from a manifest's ``speaker_hint`` (and the file, for known copies).

    ``GRID s4 (...)`` -> ``grid:s4``; ``LRS3 <video id>`` -> ``lrs3:<video id>``;
    ``LRS2 <id> <description>`` -> ``lrs2:<id>:<description>``; people named in several
    sources (Barack Obama, Steve Carell, Alexandria Ocasio-Cortez) get one id; otherwise
    the hint up to its first parenthesis, prefixed with ``source`` when given.
    """
    h = (hint or "").strip()
    stem = Path(file).stem if file else ""
    if stem in _LIPNET_KNOWN and "LipNet" in source:
        return _LIPNET_KNOWN[stem]
    m = re.match(r"GRID s(\d+)\b", h)
    if m:
        return f"grid:s{int(m.group(1))}"
    m = re.match(r"GRID spk ([A-Z])\b", h)
    if m:
        return f"grid:lipnet-{m.group(1)}"
    if h.startswith("GRID speaker, id unknown"):
        return "grid:unknown-" + _slug(h.split("(", 1)[-1])
    m = re.match(r"LRS3 (\S+)", h)
    if m:
        return f"lrs3:{m.group(1)}"
    m = re.match(r"LRS2 (\S+)\s*(.*)", h)
    if m:
        return f"lrs2:{m.group(1)}:{_slug(m.group(2))}"
    low = h.lower()
    for name, pid in _NAMED.items():
        if low.startswith(name):
            return pid
    if "same person as sadtalker wda_alexandriaocasiocortez" in low:  # video-retalking face/3
        return _NAMED["alexandria ocasio-cortez"]
    m = re.match(r"CREMA-D actor (\d+)", h)
    if m:
        return f"crema-d:{m.group(1)}"
    base = _slug(h.split("(", 1)[0]) or _slug(stem) or "unknown"
    return f"{_slug(source)}:{base}" if source else base
