"""Recipes on real clips (GRID, interview folder, MEAD-style, CREMA-D, one person).

Tracking costs ~5-10 ms per frame, so clips are tracked at 160 px with one cheap
feature set, and long clips are cut with ``max_frames``.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from conftest import FAST, GRID_SAMPLES, link
from talkinghead.corpora import RECIPES
from talkinghead.corpora.crema_d import parse_crema_d
from talkinghead.corpora.grid import decode_grid, read_align, scan_grid
from talkinghead.corpora.manifest import read_clips, read_recordings, validate_manifest
from talkinghead.corpora.mead import parse_mead
from talkinghead.corpora.ravdess import parse_ravdess
from talkinghead.corpora.savee import parse_savee
from talkinghead.errors import InvalidArgumentError


def test_name_parsers():
    assert decode_grid("bbaf2n") == ["bin", "blue", "at", "f", "two", "now"]
    assert " ".join(decode_grid("lwbsza")) == "lay white by s zero again"
    with pytest.raises(InvalidArgumentError, match="letter 'w'"):
        decode_grid("bbaw2n")
    f = parse_ravdess("03-01-06-01-02-01-12")
    assert (f["emotion"], f["transcript"], f["actor"]) == (
        "fearful",
        "Dogs are sitting by the door",
        "Actor_12",
    )
    f = parse_crema_d("1001_DFA_ANG_XX")
    assert (f["transcript"], f["emotion"], f["intensity"]) == (
        "Don't forget a jacket",
        "anger",
        "unspecified",
    )
    assert parse_savee("sa03") == ("sadness", 3) and parse_savee("su1") == ("surprise", 1)
    assert parse_mead("M030_front_angry_level3_001.mp4")["emotion"] == "angry"
    with pytest.raises(InvalidArgumentError, match=r"\['speaker'\] are not known to the grid"):
        RECIPES["grid"](".", "unused", speaker="x")
    m = parse_mead("M030/video/front/angry/level_3/001.mp4")
    assert (m["speaker"], m["view"], m["level"], m["number"]) == ("M030", "front", 3, "001")


def test_grid_align_timings_use_words_of_file_name(shared_data, tmp_path):
    root = tmp_path / "g"
    link(shared_data / "grid_s1/video/bbaf2n.mp4", root / "video" / "bbaf2n.mp4")
    link(shared_data / "grid_s1/align/bbaf2n.align", root / "align" / "bbaf2n.align")
    (rec,) = scan_grid(root)
    assert rec.transcript == "bin blue at f two now"
    # the file spells "bine ... nowe"; words come from the name, times from the file
    assert rec.extra["words"][0] == [0.95, 1.18, "bin"]
    assert rec.extra["words"][-1] == [1.89, 2.12, "now"]
    assert [w for _, _, w in read_align(root / "align" / "bbaf2n.align")][0] == "bine"


def test_prepare_grid(grid_corpus, tmp_path):
    out = tmp_path / "out"
    res = RECIPES["grid"](
        grid_corpus, out, features=("sakurai2018", "eskimez2018"), size=160, progress=False
    )
    assert (res.processed, res.ok, res.rejected) == (3, 3, 0)
    assert validate_manifest(out) == []
    recs = {r.id: r for r in read_recordings(out)}
    assert recs["s1/bbaf2n"].transcript == "bin blue at f two now"
    assert recs["s1/lbax4n"].transcript == "lay blue at x four now"
    assert recs["s1/bbaf2n"].speaker == "s1" and recs["s2/id2_vcd_swwp2s"].speaker == "s2"
    assert recs["s2/id2_vcd_swwp2s"].extra["words"][0] == [0.49, 0.77, "set"]
    assert recs["s1/bbaf2n"].fps == 25.0 and recs["s1/bbaf2n"].has_audio
    for c in read_clips(out):
        assert c.n_frames == 75 and c.features == {"sakurai2018": 40, "eskimez2018": 128}
        assert c.qc["valid_fraction"] > 0.95
        # synchronous GRID clips: the offset estimator must not flag them
        assert "av_offset" not in c.flags and "av_uncorrelated" not in c.flags, c.qc
        with np.load(out / c.path) as z:
            assert z["mesh"].shape == (75, 468, 3) and z["audio_eskimez2018"].shape == (75, 128)
    report = json.loads((out / "qc_report.json").read_text())
    assert report["summary"]["ok"] == 3
    assert "clips: 3 (3 ok, 0 rejected)" in (out / "qc_summary.txt").read_text()


def test_prepare_folder_with_bad_files(shared_data, tmp_path):
    from talkinghead.video.io import write_video

    root = tmp_path / "interviews"
    link(shared_data / "OpenTalker__video-retalking/examples/face/1.mp4", root / "anna" / "1.mp4")
    good = shared_data / GRID_SAMPLES / "GRID/bbaf2n.mpg"
    data = good.read_bytes()  # a temporary, truncated copy (in tmp_path only)
    (root / "bob").mkdir()
    (root / "bob" / "cut.mpg").write_bytes(data[: len(data) // 3])
    mp4 = (shared_data / "grid_s1/video/bbaf2n.mp4").read_bytes()
    (root / "bob" / "cut4.mp4").write_bytes(mp4[: len(mp4) // 2])  # loses the moov atom
    (root / "bob" / "garbage.mp4").write_bytes(b"not a video at all" * 10)
    rng = np.random.default_rng(0)
    write_video(
        root / "bob" / "noise.mp4",
        (rng.integers(0, 255, (96, 96, 3), dtype=np.uint8) for _ in range(20)),
        fps=25,
    )
    out = tmp_path / "out"
    res = RECIPES["folder"](root, out, max_frames=40, **FAST)
    clips = {c.id: c for c in read_clips(out)}
    assert set(clips) == {"anna/1", "bob/cut", "bob/cut4", "bob/garbage", "bob/noise"}
    assert res.processed == 5 and res.failed == 2
    assert clips["anna/1"].status == "ok" and clips["anna/1"].n_frames == 40
    assert clips["bob/garbage"].status == "rejected"
    assert clips["bob/garbage"].reasons[0].startswith("unreadable:")
    assert clips["bob/noise"].status == "rejected"
    assert clips["bob/noise"].reasons == ["no face found in any frame"]
    assert "no_audio" in clips["bob/noise"].flags
    assert clips["bob/cut4"].reasons[0].startswith("unreadable:")
    # an MPEG stream cut short just ends: it keeps the frames it has (26 of 75)
    assert clips["bob/cut"].status == "ok" and clips["bob/cut"].n_frames == 26
    assert {r.speaker for r in read_recordings(out)} == {"anna", "bob"}
    rejected = [json.loads(line)["id"] for line in open(out / "rejected.jsonl")]
    assert rejected == ["bob/cut4", "bob/garbage", "bob/noise"]
    text = (out / "qc_summary.txt").read_text()
    assert "REJECTED bob/garbage: unreadable" in text and "REJECTED bob/noise" in text
    assert validate_manifest(out) == []


def test_prepare_mead_without_audio(shared_data, tmp_path):
    src = shared_data / "ali-vilab__dreamtalk/data/style_clip/video"
    root = tmp_path / "mead"
    for name in ("M030_front_angry_level3_001.mp4", "W009_front_happy_level3_001.mp4"):
        link(src / name, root / name)
    out = tmp_path / "out"
    RECIPES["mead"](root, out, max_frames=30, **FAST)
    recs = {r.id: r for r in read_recordings(out)}
    assert recs["M030_front_angry_level3_001"].emotion == "angry"
    assert recs["W009_front_happy_level3_001"].speaker == "W009"
    assert recs["W009_front_happy_level3_001"].intensity == "level3"
    for c in read_clips(out):
        assert c.status == "ok" and "no_audio" in c.flags and c.features == {}
        assert c.qc["valid_fraction"] > 0.9
    assert not any(r.has_audio for r in recs.values())
    assert validate_manifest(out) == []


def test_prepare_crema_d(shared_data, tmp_path):
    src = shared_data / "Strong-AI-Lab__emotion/tests/test_data/data"
    root = tmp_path / "crema"
    for e in ("ANG", "SAD"):
        link(src / f"1001_DFA_{e}_XX.flv", root / "VideoFlash" / f"1001_DFA_{e}_XX.flv")
    out = tmp_path / "out"
    RECIPES["crema-d"](root, out, **FAST)
    recs = {r.id: r for r in read_recordings(out)}
    r = recs["VideoFlash/1001_DFA_ANG_XX"]
    assert (r.speaker, r.emotion, r.transcript) == ("1001", "anger", "Don't forget a jacket")
    assert abs(r.fps - 29.97) < 0.01 and r.has_audio
    assert recs["VideoFlash/1001_DFA_SAD_XX"].emotion == "sad"
    assert all(c.status == "ok" for c in read_clips(out))


def test_prepare_person_windows(shared_data, tmp_path):
    video = link(
        shared_data / "tanshuai0219__EDTalk/test_data/uncrop_Obama.mp4",
        tmp_path / "obama" / "obama.mp4",
    )
    out = tmp_path / "out"
    RECIPES["person"](video, out, window=50, overlap=10, max_frames=130, **FAST)
    clips = read_clips(out)
    # windows start every 40 frames; the last (frames 120-129) is shorter than 25 -> dropped
    assert [c.start_frame for c in clips] == [0, 40, 80]
    assert [c.n_frames for c in clips] == [50, 50, 50]
    assert [c.id for c in clips] == ["obama@000000", "obama@000040", "obama@000080"]
    with np.load(out / clips[1].path) as z:
        assert abs(z["times"][0] - 40 / 25) < 1e-6
    (rec,) = read_recordings(out)
    assert rec.speaker == "obama" and rec.n_frames == 500
    assert validate_manifest(out) == []
    with pytest.raises(InvalidArgumentError, match="overlap=50"):
        RECIPES["person"](video, out, window=50, overlap=50)


def test_offset_estimator_flags_a_known_unsynced_clip(shared_data, tmp_path):
    # README of the shared data: face/4.mp4's audio peaks far from zero lag
    root = tmp_path / "c"
    link(shared_data / "OpenTalker__video-retalking/examples/face/4.mp4", root / "4.mp4")
    out = tmp_path / "out"
    RECIPES["folder"](root, out, size=160, features=(), progress=False)
    (clip,) = read_clips(out)
    assert clip.status == "ok" and "av_offset" in clip.flags
    assert clip.qc["av_offset_s"] >= 0.3 and clip.qc["av_zero_lag_r"] < 0
