"""Fixed, documented data splits shipped with the package (``splits/<name>.json``).

The ``mouth_v2`` split holds out whole sources (repository folders of
``../shared/data/hunt``) and whole people: no person
(:func:`talkinghead.corpora.people.person_id`, one id per person across copies, e.g. every
copy of GRID speaker s4 is ``grid:s4``) is on both sides, GRID clips are at most a third of
the test clips, and everything not held out or excluded is training data. See
``docs/default_model.md`` ("Held-out protocol").

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
from dataclasses import dataclass
from pathlib import Path

from ..errors import InvalidArgumentError

__all__ = ["source_group", "Split", "load_split", "SPLITS", "recording_group"]

#: Names of the shipped split files (``splits/<name>.json``).
SPLITS = ("mouth_v2",)

#: GRID speakers that are (per hunt/README.md) among the rizkiarm__LipNet samples, whose
#: letters (spk A-J) are not mapped to ids: none of them may be on the test side.
LIPNET_GRID_SPEAKERS = ("grid:s2", "grid:s3", "grid:s4", "grid:s5", "grid:s23", "grid:s26")


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


def recording_group(rec: dict) -> str:
    """:func:`source_group` of a prepared recording dict (``recordings.jsonl`` row): its
    ``extra.source`` and its person (:func:`~talkinghead.corpora.people.recording_person`)."""
    from ..corpora.people import recording_person

    return source_group((rec.get("extra") or {}).get("source") or "", recording_person(rec))


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
