"""The exemplar mouth interior (real mouths copied and warped), on real GRID frames and the
shipped bank."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from talkinghead.errors import InvalidArgumentError
from talkinghead.render.mouth_exemplar import (
    MOUTH_BANK_DIR,
    ExemplarMouth,
    MouthBank,
    canonical_matrix,
    lip_shape,
    load_mouth_bank,
)

SPLIT = Path(__file__).resolve().parents[2] / "src/talkinghead/evaluate/splits/mouth_v2.json"
GRID_CLIP = "grid_s1/video/bbaf2n.mp4"
PHOTO_CLIP = "OpenTalker__video-retalking/examples/face/2.mp4"


@pytest.fixture(scope="module")
def grid_frames(shared_data):
    """75 real GRID s1 frames and their tracked 68 points."""
    from talkinghead.face.tracking import track_frames
    from talkinghead.video.io import read_video

    v = read_video(shared_data / GRID_CLIP)
    tr = track_frames(v.frames, fps=v.fps)
    ok = np.flatnonzero(tr.valid)
    return v.frames[ok], tr.landmarks68[ok].astype(np.float64)


def test_shipped_bank_holds_training_side_grid_people_only():
    """GRID (CC BY 4.0, redistributable) and no person or clip of the held-out side."""
    bank = load_mouth_bank()
    split = json.loads(SPLIT.read_text())
    test_people = {v["person"] for v in split["test"].values()}
    assert bank.donors and all(d.startswith("grid:") for d in bank.donors)
    assert not set(bank.donors) & test_people
    assert bank.sources and not set(bank.sources) & (set(split["test"]) | set(split["excluded"]))
    assert bank.images.shape[1:] == (50, 80, 3) and len(bank.images) == len(bank.points)
    assert (MOUTH_BANK_DIR / "ATTRIBUTION.md").is_file()
    assert load_mouth_bank() is bank  # loaded once per process


def test_canonical_crop_is_eyes_level_at_50_px_per_eye_distance():
    lm = np.zeros((68, 2))
    a = np.deg2rad(20)
    d = 120 * np.array([np.cos(a), np.sin(a)])
    lm[36:42], lm[42:48] = [300, 200], [300, 200] + d
    lm[48:68] = [330, 330]
    M = canonical_matrix(lm)
    eyes = np.array([[300, 200], [300, 200] + d]) @ M[:, :2].T + M[:, 2]
    assert np.allclose(eyes[1] - eyes[0], [50, 0], atol=1e-9)
    assert np.allclose(M[:, :2] @ [330, 330] + M[:, 2], [40, 25])  # the mouth centre
    with pytest.raises(InvalidArgumentError, match=r"lm68.shape=\(20, 2\) must be \(68, 2\)"):
        canonical_matrix(np.zeros((20, 2)))


def test_bank_from_real_frames_round_trips_and_finds_its_own_shape(tmp_path, grid_frames):
    frames, lms = grid_frames
    idx = np.arange(0, len(frames), 5)
    bank = MouthBank.from_crops([frames[i] for i in idx], lms[idx], ["s1"] * len(idx))
    loaded = MouthBank.from_pretrained(bank.save(tmp_path / "bank"))
    np.testing.assert_array_equal(loaded.points, bank.points)
    np.testing.assert_array_equal(loaded.lip, bank.lip)
    assert loaded.donors == ["s1"] and len(loaded.images) == len(idx)
    assert np.abs(loaded.images.astype(int) - bank.images).mean() < 3  # JPEG, quality 95
    # the nearest inner-lip shape to a bank frame's own points is that frame
    em = ExemplarMouth(bank, bank.lip[0], switch_cost=0.0)
    for k in (0, len(idx) // 2, len(idx) - 1):
        assert em.choose(lms[idx[k]]) == k
    # a switching penalty keeps the previous choice for a slightly different shape
    sticky = ExemplarMouth(bank, bank.lip[0], switch_cost=1e3)
    first = sticky.choose(lms[idx[0]])
    assert sticky.choose(lms[idx[-1]]) == first
    assert lip_shape(lms[0]).shape == (16,)


def test_a_crop_painted_at_its_own_points_is_copied(grid_frames):
    """Known answer: the photo's lips = the crop's, contrast 1, target points = the crop's own
    (identity warp): inside the inner lips the painted pixels are the crop's."""
    import cv2

    frames, lms = grid_frames
    gaps = np.linalg.norm(lms[:, 62] - lms[:, 66], axis=1)
    t = int(np.argmax(gaps))
    bank = MouthBank.from_crops([frames[t]], lms[t : t + 1], ["s1"])
    em = ExemplarMouth(bank, bank.lip[0], contrast=1.0)
    lm = np.zeros((68, 2))
    lm[36:42], lm[42:48] = [15.0, -60.0], [65.0, -60.0]  # level, 50 px apart
    lm[48:68] = bank.points[0]
    out = np.zeros((50, 80, 3), np.uint8)
    em.paint(out, lm, iod=50.0, photo_gap=0.0)
    mask = np.zeros((50, 80), np.uint8)
    cv2.fillPoly(mask, [np.round(lm[60:68]).astype(np.int32)], 1)
    core = cv2.erode(mask, np.ones((5, 5), np.uint8)) > 0  # away from the feathered edge
    assert core.sum() > 20
    d = np.abs(out[core].astype(int) - bank.images[0][core].astype(int))
    assert d.mean() < 4
    assert (out[mask == 0] == 0).all()  # nothing painted outside the inner lips


def test_photo_gets_a_real_interior_with_teeth_only_where_the_lips_open(shared_data):
    from photo_faces import real_photo_face  # (tests/ is on sys.path)
    from talkinghead.evaluate.photo_metrics import teeth_visible
    from talkinghead.face.normalize import neutral_face_68
    from talkinghead.render.photo import PhotoAnimator

    face = real_photo_face(shared_data / PHOTO_CLIP)
    ex, pr = PhotoAnimator(face, mouth="exemplar"), PhotoAnimator(face)
    assert ex.exemplar.donor in range(len(ex.exemplar.bank.donors))
    lm = neutral_face_68().copy()
    lm[[57, 58, 56, 65, 66, 67, 7, 8, 9], 1] += 0.3
    lm[[55, 59, 6, 10, 5, 11], 1] += 0.18
    moving = ex.control_points(lm)
    a, b = ex.frame(moving), pr.frame(moving)
    assert teeth_visible(a, moving[:68])  # the shipped donors' teeth show
    import cv2

    mask = np.zeros(a.shape[:2], np.uint8)
    cv2.fillPoly(mask, [np.round(moving[60:68]).astype(np.int32)], 1)
    mask = cv2.dilate(mask, np.ones((5, 5), np.uint8))
    np.testing.assert_array_equal(a[mask == 0], b[mask == 0])  # the same warp elsewhere
    assert np.abs(a[mask > 0].astype(int) - b[mask > 0]).mean() > 5  # another interior
    # the photo's own opening: its mouth is kept
    closed = ex.frame(ex.control_points(neutral_face_68()))
    x0, y0 = face.landmarks[48:68].min(0).astype(int)
    x1, y1 = face.landmarks[48:68].max(0).astype(int)
    assert np.abs(closed[y0:y1, x0:x1].astype(int) - face.image[y0:y1, x0:x1]).mean() < 2


def test_bad_banks_and_mouths_are_refused(tmp_path):
    from talkinghead.render.photo import PhotoAnimator

    with pytest.raises(InvalidArgumentError, match="must hold a mouth bank"):
        MouthBank.from_pretrained(tmp_path)
    bank = load_mouth_bank()
    with pytest.raises(InvalidArgumentError, match=r"points.shape=.* must be"):
        MouthBank(bank.images[:2], bank.points[:1], bank.donor[:2], bank.donors, bank.lip[:2])
    with pytest.raises(InvalidArgumentError, match="donor=99 must be in"):
        ExemplarMouth(bank, [150, 80, 80], donor=99)
    with pytest.raises(InvalidArgumentError, match="mouth='bogus' must be one of .*exemplar"):
        PhotoAnimator(None, mouth="bogus")
    with pytest.raises(InvalidArgumentError, match="bank=int must be a MouthBank or a folder"):
        load_mouth_bank(3)
    one = bank.without(bank.donors[0])
    assert bank.donors[0] not in one.donors and len(one.images) < len(bank.images)
    assert bank.without("nobody") is bank


def test_animate_photo_mouth_exemplar_end_to_end(tmp_path, shared_data, example_speech):
    """``animate --photo --mouth exemplar``: a video with its audio, and a mouth unlike the
    procedural one's; ``--mouth-model`` must name a bank."""
    import cv2

    from talkinghead.cli import main
    from talkinghead.video.io import probe_video, read_video

    frame = read_video(shared_data / "tanshuai0219__EDTalk/test_data/uncrop_Obama.mp4",
                       max_frames=1).frames[0]  # fmt: skip
    photo = tmp_path / "face.jpg"
    cv2.imwrite(str(photo), frame[:, :, ::-1])
    args = ["-q", "animate", str(example_speech), "--photo", str(photo), "--size", "256"]
    ex, pr = tmp_path / "ex.mp4", tmp_path / "pr.mp4"
    assert main([*args, "--mouth", "exemplar", "-o", str(ex)]) == 0
    assert main([*args, "-o", str(pr)]) == 0
    info = probe_video(ex)
    assert info.has_audio and abs(info.n_frames - 204) <= 1
    d = np.abs(read_video(ex).frames.astype(np.int16) - read_video(pr).frames).max(-1)
    assert (d > 8).any(axis=(1, 2)).mean() > 0.2  # the mouth differs in open frames
    assert main([*args, "--mouth", "exemplar", "--mouth-model", str(tmp_path / "none"),
                 "-o", str(tmp_path / "x.mp4")]) != 0  # fmt: skip
    assert main([*args, "--mouth-model", str(tmp_path), "-o", str(tmp_path / "x.mp4")]) != 0
    assert not (tmp_path / "x.mp4").exists()
