"""Manifest round trip, torn lines, the validator and speaker-disjoint splits."""

from __future__ import annotations

import numpy as np
import pytest

from talkinghead.corpora.manifest import (
    CLIP_ARRAYS,
    Clip,
    Recording,
    append_jsonl,
    iter_accepted,
    read_jsonl,
    split_by_speaker,
    validate_manifest,
    write_jsonl,
)
from talkinghead.errors import InvalidArgumentError


def _write_corpus(tmp_path, n=4):
    video = tmp_path / "v.mp4"
    video.write_bytes(b"x")
    recs, clips = [], []
    for i in range(2):
        recs.append(
            Recording(
                id=f"r{i}",
                video=str(video),
                audio=None,
                fps=25.0,
                n_frames=n,
                speaker="a",
                extra={"k": [1, 2]},
            )
        )
        arrays = {k: np.zeros((n, *tail), np.float32) for k, tail in CLIP_ARRAYS.items()}
        arrays["audio_sakurai2018"] = np.zeros((n, 40), np.float32)
        np.savez(tmp_path / f"c{i}.npz", **arrays)
        clips.append(
            Clip(
                id=f"r{i}",
                recording=f"r{i}",
                path=f"c{i}.npz",
                n_frames=n,
                fps=25.0,
                features={"sakurai2018": 40},
                qc={"valid_fraction": 1.0},
            )
        )
    write_jsonl(tmp_path / "recordings.jsonl", recs)
    write_jsonl(tmp_path / "clips.jsonl", clips)
    return recs, clips


def test_round_trip_and_validator_ok(tmp_path):
    recs, clips = _write_corpus(tmp_path)
    back = [Recording.from_dict(d) for d in read_jsonl(tmp_path / "recordings.jsonl")]
    assert back == recs
    assert [Clip.from_dict(d) for d in read_jsonl(tmp_path / "clips.jsonl")] == clips
    assert validate_manifest(tmp_path) == []


def test_validator_catches_missing_array_file_and_bad_shapes(tmp_path):
    _write_corpus(tmp_path)
    (tmp_path / "c1.npz").unlink()
    arrays = {k: np.zeros((3, *tail)) for k, tail in CLIP_ARRAYS.items()}  # 3 rows, not 4
    np.savez(tmp_path / "c0.npz", **arrays)
    problems = validate_manifest(tmp_path)
    assert any("c1.npz" in p and "does not exist" in p for p in problems)
    assert any("mesh.shape=(3, 468, 3) must be (4, 468, 3)" in p for p in problems)
    assert any("lacks array 'audio_sakurai2018'" in p for p in problems)


def test_validator_catches_types_and_unknown_recording(tmp_path):
    _write_corpus(tmp_path)
    append_jsonl(tmp_path / "clips.jsonl", [{"id": "x", "recording": "nope", "n_frames": "4"}])
    problems = validate_manifest(tmp_path)
    assert any("'nope' is not in recordings" in p for p in problems)
    assert any("n_frames='4' must be of type" in p for p in problems)


def test_torn_last_line_is_ignored(tmp_path):
    p = tmp_path / "m.jsonl"
    append_jsonl(p, [{"id": "a"}, {"id": "b"}])
    with open(p, "a") as f:
        f.write('{"id": "c", "trunc')
    assert [d["id"] for d in read_jsonl(p)] == ["a", "b"]
    append_jsonl(tmp_path / "n.jsonl", [])
    assert list(read_jsonl(tmp_path / "missing.jsonl")) == []


def test_iter_accepted_keeps_ok_clips_with_a_recording_in_corpus_order(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir()
    b.mkdir()
    _write_corpus(a)
    _write_corpus(b)
    append_jsonl(
        a / "clips.jsonl",
        [
            {"id": "rej", "recording": "r0", "path": "c0.npz", "status": "rejected"},
            {"id": "orphan", "recording": "nope", "path": "c0.npz", "status": "ok"},
        ],
    )
    got = [(c["id"], r["id"], p) for c, r, p in iter_accepted([a, b])]
    assert got == [
        ("r0", "r0", a / "c0.npz"),
        ("r1", "r1", a / "c1.npz"),
        ("r0", "r0", b / "c0.npz"),
        ("r1", "r1", b / "c1.npz"),
    ]


def _recs(speakers, per=5):
    return [Recording(id=f"{s}_{i}", video="v", speaker=s) for s in speakers for i in range(per)]


def test_split_by_speaker_is_disjoint_and_deterministic():
    recs = _recs([f"spk{i}" for i in range(10)])
    a = split_by_speaker(recs, valid=0.1, test=0.2, seed=3)
    b = split_by_speaker(list(reversed(recs)), valid=0.1, test=0.2, seed=3)
    assert {k: [r.id for r in v] for k, v in a.items()} == {
        k: [r.id for r in v] for k, v in b.items()
    }
    spk = {k: {r.speaker for r in v} for k, v in a.items()}
    assert not (spk["train"] & spk["valid"]) and not (spk["train"] & spk["test"])
    assert not (spk["valid"] & spk["test"])
    assert sum(len(v) for v in a.values()) == 50
    assert len(a["test"]) == 10 and len(a["valid"]) == 5


def test_split_three_speakers_gives_one_each():
    out = split_by_speaker(_recs(["a", "b", "c"]), valid=0.1, test=0.1)
    assert all(len({r.speaker for r in v}) == 1 for v in out.values())


def test_split_single_speaker_raises_or_shares():
    recs = _recs(["only"], per=10)
    with pytest.raises(InvalidArgumentError, match="speaker-disjoint"):
        split_by_speaker(recs)
    out = split_by_speaker(recs, allow_shared_speakers=True)
    assert (len(out["train"]), len(out["valid"]), len(out["test"])) == (8, 1, 1)
    assert len(split_by_speaker(recs, valid=0, test=0)["train"]) == 10
    with pytest.raises(InvalidArgumentError, match="valid=1.5"):
        split_by_speaker(recs, valid=1.5)
