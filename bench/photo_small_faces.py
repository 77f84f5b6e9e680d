"""At which inter-ocular distance does the photo's face tracking fail?

Usage: python bench/photo_small_faces.py [--iods 8,10,12,...] [--canvas 512]

One frame of each of 12 real clips of different people (``../shared/data``) is tracked at
its own resolution (Face Mesh, static mode, as :func:`talkinghead.render.photo.find_photo_face`
does); the frame is then downscaled (INTER_AREA) so that the eye-centre distance is ``d``
pixels and tracked again. Per ``d``: how many faces are found, and the mean error of the 68
points against the full-resolution ones (scaled down), in % of ``d``. ``--canvas N`` also
places each downscaled frame on an N x N grey canvas (a small face in a larger photo).
The result chose :data:`talkinghead.render.photo.MIN_TRACKABLE_IOD`.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

DATA = Path(__file__).resolve().parents[2] / "shared/data"
#: (clip, frame): 12 different people.
CLIPS = (
    ("OpenTalker__SadTalker/examples/ref_video/WDA_AlexandriaOcasioCortez_000.mp4", 0),
    ("OpenTalker__SadTalker/examples/ref_video/WDA_KatieHill_000.mp4", 0),
    ("OpenTalker__video-retalking/examples/face/1.mp4", 0),
    ("OpenTalker__video-retalking/examples/face/2.mp4", 0),
    ("OpenTalker__video-retalking/examples/face/4.mp4", 0),
    ("OpenTalker__video-retalking/examples/face/5.mp4", 0),
    ("tanshuai0219__EDTalk/test_data/uncrop_Obama.mp4", 0),
    ("ali-vilab__dreamtalk/data/style_clip/video/M030_front_neutral_level1_001.mp4", 0),
    ("ali-vilab__dreamtalk/data/style_clip/video/W009_front_neutral_level1_001.mp4", 0),
    ("ali-vilab__dreamtalk/data/style_clip/video/W011_front_neutral_level1_001.mp4", 0),
    ("rizkiarm__LipNet/evaluation/samples/GRID/bbaf2n.mpg", 0),
    ("rizkiarm__LipNet/evaluation/samples/GRID/lwbsza.mpg", 0),
)


def track68(tracker, img):
    from talkinghead.face.landmarks68 import mesh_to_68

    faces = tracker.process(img)
    if not faces:
        return None
    areas = [np.ptp(f[:, 0]) * np.ptp(f[:, 1]) for f in faces]
    return mesh_to_68(faces[int(np.argmax(areas))])[:, :2]


def main() -> None:
    import cv2

    from talkinghead.face.landmarks68 import eye_centres_68
    from talkinghead.face.tracking import FaceTracker
    from talkinghead.video.io import read_video

    ap = argparse.ArgumentParser()
    ap.add_argument("--iods", default="6,8,10,12,14,16,20,25,30,40,60")
    ap.add_argument("--canvas", type=int, default=0)
    args = ap.parse_args()
    iods = [float(x) for x in args.iods.split(",")]
    found = {d: 0 for d in iods}
    errs = {d: [] for d in iods}
    n = 0
    with FaceTracker(static_image_mode=True, max_num_faces=1) as tr:
        for clip, k in CLIPS:
            p = DATA / clip
            if not p.is_file():
                print(f"missing {clip}")
                continue
            img = read_video(p, max_frames=k + 1).frames[k]
            ref = track68(tr, img)
            if ref is None:
                print(f"no face at full size: {clip}")
                continue
            n += 1
            e = eye_centres_68(ref)
            iod = float(np.linalg.norm(e[1] - e[0]))
            h, w = img.shape[:2]
            row = []
            for d in iods:
                s = d / iod
                small = cv2.resize(img, (max(1, round(w * s)), max(1, round(h * s))),
                                   interpolation=cv2.INTER_AREA)  # fmt: skip
                sx, sy = small.shape[1] / w, small.shape[0] / h
                off = np.zeros(2)
                if args.canvas:
                    c = np.full((args.canvas, args.canvas, 3), 128, np.uint8)
                    y0 = (args.canvas - small.shape[0]) // 2
                    x0 = (args.canvas - small.shape[1]) // 2
                    c[y0 : y0 + small.shape[0], x0 : x0 + small.shape[1]] = small
                    small, off = c, np.array([x0, y0])
                lm = track68(tr, small) if min(small.shape[:2]) >= 16 else None
                if lm is None:
                    row.append("  -  ")
                    continue
                err = np.linalg.norm(lm - off - ref * [sx, sy], axis=1).mean() / d * 100
                found[d] += 1
                errs[d].append(err)
                row.append(f"{err:5.1f}")
            print(f"{Path(clip).name[:32]:32s} iod {iod:5.1f}  " + " ".join(row), flush=True)
    print(f"\n{n} people; frame downscaled" + (f", on a {args.canvas} px canvas" if args.canvas
                                                   else ""))  # fmt: skip
    print("| inter-ocular px | faces found | mean 68-point error, % of iod | worst |")
    print("|---:|---:|---:|---:|")
    for d in iods:
        e = errs[d]
        m = f"{np.mean(e):.1f}" if e else "-"
        wst = f"{np.max(e):.1f}" if e else "-"
        print(f"| {d:g} | {found[d]}/{n} | {m} | {wst} |")


if __name__ == "__main__":
    main()
