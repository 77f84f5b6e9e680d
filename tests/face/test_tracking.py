"""Face tracking on real clips: every frame kept, landmarks on the face, lips follow speech."""

import numpy as np
import pytest
from scipy.ndimage import uniform_filter1d
from scipy.signal import butter, sosfiltfilt

from talkinghead.audio.io import load_audio
from talkinghead.face.geometry import matrix_to_rotvec, rotation_to_euler
from talkinghead.face.geometry import rotation_matrix as rotvec_to_matrix
from talkinghead.face.landmarks68 import mouth_openness_68
from talkinghead.face.tracking import FaceTrack, track_frames, track_video
from talkinghead.video.io import read_video

GRID = "rizkiarm__LipNet/evaluation/samples/GRID"


@pytest.fixture(scope="module")
def grid_clip(shared_data):
    path = shared_data / GRID / "bbaf2n.mpg"
    return path, track_video(path, progress=False)


def _speech_envelope_db(y, sr, fps, n_frames):
    """Speech-band (300-3000 Hz) RMS in dB over 60 ms windows at the frame centres."""
    sos = butter(4, [300, 3000], btype="band", fs=sr, output="sos")
    yb = sosfiltfilt(sos, y)
    centres = (np.arange(n_frames) + 0.5) * sr / fps
    half = int(0.03 * sr)
    rms = [np.sqrt(np.mean(yb[max(0, int(c) - half) : int(c) + half] ** 2)) for c in centres]
    return 20 * np.log10(np.asarray(rms) + 1e-4)


def test_grid_clip_every_frame_valid_and_on_the_face(grid_clip):
    path, tr = grid_clip
    assert tr.n_frames == 75 and tr.valid.all() and (tr.n_faces == 1).all()
    assert tr.mesh.shape == (75, 468, 3) and tr.landmarks68.shape == (75, 68, 2)
    assert (tr.width, tr.height) == (360, 288) and abs(tr.fps - 25) < 1e-6
    assert np.allclose(np.diff(tr.times), 0.04, atol=1e-3)
    lm = tr.landmarks68
    assert (lm[..., 0] > 0).all() and (lm[..., 0] < 360).all()
    assert (lm[..., 1] > 0).all() and (lm[..., 1] < 288).all()
    # the 68 points lie inside the mesh's face region, in anatomical order
    mesh_lo, mesh_hi = tr.mesh[..., :2].min(1), tr.mesh[..., :2].max(1)
    assert (lm >= mesh_lo[:, None] - 1).all() and (lm <= mesh_hi[:, None] + 1).all()
    assert (lm[:, 8, 1] > lm[:, 57, 1]).all()  # chin below the lower lip
    assert (lm[:, 57, 1] > lm[:, 33, 1]).all()  # lips below the nose
    assert (lm[:, 33, 1] > lm[:, 39, 1]).all()  # nose below the eyes
    assert (lm[:, 36, 0] < lm[:, 45, 0]).all()  # subject's right eye on the image left
    assert (tr.confidence > 0.3).all() and (tr.confidence <= 1).all()
    # a frontal GRID speaker: small head angles
    assert np.abs(np.degrees(tr.euler[:, :2])).max() < 20


@pytest.mark.parametrize("name", ["bbaf2n.mpg", "lbax4n.mpg"])
def test_lip_aperture_follows_the_speech(shared_data, name):
    path = shared_data / GRID / name
    tr = track_video(path, progress=False)
    y, sr = load_audio(path, sr=16000)
    env = _speech_envelope_db(y, sr, tr.fps, tr.n_frames)
    aperture = mouth_openness_68(tr.landmarks68)
    r = np.corrcoef(uniform_filter1d(aperture, 3), uniform_filter1d(env, 3))[0, 1]
    assert r > 0.3, f"lip aperture vs speech envelope r={r:.2f}"


def test_no_face_and_two_faces_are_flagged_not_dropped(shared_data):
    real = read_video(shared_data / GRID / "bbaf2n.mpg", max_frames=1).frames[0]
    noise = np.random.default_rng(0).integers(0, 255, real.shape, dtype=np.uint8)
    black = np.zeros_like(real)
    tr = track_frames([real, noise, black, real], fps=25, static_image_mode=True)
    assert tr.n_frames == 4
    assert tr.valid.tolist() == [True, False, False, True]
    assert tr.n_faces.tolist() == [1, 0, 0, 1]
    assert np.isnan(tr.mesh[1]).all() and np.isnan(tr.landmarks68[2]).all()
    assert tr.confidence[1] == 0
    two = np.concatenate([real, real], axis=1)
    tr2 = track_frames([two], fps=25, static_image_mode=True)
    assert tr2.n_faces[0] == 2 and not tr2.valid[0]
    assert np.isfinite(tr2.mesh[0]).all()  # the largest face is kept for inspection


def test_mirrored_face_flips_the_yaw(shared_data):
    frames = read_video(shared_data / GRID / "lbax4n.mpg", max_frames=5).frames
    a = track_frames(list(frames), fps=25)
    b = track_frames([f[:, ::-1].copy() for f in frames], fps=25)
    ya, yb = np.degrees(a.euler[:, 0]).mean(), np.degrees(b.euler[:, 0]).mean()
    # mirroring negates the yaw: the mean of the two is the canonical mesh's own bias
    assert np.sign(ya - (ya + yb) / 2) == -np.sign(yb - (ya + yb) / 2)
    assert abs(ya - yb) > 2


def test_turned_head_has_the_right_yaw_sign(shared_data):
    """Rotate a tracked mesh about the vertical axis: the fitted yaw follows."""
    from talkinghead.face.tracking import canonical_mesh, rigid_fit

    canon = canonical_mesh()
    for deg in (-25, 25):
        R = rotvec_to_matrix(np.array([0, np.radians(deg), 0]))
        s, R_fit, t, rms = rigid_fit(canon, 80 * canon @ R.T + [100, 120, 0])
        yaw = np.degrees(rotation_to_euler(matrix_to_rotvec(R_fit))[0])
        assert abs(yaw - deg) < 0.5 and abs(s - 80) < 1e-6 and rms < 1e-6


def test_rotation_conversions_round_trip():
    rng = np.random.default_rng(1)
    rv = rng.normal(size=(50, 3)) * 0.8
    assert np.allclose(matrix_to_rotvec(rotvec_to_matrix(rv)), rv, atol=1e-8)
    R = rotvec_to_matrix(rv)
    assert np.allclose(R @ np.swapaxes(R, -1, -2), np.eye(3), atol=1e-10)


def test_save_load_round_trip(grid_clip, tmp_path):
    _, tr = grid_clip
    out = tr.save(tmp_path / "t.npz")
    back = FaceTrack.load(out)
    assert back.fps == tr.fps and back.source.endswith("bbaf2n.mpg")
    for k in ("mesh", "landmarks68", "rotation", "valid", "n_faces", "confidence", "times"):
        assert np.array_equal(getattr(back, k), getattr(tr, k), equal_nan=k != "valid")
    assert [p.name for p in tmp_path.iterdir()] == ["t.npz"]
