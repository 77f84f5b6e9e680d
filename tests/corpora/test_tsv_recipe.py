"""The tsv recipe lists ../shared/data and its hunt/ from their MANIFEST.tsv files."""

from __future__ import annotations

import pytest

from talkinghead.corpora.tsv import read_manifest_tsv, scan_tsv
from talkinghead.errors import MediaError


def test_scan_hunt(shared_data):
    if not (shared_data / "hunt" / "MANIFEST.tsv").is_file():
        pytest.skip("../shared/data/hunt is missing")
    recs = scan_tsv(shared_data / "hunt")
    rows = read_manifest_tsv(shared_data / "hunt" / "MANIFEST.tsv")
    assert len(recs) == sum(r["kind"] == "video" and r["has_audio"] == "yes" for r in rows)
    by_id = {r.id: r for r in recs}
    r = by_id["spcnz__lip-reading/data/demo_videos_multy/s30/bbac3n"]
    assert r.transcript == "bin blue at c three now"
    assert r.extra["person"] == "grid:s30" and r.extra["source"] == "spcnz__lip-reading"
    assert r.speaker.startswith("GRID s30")
    # non-GRID clips get no transcript
    assert all(x.transcript is None for x in recs if "Turkish" in x.extra["source"])


def test_scan_top_level_exclude_and_paired_audio(shared_data):
    recs = scan_tsv(shared_data, exclude=("grid_s1/",))
    ids = {r.id for r in recs}
    assert not any(i.startswith("grid_s1/") for i in ids)
    # a silent video with its audio beside it is taken, with that audio
    ms = [r for r in recs if r.id.endswith("EDTalk/test_data/mouth_source")]
    assert len(ms) == 1 and ms[0].audio.endswith("mouth_source.wav")
    # the GRID sample with an .align file gets the word timings
    sw = [r for r in recs if r.id.endswith("id2_vcd_swwp2s")][0]
    assert len(sw.extra["words"]) == 6 and sw.extra["person"] == "grid:s2"


def test_missing_manifest(tmp_path):
    with pytest.raises(MediaError, match="MANIFEST.tsv"):
        scan_tsv(tmp_path)
