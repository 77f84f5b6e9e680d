"""Fixed, documented data splits shipped with the package (``splits/<name>.json``).

The ``mouth_v2`` split (issue 12) holds out whole sources (repository folders of
``../shared/data/hunt``) and whole people: no person (:func:`person_id`, one id per person
across copies, e.g. every copy of GRID speaker s4 is ``grid:s4``) is on both sides, GRID
clips are at most a third of the test clips, and everything not held out or excluded is
training data. See ``docs/default_model.md`` ("Held-out protocol (issue 12)").

A split file::

    {"name": ..., "description": ..., "rules": {...},
     "test": {recording_id: {"source": ..., "group": ..., "person": ...}, ...},
     "excluded": {recording_id: reason, ...}}

Recording ids are paths relative to the data folder without the extension, as the
``tsv`` recipe (:mod:`talkinghead.corpora.tsv`) writes them for ``../shared/data/hunt``
(``hunt/`` not prefixed) and ``../shared/data``.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

from ..errors import InvalidArgumentError

__all__ = ["person_id", "source_group", "Split", "load_split", "SPLITS"]

#: Names of the shipped split files (``splits/<name>.json``).
SPLITS = ("mouth_v2",)

# one id per well-known person appearing in several sources
_NAMED = {
    "barack obama": "barack_obama",
    "michael scott / steve carell": "steve_carell",
    "alexandria ocasio-cortez": "alexandria_ocasio_cortez",
}
# rizkiarm__LipNet GRID samples whose GRID speaker id is known (hunt/README.md and the
# hints: lrwp9a is s23, "id2_vcd_swwp2s" is GRID speaker 2's file)
_LIPNET_KNOWN = {"lrwp9a": "grid:s23", "id2_vcd_swwp2s": "grid:s2"}
#: GRID speakers that are (per hunt/README.md) among the rizkiarm__LipNet samples, whose
#: letters (spk A-J) are not mapped to ids: none of them may be on the test side.
LIPNET_GRID_SPEAKERS = ("grid:s2", "grid:s3", "grid:s4", "grid:s5", "grid:s23", "grid:s26")


def _slug(s: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", s.lower()).strip("_")


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


def source_group(source: str, person: str = "") -> str:
    """The reporting group of a source folder: ``GRID``, ``LRS3``, ``LRS2``, ``Turkish``,
    ``webcam`` or ``other``."""
    s = source.lower()
    if person.startswith("grid:") or "grid" in s or "lipnet_pytorch" in s:
        return "GRID"
    if person.startswith("lrs3:") or "aligndit" in s:
        return "LRS3"
    if person.startswith("lrs2:"):
        return "LRS2"
    if "turkish" in s:
        return "Turkish"
    if "pennapps" in s:
        return "webcam"
    return "other"


@dataclass
class Split:
    """A loaded split: test recordings (with source, group, person) and excluded ones.

    Attributes
    ----------
    name : str
    test : dict[str, dict]
        Recording id -> ``{"source", "group", "person"}``.
    excluded : dict[str, str]
        Recording id -> why it is on neither side.
    rules : dict
        The held-out sources and people, as written in the file.
    """

    name: str
    test: dict
    excluded: dict
    rules: dict

    def side(self, recording_id: str) -> str:
        """``"test"``, ``"excluded"`` or ``"train"`` for a recording id (``hunt/`` prefix
        optional)."""
        rid = _norm(recording_id)
        if rid in self.test:
            return "test"
        if rid in self.excluded:
            return "excluded"
        return "train"

    def group(self, recording_id: str) -> str | None:
        """The test source group of a recording (None off the test side)."""
        d = self.test.get(_norm(recording_id))
        return None if d is None else d["group"]

    def test_people(self) -> set[str]:
        """Person ids on the test side."""
        return {d["person"] for d in self.test.values()}


def _norm(rid: str) -> str:
    return rid[5:] if rid.startswith("hunt/") else rid


def load_split(name: str = "mouth_v2") -> Split:
    """Load a shipped split (``src/talkinghead/evaluate/splits/<name>.json``).

    Raises
    ------
    InvalidArgumentError
        ``name`` is not a shipped split.
    """
    if name not in SPLITS:
        raise InvalidArgumentError(f"split name={name!r} must be one of {list(SPLITS)}")
    path = Path(__file__).with_name("splits") / f"{name}.json"
    d = json.loads(path.read_text(encoding="utf-8"))
    return Split(name=d["name"], test=d["test"], excluded=d["excluded"], rules=d["rules"])
