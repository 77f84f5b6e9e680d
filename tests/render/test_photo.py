"""One photo -> talking frames, on a real frame of uncrop_Obama."""

from __future__ import annotations

import numpy as np
import pytest

from talkinghead.errors import FaceNotFoundError, FaceQualityError, MultipleFacesError
from talkinghead.face.normalize import neutral_face_68
from talkinghead.inference import Animation
from talkinghead.render.photo import (
    PhotoAnimator,
    animate_photo,
    blink_curve,
    find_photo_face,
    load_photo,
)

OBAMA = "tanshuai0219__EDTalk/test_data/uncrop_Obama.mp4"
FPS = 25.0


def _psnr(a, b) -> float:
    d = np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2)
    return float("inf") if d == 0 else float(10 * np.log10(255.0**2 / d))


def _anim(opening: np.ndarray) -> Animation:
    """Neutral face with the jaw and lower lip lowered by ``opening`` (eye-pinned units)."""
    T = len(opening)
    lm = np.repeat(neutral_face_68()[None], T, axis=0).copy()
    lower = [57, 58, 56, 65, 66, 67, 7, 8, 9]
    side = [55, 59, 6, 10, 5, 11]
    lm[:, lower, 1] += opening[:, None]
    lm[:, side, 1] += 0.6 * opening[:, None]
    gap = np.linalg.norm(lm[:, 62] - lm[:, 66], axis=1) / np.linalg.norm(
        lm[:, 36] - lm[:, 45], axis=1
    )
    return Animation(
        fps=FPS,
        landmarks=lm.astype(np.float32),
        mouth_open=gap.astype(np.float32),
        articulation=np.zeros((T, 4), np.float32),
        articulation_names=["a"] * 4,
    )


@pytest.fixture(scope="module")
def photo(shared_data):
    from talkinghead.video.io import read_video

    return read_video(shared_data / OBAMA, max_frames=1).frames[0]  # (450, 450, 3)


@pytest.fixture(scope="module")
def face(photo):
    with pytest.warns(UserWarning, match="upscaled to 60 px"):  # 48 px between the eyes
        return find_photo_face(photo, size=256)


def test_find_photo_face(face):
    assert face.image.shape == (256, 256, 3)
    assert 35 < face.interocular < 70 and abs(face.yaw) < 15 and face.n_faces == 1
    eyes = face.similarity.apply(np.array([[-0.5, 0.0], [0.5, 0.0]]))
    from talkinghead.face.landmarks68 import eye_centres_68

    np.testing.assert_allclose(eyes, eye_centres_68(face.landmarks), atol=1e-6)


def test_neutral_driving_gives_back_the_photo(face):
    frames = list(animate_photo(face, _anim(np.zeros(3)), blink_seed=None, head_motion=False))
    assert len(frames) == 3
    for fr in frames:
        assert fr.shape == face.image.shape and fr.dtype == np.uint8
        assert _psnr(fr, face.image) > 40
    x0, y0 = face.landmarks.min(0).astype(int)
    x1, y1 = face.landmarks.max(0).astype(int)
    assert _psnr(frames[0][y0:y1, x0:x1], face.image[y0:y1, x0:x1]) > 30


def test_open_mouth_darkens_mouth_and_background_stays(face):
    opening = np.array([0.0, 0.12, 0.25])
    # a still head keeps the mouth where the photo has it (the fixed region below)
    frames = list(animate_photo(face, _anim(opening), blink_seed=3, head_motion=False))
    lm = face.landmarks
    cx, cy = lm[[62, 66]].mean(0)
    iod = face.interocular
    # below the upper teeth, inside the opened mouth
    r = (slice(int(cy + 0.1 * iod), int(cy + 0.2 * iod)),
         slice(int(cx - 0.15 * iod), int(cx + 0.15 * iod)))  # fmt: skip
    lum = [float(f[r].mean()) for f in frames]
    assert lum[2] < lum[0] - 30, lum
    # pixels outside the static ring never change
    anim = PhotoAnimator(face)
    x0, y0, x1, y1 = anim.box
    outside = np.ones(face.image.shape[:2], bool)
    outside[y0:y1, x0:x1] = False
    assert outside.sum() > 1000
    frames += list(animate_photo(face, _anim(opening), blink_seed=3, head_motion=True))
    for f in frames:
        assert np.abs(f.astype(int) - face.image)[outside].max() < 2


def test_blinks_close_the_eyes(face):
    T = 75
    b = blink_curve(T, fps=FPS, seed=0)
    assert b.max() == pytest.approx(1.0) and (b > 0.5).sum() >= 1
    assert np.array_equal(b, blink_curve(T, fps=FPS, seed=0))
    k, n = int(np.argmax(b)), int(np.argmin(b))
    frames = list(animate_photo(face, _anim(np.zeros(T)), blink_seed=0, head_motion=False))
    lm = face.landmarks
    for eye in (slice(36, 42), slice(42, 48)):
        (x0, y0), (x1, y1) = lm[eye].min(0).astype(int), lm[eye].max(0).astype(int) + 1
        # white sclera and dark iris give way to eyelid skin: less contrast, other pixels
        shut = frames[k][y0:y1, x0:x1].astype(float)
        open_ = frames[n][y0:y1, x0:x1].astype(float)
        assert shut.std() < 0.85 * open_.std(), (shut.std(), open_.std())
        assert np.abs(shut - open_).mean() > 12


def test_retracked_mouth_follows_the_driving(face):
    from talkinghead.evaluate.metrics import mouth_corr
    from talkinghead.face.landmarks68 import mouth_openness_68
    from talkinghead.face.tracking import track_frames

    t = np.arange(40) / FPS
    opening = 0.13 * (1 - np.cos(2 * np.pi * 1.5 * t))
    anim = _anim(opening)
    frames = list(animate_photo(face, anim, blink_seed=1, head_motion=True))
    assert len(frames) == anim.n_frames
    track = track_frames(frames, fps=FPS)
    assert track.valid.all()
    assert mouth_corr(mouth_openness_68(track.landmarks68), anim.mouth_open) > 0.5


def test_bad_photos(photo):
    rng = np.random.default_rng(0)
    with pytest.raises(FaceNotFoundError, match="has no face"):
        find_photo_face(rng.integers(0, 255, (300, 300, 3), dtype=np.uint8))
    two = np.concatenate([photo, photo], axis=1)
    with pytest.raises(MultipleFacesError, match="face_index"):
        find_photo_face(two)
    assert find_photo_face(two, face_index=1).n_faces == 2
    import cv2

    tiny = cv2.resize(photo, (64, 64), interpolation=cv2.INTER_AREA)  # 12 px between the eyes
    with pytest.raises(FaceQualityError, match="too small"):
        find_photo_face(tiny)
    with pytest.raises(FaceQualityError, match="turned"):
        find_photo_face(photo, max_yaw=0.5)


def test_grey_and_huge_photos(photo, tmp_path):
    import cv2

    grey = cv2.cvtColor(photo, cv2.COLOR_RGB2GRAY)
    img, _ = load_photo(grey)
    assert img.shape == (450, 450, 3)
    frames = list(animate_photo(grey, _anim(np.array([0.0, 0.2])), head_motion=False))
    assert frames[1].shape == (450, 450, 3)
    assert np.all(frames[1][..., 0] == frames[1][..., 1])
    big = np.full((2000, 3000, 3), 90, np.uint8)
    big[100:1900, 600:2400] = cv2.resize(photo, (1800, 1800), interpolation=cv2.INTER_CUBIC)
    path = tmp_path / "big.png"
    cv2.imwrite(str(path), cv2.cvtColor(big, cv2.COLOR_RGB2BGR))
    with pytest.warns(UserWarning, match="downscaled to 2048"):
        frames = list(animate_photo(path, _anim(np.array([0.0, 0.2]))))
    assert frames[0].shape == (1365, 2048, 3)
    assert np.array_equal(frames[1][:50, :50], big[:50, :50])


def test_yaw_and_pitch_turn_the_face_in_3d(face):
    """Out-of-plane turns move the nose across the face (parallax), in the right direction."""
    an = PhotoAnimator(face)
    drv = neutral_face_68()
    still = an.control_points(drv)
    iod = face.interocular

    def nose_from_eyes(p):
        return p[30] - p[36:48].mean(0)

    # tracking convention: yaw > 0 turns the face toward the image's left
    turned = an.control_points(drv, head=(0.0, 0.0, 0.0, np.radians(10), 0.0))
    d = nose_from_eyes(turned) - nose_from_eyes(still)
    assert -0.2 * iod < d[0] < -0.05 * iod and abs(d[1]) < 0.02 * iod
    # parallax, not a rigid 2D shift: the jaw corners lie behind the eyes and move the other
    # way from the nose tip, in front of them
    assert turned[30, 0] < still[30, 0] - 2 and turned[16, 0] > still[16, 0] + 2
    # pitch > 0 nods down: the nose tip drops toward the mouth
    nod = an.control_points(drv, head=(0.0, 0.0, 0.0, 0.0, np.radians(10)))
    assert nose_from_eyes(nod)[1] > nose_from_eyes(still)[1] + 0.05 * iod
    # a (T, 3) head keeps the 2D behaviour; other lengths are refused
    np.testing.assert_allclose(an.control_points(drv, head=(0.0, 0.0, 0.0)), still)
    with pytest.raises(Exception, match="head="):
        an.control_points(drv, head=(0.0, 0.0))


def test_animation_rotation_drives_the_photo_head(face):
    """head3d rotations (y up, z to the viewer) -> camera-frame turns of the photo face."""
    from talkinghead.face.head3d import euler_to_rotation

    an = PhotoAnimator(face)
    rot = np.asarray(euler_to_rotation([0.0, 0.15, 0.0, 0.0], [0.0, 0.0, 0.15, 0.0],
                                       [0.0, 0.0, 0.0, 0.15]))  # fmt: skip
    head = an.head_from_rotation(rot)
    assert head.shape == (4, 5)
    np.testing.assert_allclose(head[0], 0, atol=1e-9)
    # head3d yaw > 0 turns toward the subject's left = the image's right: camera yaw < 0
    assert head[1, 3] == pytest.approx(-0.15) and head[1, 0] == pytest.approx(0, abs=1e-9)
    pts = [an.control_points(neutral_face_68(), head=tuple(h)) for h in head]
    assert pts[1][30, 0] - pts[1][36:48, 0].mean() > pts[0][30, 0] - pts[0][36:48, 0].mean()
    # a nod (pitch > 0) about the neck moves the whole face down
    assert head[2, 4] == pytest.approx(0.15) and pts[2][36:48, 1].mean() > pts[0][36:48, 1].mean()
    # roll > 0 (toward the subject's right shoulder): the image-right eye corner goes up
    assert head[3, 0] == pytest.approx(-0.15) and pts[3][45, 1] < pts[0][45, 1] - 1
    # the renderer uses them: frames of an animation with rotations differ from a still one
    anim = _anim(np.zeros(4))
    anim.rotation = rot.astype(np.float32)
    moving = list(animate_photo(face, anim, blink_seed=None, head_motion=True))
    still = list(animate_photo(face, anim, blink_seed=None, head_motion=False))
    assert _psnr(moving[0], still[0]) > 40 and _psnr(moving[1], still[1]) < 35


def test_tracked_yaw_pitch_explain_real_frames(shared_data, face):
    """On real frames, turning the reference face by the tracked yaw / pitch difference
    brings its rigid points closer to the frame's than a 2D similarity alone."""
    from talkinghead.face.landmarks68 import eye_centres_68
    from talkinghead.face.normalize import DEFAULT_EYES, SimilarityTransform
    from talkinghead.face.tracking import track_frames
    from talkinghead.render.photo import FOREHEAD, PhotoFace
    from talkinghead.video.io import read_video

    v = read_video(shared_data / OBAMA)
    frames = v.frames[::4]
    tr = track_frames(frames, fps=FPS / 4)
    lm, eul = tr.landmarks68.astype(np.float64), tr.euler
    ref = 4  # frame 16 of the clip: the personalisation reference
    eyes = eye_centres_68(lm[ref])
    f = PhotoFace(image=frames[ref], landmarks=lm[ref],
                  forehead=tr.mesh[ref][list(FOREHEAD), :2].astype(np.float64),
                  similarity=SimilarityTransform.from_two_points(np.asarray(DEFAULT_EYES), eyes),
                  interocular=float(np.linalg.norm(eyes[1] - eyes[0])), yaw=0.0)  # fmt: skip
    an = PhotoAnimator(f)
    rigid = list(range(27, 48)) + [0, 8, 16]

    def residual(a, b):  # rms after the best 2D similarity of a onto b
        A, B = a[rigid] - a[rigid].mean(0), b[rigid] - b[rigid].mean(0)
        U, S, Vt = np.linalg.svd(B.T @ A)
        s = S.sum() / (A**2).sum()
        return np.sqrt(((s * A @ (U @ Vt).T - B) ** 2).sum(1).mean())

    flat, turned, flipped = [], [], []
    for t in np.flatnonzero(tr.valid):
        dyaw, dpitch = eul[t, :2] - eul[ref, :2]
        flat.append(residual(lm[ref], lm[t]))
        turned.append(
            residual(an._turn(np.concatenate([lm[ref], f.forehead]), dyaw, dpitch), lm[t])
        )
        flipped.append(
            residual(an._turn(np.concatenate([lm[ref], f.forehead]), -dyaw, -dpitch), lm[t])
        )
    assert np.mean(turned) < 0.7 * np.mean(flat) < 0.7 * np.mean(flipped)


def test_refiner_changes_only_the_face_square(face):
    import torch

    from talkinghead.models.refiner import Refiner, RefinerConfig
    from talkinghead.render.photo import face_box

    torch.manual_seed(0)
    ref = Refiner(RefinerConfig(size=32, base_channels=8, memory_slots=4, key_dim=8))
    with torch.no_grad():
        ref.out.bias.fill_(0.3)  # brightens everything it sees
    anim = _anim(np.zeros(2))
    plain = list(animate_photo(face, anim, blink_seed=None, head_motion=False))
    refined = list(animate_photo(face, anim, blink_seed=None, head_motion=False, refiner=ref))
    x0, y0, side = face_box(face)
    h, w = face.image.shape[:2]
    assert 0 <= x0 and 0 <= y0 and x0 + side <= w and y0 + side <= h
    assert side >= 1.2 * np.ptp(face.landmarks[:, 0]) - 1
    outside = np.ones((h, w), bool)
    outside[y0 : y0 + side, x0 : x0 + side] = False
    for a, b in zip(plain, refined, strict=True):
        np.testing.assert_array_equal(a[outside], b[outside])
        c = slice(y0 + side // 3, y0 + 2 * side // 3), slice(x0 + side // 3, x0 + 2 * side // 3)
        assert b[c].astype(float).mean() > a[c].astype(float).mean() + 10


# ---------------------------------------------------------------- full resolution, small faces

PORTRAIT = "OpenTalker__video-retalking/examples/face/2.mp4"  # 844 x 844, 132 px between the eyes


@pytest.fixture(scope="module")
def portrait(shared_data):
    from talkinghead.video.io import read_video

    frame = read_video(shared_data / PORTRAIT, max_frames=1).frames[0]
    return np.ascontiguousarray(frame[:, 140:700])  # a real 560 x 844 portrait


def _outside(an):
    """Pixels outside the static ring's box of a PhotoAnimator."""
    x0, y0, x1, y1 = an.box
    out = np.ones(an.shape, bool)
    out[y0:y1, x0:x1] = False
    return out


def test_output_has_the_photos_resolution(portrait):
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a large face: no warning
        face = find_photo_face(portrait)
    assert face.image.shape == (844, 560, 3) and face.interocular > 100
    an = PhotoAnimator(face)
    assert an.work_scale == 1.0
    frames = list(animate_photo(face, _anim(np.array([0.0, 0.25])), blink_seed=None))
    frames += list(animate_photo(face, _anim(np.array([0.0, 0.25])), head_motion=False))
    assert all(f.shape == (844, 560, 3) for f in frames)
    outside = _outside(an)
    assert outside.sum() > 0.2 * outside.size
    for f in frames:
        np.testing.assert_array_equal(f[outside], portrait[outside])
    assert _psnr(frames[2], portrait) > 40 > _psnr(frames[3], portrait) + 5  # the mouth moved
    # --size downscales, only when asked
    small = find_photo_face(portrait, size=422)
    assert small.image.shape == (422, 280, 3)
    assert small.interocular == pytest.approx(face.interocular / 2, rel=0.01)


def test_check_output_size():
    from talkinghead.errors import InvalidArgumentError
    from talkinghead.render.photo import MAX_OUTPUT_SIDE, check_output_size

    assert check_output_size(None, (844, 560)) is None
    assert check_output_size(256, (844, 560)) == 256 and check_output_size(844.0, (844, 560))
    for bad, msg in ((900, "only downscales"), (32, r"\[64, 2048\]"),
                     (MAX_OUTPUT_SIDE + 1, r"\[64, 2048\]"), (300.5, "integer"),
                     ("512", "integer"), (True, "integer")):  # fmt: skip
        with pytest.raises(InvalidArgumentError, match=msg):
            check_output_size(bad, (844, 560))


def test_small_face_is_upscaled_for_processing(portrait):
    """A 30 px inter-ocular face is accepted with a warning, processed at WORK_IOD and pasted
    back: same size as the photo, the photo's pixels outside the ring, a moving mouth."""
    import cv2

    from talkinghead.render.photo import MIN_TRACKABLE_IOD, WORK_IOD

    s = 30.0 / 132.0
    photo = cv2.resize(portrait, None, fx=s, fy=s, interpolation=cv2.INTER_AREA)
    with pytest.warns(UserWarning, match="upscaled to 60 px for processing"):
        face = find_photo_face(photo)
    assert MIN_TRACKABLE_IOD < face.interocular < WORK_IOD
    an = PhotoAnimator(face)
    assert an.work_scale == pytest.approx(WORK_IOD / face.interocular)
    frames = list(animate_photo(face, _anim(np.array([0.0, 0.25])), head_motion=False))
    assert all(f.shape == photo.shape for f in frames)
    outside = _outside(an)
    for f in frames:
        np.testing.assert_array_equal(f[outside], photo[outside])
    assert _psnr(frames[0], photo) > 30  # neutral: the round trip barely changes the face
    lm, iod = face.landmarks, face.interocular
    cx, cy = lm[[62, 66]].mean(0)
    r = (slice(int(cy + 0.1 * iod), int(cy + 0.2 * iod) + 1),
         slice(int(cx - 0.15 * iod), int(cx + 0.15 * iod) + 1))  # fmt: skip
    assert frames[1][r].mean() < frames[0][r].mean() - 30
    # under the measured limit it is refused
    tiny = cv2.resize(portrait, None, fx=12 / 132, fy=12 / 132, interpolation=cv2.INTER_AREA)
    with pytest.raises(FaceQualityError, match=r"too small .* must be >= 16 px"):
        find_photo_face(tiny)


def test_coarse_warp_maps_match_exact_ones(portrait):
    """Large faces compute the warp's maps on a coarser grid (MAP_IOD): same frames."""
    face = find_photo_face(portrait)
    an = PhotoAnimator(face)
    assert an.map_step == 2  # 133 px between the eyes
    drv = _anim(np.array([0.25])).landmarks[0]
    moving = an.control_points(drv, head=(0.03, 0.05, 0.03, 0.12, 0.06))
    fast = an.frame(moving)
    an.map_step = 1
    exact = an.frame(moving)
    assert _psnr(fast, exact) > 45
    assert _psnr(exact, portrait) < 30  # the face did move
