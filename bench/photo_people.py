"""The photo path's mouth interior measured on 12 people: warp + band vs warp + procedural.

Usage: python bench/photo_people.py [--frames 75] [--size 256] [--images docs/img]

For each clip (12 different people, real video with its own speech, ``../shared/data``) the
first frame is "the photo"; frames 1..N are the targets. Two drivers: the clip's own
tracked landmarks (**oracle**: the real mouth shape, head still) and the default animator
on the clip's audio (**audio**, the animation's head motion). Two mouth interiors:
``band`` (the earlier flat cavity + one teeth band) and ``procedural``
(:mod:`talkinghead.render.mouth`). Scores against the real frames: face PSNR / SSIM (the
real landmarks' box), mouth-region sharpness (variance of the Laplacian of the grey mouth
box, generated / real), and the generated frames re-tracked: mouth-opening r against the
driving animation and against the real video. Nothing here is trained, so every person is
held out for the mouth interior (the default animator's read-out did see some of these
clips). ``--images`` writes real | band | procedural crops at each person's widest real
mouth (oracle driver). With the general refiner shipped, an audio row passes the procedural
frames through it (``--refine``). Also: the lip-sync offset of the re-tracked mouth against
the real video (``sync_offset``, positive = late).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

DATA = Path(__file__).resolve().parents[2] / "shared/data"
#: 12 clips of 12 different people.
CLIPS = (
    "OpenTalker__SadTalker/examples/ref_video/WDA_AlexandriaOcasioCortez_000.mp4",
    "OpenTalker__SadTalker/examples/ref_video/WDA_KatieHill_000.mp4",
    "OpenTalker__video-retalking/examples/face/1.mp4",
    "OpenTalker__video-retalking/examples/face/2.mp4",
    "OpenTalker__video-retalking/examples/face/4.mp4",
    "OpenTalker__video-retalking/examples/face/5.mp4",
    "tanshuai0219__EDTalk/test_data/uncrop_Obama.mp4",
    "tanshuai0219__EDTalk/test_data/pose_source2.mp4",
    "Strong-AI-Lab__emotion/tests/test_data/data/1001_DFA_NEU_XX.flv",
    "rizkiarm__LipNet/evaluation/samples/GRID/bbaf2n.mpg",
    "rizkiarm__LipNet/evaluation/samples/GRID/brbk7n.mpg",
    "rizkiarm__LipNet/evaluation/samples/GRID/lwbsza.mpg",
)


def sharpness(img: np.ndarray) -> float:
    """Variance of the Laplacian of a grey image."""
    import cv2

    return float(cv2.Laplacian(img.astype(np.float64), cv2.CV_64F).var())


def main() -> None:
    import warnings

    from talkinghead.evaluate.metrics import mouth_corr
    from talkinghead.evaluate.photo_metrics import grey, psnr, ssim
    from talkinghead.face.landmarks68 import mouth_openness_68
    from talkinghead.face.normalize import neutral_face_68, pin_eyes
    from talkinghead.face.tracking import track_frames
    from talkinghead.inference import animate
    from talkinghead.render.photo import animate_photo, find_photo_face
    from talkinghead.video.io import read_video

    ap = argparse.ArgumentParser()
    ap.add_argument("--frames", type=int, default=75)
    ap.add_argument("--size", type=int, default=256)
    ap.add_argument("--images")
    args = ap.parse_args()
    from talkinghead.evaluate.metrics import sync_offset
    from talkinghead.models.refiner import Refiner
    from talkinghead.recipes.yi2020 import GENERAL_DIR

    keys = [(d, m) for d in ("oracle", "audio") for m in ("band", "procedural")]
    general = None
    if (GENERAL_DIR / "config.json").is_file():
        general = Refiner.from_pretrained(GENERAL_DIR)
        keys.append(("audio", "procedural + general refiner"))
    res = {k: [] for k in keys}
    crops = []
    for clip in CLIPS:
        path = DATA / clip
        if not path.is_file():
            print(f"missing {clip}")
            continue
        video = read_video(path, size=args.size, max_frames=args.frames + 1)
        frames, fps = video.frames, video.fps
        T = len(frames)
        track = track_frames(frames, fps=fps)
        if not track.valid[0] or track.valid.mean() < 0.9:
            print(f"skip {clip}: tracked {track.valid.mean():.0%}")
            continue
        lm = track.landmarks68.astype(np.float64)
        real_open = mouth_openness_68(lm)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # small faces are upscaled: a warning
            face = find_photo_face(frames[0])
        audio = animate(path, fps=fps, n_frames=T)
        pinned, _ = pin_eyes(lm)
        oracle = audio.__class__(**{**audio.__dict__})
        oracle.landmarks = (pinned - pinned[0] + neutral_face_68()).astype(np.float32)
        # its mouth moves by the real displacement from frame 0: the real opening drives it
        # (the pinned points' own |gap| folds when the real mouth closes past frame 0's)
        oracle.mouth_open = real_open.astype(np.float32)
        test = np.arange(1, T)
        ok = track.valid[test]
        widest = int(test[np.argmax(np.where(ok, real_open[test], -1))])
        row = [frames[widest]]
        for drv_name, mouth in keys:
            drv = oracle if drv_name == "oracle" else audio
            ref = general if "refiner" in mouth else None
            gen = list(animate_photo(face, drv, blink_seed=0, head_motion=drv_name == "audio",
                                     mouth=mouth.split(" ")[0], refiner=ref))  # fmt: skip
            ps, ss, sh = [], [], []
            for t in test[ok]:
                (x0, y0), (x1, y1) = lm[t].min(0).astype(int), lm[t].max(0).astype(int) + 1
                ps.append(psnr(gen[t][y0:y1, x0:x1], frames[t][y0:y1, x0:x1]))
                ss.append(ssim(grey(gen[t][y0:y1, x0:x1]), grey(frames[t][y0:y1, x0:x1])))
                m = lm[t, 48:68]
                pad = 0.15 * np.ptp(m[:, 0])
                (mx0, my0), (mx1, my1) = (m.min(0) - pad).astype(int), (m.max(0) + pad).astype(int)
                g, r = grey(gen[t][my0:my1, mx0:mx1]), grey(frames[t][my0:my1, mx0:mx1])
                sh.append(sharpness(g) / max(sharpness(r), 1e-6))
            tr = track_frames([gen[t] for t in test], fps=fps)
            op = mouth_openness_68(tr.landmarks68)
            v = tr.valid & ok
            r_drv = mouth_corr(op, np.asarray(drv.mouth_open)[test], valid=v)
            r_real = mouth_corr(op, real_open[test], valid=v)
            off, _ = sync_offset(op, real_open[test], fps=fps, valid=v)
            res[(drv_name, mouth)].append(
                (np.mean(ps), np.mean(ss), np.median(sh), r_drv, r_real, off)
            )
            if drv_name == "oracle":
                row.append(gen[widest])
        print(f"{Path(clip).name}: {T} frames, iod {face.interocular:.0f} px; "
              + "; ".join(f"{d}/{m} r_drv {res[(d, m)][-1][3]:.2f} ssim {res[(d, m)][-1][1]:.3f}"
                          for d, m in keys), flush=True)  # fmt: skip
        c = lm[widest, 48:68].mean(0)
        half = int(0.75 * np.linalg.norm(lm[widest, 36:42].mean(0) - lm[widest, 42:48].mean(0)))
        y0, x0 = max(0, int(c[1]) - half), max(0, int(c[0]) - int(1.3 * half))
        crops.append([x[y0 : y0 + 2 * half, x0 : x0 + int(2.6 * half)] for x in row])
    n = len(res[keys[0]])
    print(f"\n{n} people, {args.size} px, frames 1-{args.frames} of each clip (frame 0 = the "
          "photo); mean (sd) over people; sharpness: median [range] over people\n")  # fmt: skip
    print(
        "| driver | mouth interior | face PSNR dB | face SSIM | mouth sharpness gen/real "
        "| re-tracked mouth r vs driving | vs real video | lip-sync offset ms |"
    )
    print("|---|---|---:|---:|---:|---:|---:|---:|")
    for k in keys:
        a = np.asarray(res[k], np.float64)
        cells = [f"{np.nanmean(a[:, j]):.{p}f} ({np.nanstd(a[:, j]):.{p}f})"
                 for j, p in zip(range(5), (2, 3, 2, 3, 3), strict=True)]  # fmt: skip
        cells.append(f"{np.nanmean(a[:, 5]):+.0f} ({np.nanstd(a[:, 5]):.0f})")
        sh = a[:, 2]
        cells[2] = f"{np.nanmedian(sh):.2f} [{np.nanmin(sh):.2f}-{np.nanmax(sh):.2f}]"
        print(f"| {k[0]} | {k[1]} | " + " | ".join(cells) + " |")
    if args.images and crops:
        import cv2

        d = Path(args.images)
        d.mkdir(parents=True, exist_ok=True)
        size = (104, 80)
        cells = [
            np.concatenate([cv2.resize(x, size, interpolation=cv2.INTER_AREA) for x in row], 0)
            for row in crops[:8]
        ]
        img = np.concatenate(cells, axis=1)
        cv2.imwrite(str(d / "photo_mouth.png"), cv2.cvtColor(img, cv2.COLOR_RGB2BGR),
                    [cv2.IMWRITE_PNG_COMPRESSION, 9])  # fmt: skip
        print(f"wrote {d / 'photo_mouth.png'}: rows real | band | procedural (oracle driver)")


if __name__ == "__main__":
    main()
