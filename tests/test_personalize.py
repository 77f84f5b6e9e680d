"""personalize / render_person on a real clip (tiny settings) and the rejection paths."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from talkinghead.errors import (
    FaceLostError,
    FaceNotFoundError,
    InvalidArgumentError,
    TooFewFramesError,
)
from talkinghead.personalize import load_person, personalize
from talkinghead.pipelines import render_person

torch.set_num_threads(1)
GRID = "rizkiarm__LipNet/evaluation/samples/GRID/bbaf2n.mpg"  # 75 frames, 25 fps, 360x288


def test_rejects_too_short_video(shared_data, tmp_path):
    with pytest.raises(TooFewFramesError, match=r"has 40 frames \(max_frames=40\).*min_frames=300"):
        personalize(shared_data / GRID, tmp_path / "p", max_frames=40, progress=False)


def test_rejects_faceless_video(tmp_path):
    from talkinghead.video.io import write_video

    rng = np.random.default_rng(0)
    frames = [rng.integers(0, 256, (96, 128, 3), dtype=np.uint8) for _ in range(12)]
    path = write_video(tmp_path / "noise.mp4", frames, fps=25)
    with pytest.raises(FaceLostError, match=r"lost in 12 of 12 frames \(100%: 12 without") as e:
        personalize(path, tmp_path / "p", min_frames=10, progress=False)
    assert isinstance(e.value, FaceNotFoundError)


def test_personalize_and_render_end_to_end(shared_data, example_speech, tmp_path):
    import soundfile as sf

    from talkinghead.video.io import probe_video

    person = personalize(shared_data / GRID, tmp_path / "person", max_frames=40, min_frames=30,
                         size=64, steps=20, refiner_init=None, mouth_steps=0,
                         progress=False)  # fmt: skip
    meta = json.loads((person / "person.json").read_text())
    # GRID is in sync: the measured offset is ~0 and nothing is shifted
    assert meta["av_sync"]["source"] == "auto" and meta["av_sync"]["offset_s"] == 0.0
    assert abs(meta["av_sync"]["measured_s"]) < 0.05 and meta["refiner"]["init"] is None
    assert meta["n_frames"] == 40 and meta["n_valid"] >= 30
    assert meta["refiner"]["steps"] == 20 and meta["frame_size"] == [360, 288]
    files = ("reference.png", "head_pose.json", "refiner/config.json", "refiner/model.safetensors")
    for f in files:
        assert (person / f).is_file(), f
    p = load_person(person)
    assert p.face.image.shape == (288, 360, 3) and p.refiner.config.size == 64
    x0, y0, side = p.box
    assert 0 <= x0 and 0 <= y0 and x0 + side <= 360 and y0 + side <= 288

    y, sr = sf.read(example_speech, dtype="float32")
    wav = tmp_path / "two_seconds.wav"
    sf.write(wav, y[: 2 * sr], sr)
    out = render_person(wav, person, tmp_path / "out.mp4", progress=False)
    info = probe_video(out)
    assert info.n_frames == 50 and info.fps == 25 and info.has_audio
    assert (info.width, info.height) == (360, 288)


def test_fine_tunes_from_a_given_refiner_and_takes_a_given_offset(shared_data, tmp_path):
    from talkinghead.models.refiner import Refiner, RefinerConfig

    cfg = RefinerConfig(size=32, base_channels=8, memory_slots=4, key_dim=8)
    torch.manual_seed(0)
    init = Refiner(cfg)
    with torch.no_grad():
        for p in init.parameters():
            p.add_(0.05 * torch.randn_like(p))
    init_dir = init.save_pretrained(tmp_path / "general")
    person = personalize(shared_data / GRID, tmp_path / "p", max_frames=40, min_frames=30,
                         size=32, steps=1, refiner_config=cfg, refiner_init=init_dir,
                         av_offset=0.1, mouth_steps=0, progress=False)  # fmt: skip
    meta = json.loads((person / "person.json").read_text())
    assert meta["refiner"]["init"] == str(init_dir)
    assert meta["mouth_generator"] is None and not (person / "mouth_generator").exists()
    assert meta["av_sync"] == {"offset_s": 0.1, "source": "given"}
    tuned = load_person(person).refiner
    pairs = zip(tuned.parameters(), init.parameters(), strict=True)
    d = sum(float((a - b).detach().abs().sum()) for a, b in pairs)
    n = sum(p.numel() for p in init.parameters())
    assert d / n < 1e-3  # one Adam step of 2e-4 away from the given weights
    with pytest.raises(InvalidArgumentError, match="av_offset"):
        personalize(shared_data / GRID, tmp_path / "q", size=32, steps=1, av_offset="later",
                    progress=False)  # fmt: skip
    with pytest.raises(InvalidArgumentError, match="refiner_init"):
        personalize(shared_data / GRID, tmp_path / "q", size=32, steps=1,
                    refiner_init=tmp_path / "nowhere", progress=False)  # fmt: skip


def test_fine_tunes_the_learned_mouth_and_renders_with_it(shared_data, tmp_path):
    from talkinghead.models.mouth_generator import MouthGenerator, MouthGeneratorConfig

    torch.manual_seed(0)
    init = MouthGenerator(MouthGeneratorConfig(size=32, base_channels=4))
    init_dir = init.save_pretrained(tmp_path / "mouth")
    person = personalize(shared_data / GRID, tmp_path / "p", max_frames=40, min_frames=30,
                         size=32, steps=1, refiner_init=None, mouth_steps=3,
                         mouth_init=init_dir, progress=False)  # fmt: skip
    meta = json.loads((person / "person.json").read_text())
    assert meta["mouth_generator"]["steps"] == 3 and meta["mouth_generator"]["n_crops"] >= 30
    assert meta["mouth_generator"]["init"] == str(init_dir)
    p = load_person(person)
    tuned = p.mouth_model
    assert tuned is not None and tuned.config == init.config
    pairs = zip(tuned.parameters(), init.parameters(), strict=True)
    d = sum(float((a - b).detach().abs().sum()) for a, b in pairs)
    assert 0 < d / init.n_params < 5e-3  # three Adam steps of 5e-4 from the given weights
    from talkinghead.face.normalize import neutral_face_68

    drv = np.repeat(neutral_face_68()[None], 2, axis=0)
    drv[:, 57:60, 1] += 6.0  # open the mouth: the generator fills the opening
    drv[:, 65:68, 1] += 6.0
    own = np.stack(list(p.frames(drv, refine=False, mouth="learned")))
    given = np.stack(list(p.frames(drv, refine=False, mouth="learned", mouth_model=tuned)))
    other = np.stack(list(p.frames(drv, refine=False, mouth="learned", mouth_model=init)))
    plain = np.stack(list(p.frames(drv, refine=False)))
    assert np.array_equal(own, given)  # the person's own fine-tuned mouth by default
    assert not np.array_equal(own, other) and not np.array_equal(own, plain)
    with pytest.raises(InvalidArgumentError, match="mouth="):
        next(p.frames(drv, mouth="band"))
    # the exemplar mouth (the shipped GRID bank): another interior, the same warp elsewhere
    ex = np.stack(list(p.frames(drv, refine=False, mouth="exemplar")))
    diff = np.abs(ex.astype(int) - plain).max(-1)
    import cv2

    from talkinghead.render.photo import PhotoAnimator

    inner = PhotoAnimator(p.face).control_points(drv[0])[60:68]
    mask = np.zeros(diff.shape[1:], np.uint8)
    cv2.fillPoly(mask, [np.round(inner).astype(np.int32)], 1)
    mask = cv2.dilate(mask, np.ones((5, 5), np.uint8))
    assert diff[0][mask > 0].any() and not diff[0][mask == 0].any()
    with pytest.raises(InvalidArgumentError, match="must hold a mouth bank"):
        next(p.frames(drv, mouth="exemplar", mouth_model=tmp_path))
    with pytest.raises(InvalidArgumentError, match="mouth_init"):
        personalize(shared_data / GRID, tmp_path / "q", size=32, steps=1,
                    mouth_init=tmp_path / "nowhere", progress=False)  # fmt: skip
    with pytest.raises(InvalidArgumentError, match="mouth_steps"):
        personalize(shared_data / GRID, tmp_path / "q", size=32, steps=1, mouth_steps=-1,
                    progress=False)  # fmt: skip
