"""The 3D head's projected 68 points over the 2D sketch's for one animation:
``docs/img/head3d_vs_sketch.png`` and the per-frame match (docs/3d.md).

The default animator's animation of a real GRID clip's speech (bbaf2n) is rendered with
the head (512 px) and its projected 68 points (green) are drawn with the
sketch's landmarks of the same frames (red), mapped to pixels by one fixed camera -> sketch
map (the neutral head's eye centres); columns: the frames with the smallest and the
largest lip gap, the largest corner raise and the worst match (each not shown yet). Prints
the worst-frame and mean error in eye distances (the measure of
``tests/render/test_render_head3d.py``).

Usage: python scripts/head_vs_sketch.py [CLIP] [--model default] [--out PATH]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
CLIP = REPO.parent / "shared/data/rizkiarm__LipNet/evaluation/samples/GRID/bbaf2n.mpg"


def main() -> None:
    import cv2

    from talkinghead.face.landmarks68 import eye_centres_68, mesh_to_68
    from talkinghead.inference import animate
    from talkinghead.models.blendshape_bridge import animation_to_blendshapes
    from talkinghead.render.head3d import HeadRenderer, weights_for_model

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("clip", nargs="?", default=str(CLIP))
    ap.add_argument("--model", default="default")
    ap.add_argument("--out", type=Path, default=REPO / "docs/img/head3d_vs_sketch.png")
    a = ap.parse_args()
    anim = animate(a.clip, fps=25.0, model=a.model)
    r = HeadRenderer(size=512, backend="auto")
    m = r.model
    w = weights_for_model(animation_to_blendshapes(anim), m)

    def projected(wt):
        xy, _ = r.project(m.pose(wt)[:468])
        return mesh_to_68(np.column_stack([xy, np.zeros(468)]))[:, :2]

    eyes = eye_centres_68(projected(np.zeros(m.n_shapes, np.float32)))
    c, s = eyes.mean(0), np.linalg.norm(eyes[1] - eyes[0])
    head = np.array([projected(w[t]) for t in range(anim.n_frames)])
    sketch = np.asarray(anim.landmarks) * s + c
    err = np.linalg.norm(head - sketch, axis=2) / s
    gap = np.linalg.norm(anim.landmarks[:, 62] - anim.landmarks[:, 66], axis=1)
    gap3 = np.linalg.norm(head[:, 62] - head[:, 66], axis=1)
    print(f"{Path(a.clip).name} {a.model}: worst frame {err.mean(1).max():.4f}, mean "
          f"{err.mean():.4f}, mouth {err[:, 48:].mean():.4f} eye distances; inner-lip gap "
          f"r {np.corrcoef(gap, gap3)[0, 1]:.3f}")  # fmt: skip
    lift = 0.5 * (anim.landmarks[:, 62, 1] + anim.landmarks[:, 66, 1]) - anim.landmarks[
        :, [48, 54], 1
    ].mean(1)
    frames: list[int] = []
    for score in (-gap, gap, lift, err.mean(1)):  # each column a frame not shown yet
        score = score.astype(np.float64).copy()
        score[frames] = -np.inf
        frames.append(int(score.argmax()))
    tiles = []
    for t in frames:
        img = np.ascontiguousarray(r.render(w[t]))
        for p, col in ((sketch[t], (230, 40, 40)), (head[t], (40, 220, 40))):
            for x, y in p:
                cv2.circle(img, (int(round(x)), int(round(y))), 2, col, -1, cv2.LINE_AA)
        y0, x0 = max(int(c[1] - 0.8 * s), 0), int(c[0] - 1.3 * s)
        crop = img[y0 : y0 + int(2.9 * s), x0 : x0 + int(2.6 * s)]
        crop = np.ascontiguousarray(crop)
        cv2.putText(crop, f"frame {t}: {100 * err[t].mean():.1f} %", (6, 20),
                    cv2.FONT_HERSHEY_SIMPLEX, 0.55, (255, 255, 255), 1, cv2.LINE_AA)  # fmt: skip
        tiles.append(crop)
    cv2.imwrite(str(a.out), np.hstack(tiles)[..., ::-1])
    print(f"wrote {a.out} (frames {frames}: least / most open, most lifted corners, "
          "worst of the rest)")  # fmt: skip


if __name__ == "__main__":
    main()
