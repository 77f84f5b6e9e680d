"""Build ``src/talkinghead/evaluate/splits/mouth_v2.json``: the held-out split of issue 12.

Reproducible from ``../shared/data`` (its ``MANIFEST.tsv`` and ``hunt/MANIFEST.tsv``,
listed with the ``tsv`` recipe, so the recording ids are the ones ``talkinghead prepare
tsv`` writes). The rules, chosen from the manifests only (no score was looked at):

1. Test = every video of six whole source folders (repositories), picked to cover
   several recording conditions: GRID (``dr-pato__audio-visual-speech-inpainting``,
   ``ACL2024X__StyleDubber``: GRID s10, s27, s30, s32, s33, s34), LRS3 TED
   (``opendemo-mm__AlignDiT``), LRS2 BBC (``UoA-CARES__LipNet``), Turkish single words
   (``onurkantar__LipReadinginTurkish``) and English webcam
   (``intermezzio__pennappsxx-lip-reading``).
2. Every other recording of a test person (by :func:`~talkinghead.corpora.people.person_id`:
   GRID ids across copies, LRS3 video ids, named people) is excluded: on neither side.
3. GRID recordings whose speaker id is unknown (the ``GRID speaker, id unknown`` clips
   and the rizkiarm__LipNet ``spk A-J`` letters other than lrwp9a = s23 and
   id2_vcd_swwp2s = s2) are excluded: they might be a test speaker.
4. Everything else is training data.

Usage: ``python scripts/make_split_mouth_v2.py [--data ../shared/data]``
"""

from __future__ import annotations

import argparse
import json
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
OUT = REPO / "src" / "talkinghead" / "evaluate" / "splits" / "mouth_v2.json"

TEST_SOURCES = (
    "dr-pato__audio-visual-speech-inpainting",
    "ACL2024X__StyleDubber",
    "opendemo-mm__AlignDiT",
    "UoA-CARES__LipNet",
    "onurkantar__LipReadinginTurkish",
    "intermezzio__pennappsxx-lip-reading",
)


def build(data: Path) -> dict:
    from talkinghead.corpora.tsv import scan_tsv
    from talkinghead.evaluate.splits import source_group

    recs = scan_tsv(data / "hunt") + scan_tsv(data)
    test, excluded = {}, {}
    for r in recs:
        if r.extra["source"] in TEST_SOURCES:
            p = r.extra["person"]
            test[r.id] = {
                "source": r.extra["source"],
                "group": source_group(r.extra["source"], p),
                "person": p,
            }
    people = {d["person"] for d in test.values()}
    for r in recs:
        if r.id in test:
            continue
        p = r.extra["person"]
        if p in people:
            excluded[r.id] = f"person {p} is on the test side"
        elif p.startswith(("grid:unknown-", "grid:lipnet-")):
            excluded[r.id] = f"GRID speaker id unknown ({p}): might be a test speaker"
    groups = Counter(d["group"] for d in test.values())
    return {
        "name": "mouth_v2",
        "description": (
            "Issue 12 held-out split: whole sources and whole people on the test side, "
            "no person on both sides, GRID <= 1/3 of the test clips; all recordings not "
            "listed under test or excluded are training data. Built by "
            "scripts/make_split_mouth_v2.py from ../shared/data/MANIFEST.tsv and "
            "../shared/data/hunt/MANIFEST.tsv (recording ids as written by `talkinghead "
            "prepare tsv`)."
        ),
        "rules": {
            "test_sources": list(TEST_SOURCES),
            "test_people": sorted(people),
            "groups": dict(sorted(groups.items())),
            "n_test": len(test),
            "n_excluded": len(excluded),
            "n_listed": len(recs),
        },
        "test": dict(sorted(test.items())),
        "excluded": dict(sorted(excluded.items())),
    }


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default=str(REPO.parent / "shared" / "data"))
    args = ap.parse_args(argv)
    d = build(Path(args.data))
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(d, indent=1) + "\n", encoding="utf-8")
    print(f"{OUT}: {d['rules']['n_test']} test, {d['rules']['n_excluded']} excluded, "
          f"groups {d['rules']['groups']}")  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
