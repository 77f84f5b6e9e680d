"""The shipped mouth_v2 split: speaker- and source-disjoint, GRID <= 1/3 of the test side."""

from __future__ import annotations

from collections import Counter

import pytest

from talkinghead.corpora.people import person_id, recording_person
from talkinghead.errors import InvalidArgumentError
from talkinghead.evaluate.splits import LIPNET_GRID_SPEAKERS, load_split, recording_group


def test_person_ids_join_copies():
    assert person_id("GRID s4 (older woman, grey curly hair)") == "grid:s4"
    assert person_id("LRS3 0gks6ceq4eQ", source="a") == person_id("LRS3 0gks6ceq4eQ", source="b")
    assert person_id("Barack Obama (per filename)") == person_id(
        "Barack Obama (campaign rally speech, 2020)", source="clone95__Speech-to_lips"
    )
    lipnet = "rizkiarm__LipNet/evaluation/samples/GRID/lrwp9a.mpg"
    assert person_id("GRID spk E: woman", source="rizkiarm__LipNet", file=lipnet) == "grid:s23"
    assert person_id("x (a)", source="s1") != person_id("x (a)", source="s2")


def test_recording_person_prefers_the_prepared_person():
    assert (
        recording_person({"id": "r", "speaker": "spk", "extra": {"person": "grid:s4"}}) == "grid:s4"
    )
    assert recording_person({"id": "r", "speaker": "spk", "extra": {}}) == "spk"
    assert recording_person({"id": "r", "speaker": ""}) == "r"


def test_recording_group_reads_the_source_and_the_person():
    rec = {"id": "r1", "extra": {"source": "intermezzio__pennappsxx/uploads"}}
    assert recording_group(rec) == "webcam"
    assert recording_group({"id": "r2", "speaker": "grid:s7"}) == "GRID"
    assert recording_group({"id": "r3", "extra": {"person": "lrs3:abc", "source": "x"}}) == "LRS3"
    assert recording_group({"id": "r4", "extra": {"source": "onurkantar_turkish"}}) == "Turkish"
    assert recording_group({"id": "r5"}) == "other"


def test_unknown_split_name():
    with pytest.raises(InvalidArgumentError, match="must be one of"):
        load_split("nope")


def test_split_is_disjoint_and_balanced(shared_data):
    from talkinghead.corpora.tsv import scan_tsv

    sp = load_split("mouth_v2")
    recs = scan_tsv(shared_data / "hunt") + scan_tsv(shared_data)
    ids = {r.id for r in recs}
    assert set(sp.test) <= ids and set(sp.excluded) <= ids  # the file matches the data
    side = {r.id: sp.side(r.id) for r in recs}
    train = [r for r in recs if side[r.id] == "train"]
    test = [r for r in recs if side[r.id] == "test"]
    assert 60 <= len(test) <= 120
    # speaker-disjoint: no person on both sides (GRID ids joined across copies)
    train_people = {r.extra["person"] for r in train}
    test_people = {r.extra["person"] for r in test}
    assert not train_people & test_people
    # GRID speakers also among the rizkiarm samples (letters not mapped) stay off the test side
    assert not test_people & set(LIPNET_GRID_SPEAKERS)
    assert not any(p.startswith(("grid:lipnet-", "grid:unknown-")) for p in test_people)
    # source-disjoint: every source folder is on one side only
    train_src = {r.extra["source"] for r in train}
    test_src = {r.extra["source"] for r in test}
    assert not train_src & test_src
    # whole sources: every recording of a test source is on the test side
    assert all(side[r.id] == "test" for r in recs if r.extra["source"] in test_src)
    groups = Counter(sp.group(r.id) for r in test)
    assert groups["GRID"] <= len(test) / 3
    assert len(groups) >= 4
