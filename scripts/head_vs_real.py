"""Side-by-side frames of a real face and the 3D head fitted to it: ``docs/img/head3d_vs_real.png``.

A real clip is tracked (Face Mesh), fitted with the shipped head
(:func:`talkinghead.face.fit3d.fit_blendshapes`: 52 ARKit weights + rotation per frame), and
the head is rendered with those weights and rotations. Columns: the frames with the most
closed mouth, the widest mouth and the largest head turn; top row real (a square around
the face), bottom row the head.

Usage: python scripts/head_vs_real.py [CLIP ...] [--out docs/img/head3d_vs_real.png]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
DATA = REPO.parent / "shared" / "data"
CLIPS = (
    "OpenTalker__SadTalker/examples/ref_video/WDA_KatieHill_000.mp4",
    "OpenTalker__video-retalking/examples/face/2.mp4",
)


def main() -> None:
    import cv2

    from talkinghead.face.fit3d import fit_blendshapes
    from talkinghead.face.landmarks68 import mouth_openness_mesh
    from talkinghead.face.tracking import track_video
    from talkinghead.render.head3d import HeadRenderer
    from talkinghead.video.io import read_video

    ap = argparse.ArgumentParser()
    ap.add_argument("clips", nargs="*", default=list(CLIPS))
    ap.add_argument("--out", type=Path, default=REPO / "docs/img/head3d_vs_real.png")
    ap.add_argument("--size", type=int, default=200)
    ap.add_argument("--max-frames", type=int, default=150)
    args = ap.parse_args()
    s = args.size
    r = HeadRenderer(size=s)
    cols = []
    for clip in args.clips:
        path = DATA / clip
        video = read_video(path, max_frames=args.max_frames)
        track = track_video(path, max_frames=args.max_frames)
        res = fit_blendshapes(track.mesh, fps=track.fps, valid=track.valid)
        ok = np.flatnonzero(track.valid)
        gap = mouth_openness_mesh(track.mesh[ok])
        yaw = np.abs(res.animation.euler()[0][ok])
        picks = [ok[np.argmin(gap)], ok[np.argmax(gap)], ok[np.argmax(yaw)]]
        for t in picks:
            mesh = track.mesh[t]
            lo, hi = mesh[:, :2].min(0), mesh[:, :2].max(0)
            c, half = (lo + hi) / 2, 0.5 * 1.35 * float(np.max(hi - lo))
            c = c + [0, -0.05 * half]
            x0, y0 = int(round(c[0] - half)), int(round(c[1] - half))
            frame = video.frames[t]
            pad = np.pad(frame, ((s, s), (s, s), (0, 0)), mode="edge")
            side = int(round(2 * half))
            real = pad[y0 + s : y0 + s + side, x0 + s : x0 + s + side]
            real = cv2.resize(real, (s, s), interpolation=cv2.INTER_AREA)
            head = r.render(res.animation.weights[t], res.animation.rotation[t])
            cols.append(np.vstack([real, head]))
        print(f"{clip}: frames {picks} (closed, widest, most turned)")
    sheet = np.hstack(cols)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(
        str(args.out), cv2.cvtColor(sheet, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_PNG_COMPRESSION, 9]
    )
    print(f"wrote {args.out} ({args.out.stat().st_size // 1024} KiB)")


if __name__ == "__main__":
    main()
