"""``animate --photo`` defaults to the shipped learned mouth (issue 18 session 9)."""

from __future__ import annotations

import pytest


def test_default_mouth_is_learned_with_torch_and_procedural_without(monkeypatch):
    import importlib.util

    from talkinghead.render import photo

    pytest.importorskip("torch")
    assert (photo.MOUTH_GENERATOR_DIR / "config.json").is_file()
    assert photo.default_mouth() == "learned"
    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda n, *a: None if n == "torch" else real(n, *a)
    )
    assert photo.default_mouth() == "procedural"


def test_mouth_left_out_is_procedural_for_person_and_resolved_for_photo():
    from talkinghead.cli import build_parser
    from talkinghead.cli.photo import _DefaultMouth

    p = build_parser()
    args = p.parse_args(["animate", "a.wav", "--person", "P", "-o", "o.mp4"])
    assert isinstance(args.mouth, _DefaultMouth) and args.mouth == "procedural"
    args = p.parse_args(
        ["animate", "a.wav", "--photo", "f.jpg", "--mouth", "procedural", "-o", "o.mp4"]
    )
    assert not isinstance(args.mouth, _DefaultMouth) and args.mouth == "procedural"


def test_animate_photo_uses_the_learned_mouth_unless_refined(
    tmp_path, shared_data, example_speech, monkeypatch
):
    """The CLI hands the shipped learned mouth to the renderer; ``--refine`` keeps the
    procedural one (the refiner was trained on it); ``--mouth procedural`` still works."""
    import cv2

    import talkinghead.pipelines as pipelines
    from talkinghead.cli import main
    from talkinghead.models.mouth_generator import MouthGenerator
    from talkinghead.video.io import read_video

    pytest.importorskip("torch")
    frame = read_video(
        shared_data / "tanshuai0219__EDTalk/test_data/uncrop_Obama.mp4", max_frames=1
    ).frames[0]
    photo = tmp_path / "face.jpg"
    cv2.imwrite(str(photo), frame[:, :, ::-1])
    seen = []

    def spy(out, face, audio, **kw):  # the renderer itself is tested in tests/render
        seen.append((kw["mouth"], kw["mouth_model"], kw["refiner"]))
        return out

    monkeypatch.setattr(pipelines, "render_photo_video", spy)
    base = ["-q", "animate", str(example_speech), "--photo", str(photo), "--size", "256"]
    assert main([*base, "-o", str(tmp_path / "a.mp4")]) == 0
    assert main([*base, "--mouth", "procedural", "-o", str(tmp_path / "b.mp4")]) == 0
    assert main([*base, "--refine", "-o", str(tmp_path / "c.mp4")]) == 0
    (m0, mm0, r0), (m1, mm1, _), (m2, mm2, r2) = seen
    assert m0 == "learned" and isinstance(mm0, MouthGenerator) and r0 is None
    assert m1 == "procedural" and mm1 is None
    assert m2 == "procedural" and mm2 is None and r2 is not None
