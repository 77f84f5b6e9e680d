"""Build ``src/talkinghead/data/face_reference.npz`` from real frontal clips.

Reproducible from ../shared/data: tracks frontal, mouth-closed frames of several
speakers with mediapipe Face Mesh, aligns them rigidly (generalised Procrustes),
and stores

- ``canonical_mesh`` (468, 3): the mean face, centred, outer-eye-corner distance
  (33-263) = 1, x right, y down, z into the screen, facing the camera;
- ``neutral_68`` (68, 2): its 68-point projection, eye-pinned (eye centres at
  (-0.5, 0) and (0.5, 0)).

Usage: ``python scripts/build_face_reference.py [--data ../shared/data]``
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
CLIPS = [
    "rizkiarm__LipNet/evaluation/samples/GRID/bbaf2n.mpg",
    "rizkiarm__LipNet/evaluation/samples/GRID/lbax4n.mpg",
    "rizkiarm__LipNet/evaluation/samples/GRID/pwij3p.mpg",
    "rizkiarm__LipNet/evaluation/samples/GRID/sbia1a.mpg",
    "OpenTalker__SadTalker/examples/ref_video/WDA_KatieHill_000.mp4",
    "OpenTalker__SadTalker/examples/ref_video/WDA_AlexandriaOcasioCortez_000.mp4",
    "ali-vilab__dreamtalk/data/style_clip/video/M030_front_neutral_level1_001.mp4",
    "ali-vilab__dreamtalk/data/style_clip/video/W009_front_neutral_level1_001.mp4",
    "ali-vilab__dreamtalk/data/style_clip/video/W011_front_neutral_level1_001.mp4",
    "tanshuai0219__EDTalk/test_data/uncrop_Obama.mp4",
]


def _frame_axes(m: np.ndarray) -> np.ndarray:
    """Rotation whose rows are the face's x (eye line), y (down), z axes."""
    x = m[263] - m[33]
    x /= np.linalg.norm(x)
    y = m[152] - m[10]
    y -= x * (y @ x)
    y /= np.linalg.norm(y)
    return np.stack([x, y, np.cross(x, y)])


def _normalise(m: np.ndarray) -> np.ndarray:
    m = m - m.mean(0)
    m = m @ _frame_axes(m).T
    return m / np.linalg.norm(m[263] - m[33])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--data", default=str(REPO.parent / "shared" / "data"))
    ap.add_argument("--max-frames", type=int, default=100)
    args = ap.parse_args()
    from talkinghead.face.landmarks68 import mesh_to_68, mouth_openness_mesh
    from talkinghead.face.tracking import FaceTracker
    from talkinghead.video.io import iter_frames

    data = Path(args.data)
    shapes = []
    for rel in CLIPS:
        with FaceTracker() as tr:
            for i, fr in enumerate(iter_frames(data / rel, size=512)):
                if i >= args.max_frames:
                    break
                faces = tr.process(fr.image)
                if len(faces) != 1:
                    continue
                m = _normalise(faces[0])
                if mouth_openness_mesh(m) < 0.03:  # lips closed: a neutral mouth
                    shapes.append(m)
        print(f"{rel}: {len(shapes)} frames so far")
    shapes = np.asarray(shapes)
    mean = shapes.mean(0)
    for _ in range(5):  # generalised Procrustes
        from talkinghead.face.tracking import rigid_fit

        aligned = []
        for m in shapes:
            s, R, t, _ = rigid_fit(m, mean)
            aligned.append(s * m @ R.T + t)
        mean = _normalise(np.mean(aligned, 0))
    from talkinghead.face.normalize import pin_eyes

    neutral = pin_eyes(mesh_to_68(mean)[None, :, :2])[0][0]
    out = REPO / "src/talkinghead/data/face_reference.npz"
    np.savez_compressed(
        out, canonical_mesh=mean.astype(np.float32), neutral_68=neutral.astype(np.float32)
    )
    print(f"{len(shapes)} frames -> {out}")


if __name__ == "__main__":
    main()
