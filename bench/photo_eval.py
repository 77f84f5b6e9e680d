"""Photo animation and AAM measured on held-out frames of a person's own video.

Usage: python bench/photo_eval.py [VIDEO] [--size 256] [--images docs/img]

The first frame is "the photo". On the held-out second half of the clip we drive it with
(a) the default animator's landmarks from the clip's audio (as recorded, and shifted by the
clip's own A/V offset as measured on the first half only; optionally + the general refiner)
and (b) the clip's TRUE tracked landmarks (oracle upper bound), and compare with the real
frames: PSNR and SSIM (grey, Gaussian window sigma 1.5) of the face box, then re-track the
generated frames and compare mouth opening with the real video (Pearson r and lip-sync
offset). The AAM (fit on the first half) re-renders every held-out real frame from its code
for comparison. Also: render speed.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

from talkinghead.evaluate.photo_metrics import score_frames

DEFAULT = (
    Path(__file__).resolve().parents[2]
    / "shared/data/tanshuai0219__EDTalk/test_data/uncrop_Obama.mp4"
)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("video", nargs="?", default=str(DEFAULT))
    ap.add_argument("--size", type=int, default=256)
    ap.add_argument("--images", help="write side-by-side PNGs here (e.g. docs/img)")
    args = ap.parse_args()

    from talkinghead.audio.io import load_audio
    from talkinghead.corpora.sync import shift_audio, speech_sync_offset
    from talkinghead.face.aam import AAM
    from talkinghead.face.landmarks68 import mouth_openness_68
    from talkinghead.face.normalize import neutral_face_68, pin_eyes
    from talkinghead.face.tracking import track_frames
    from talkinghead.inference import animate
    from talkinghead.models.refiner import Refiner
    from talkinghead.recipes.yi2020 import GENERAL_DIR
    from talkinghead.render.photo import PhotoAnimator, animate_photo, find_photo_face
    from talkinghead.video.io import read_video

    video = read_video(args.video, size=args.size)
    frames, fps = video.frames, video.fps
    T = len(frames)
    half = T // 2
    track = track_frames(frames, fps=fps)
    lm = track.landmarks68.astype(np.float64)
    real_open = mouth_openness_68(lm)
    test = np.arange(half, T)

    face = find_photo_face(frames[0], min_interocular=30)
    anim = animate(args.video, fps=fps, n_frames=T)
    pinned, _ = pin_eyes(lm)
    oracle = anim.__class__(**{**anim.__dict__})
    oracle.landmarks = (pinned - pinned[0] + neutral_face_68()).astype(np.float32)
    oracle.mouth_open = mouth_openness_68(oracle.landmarks).astype(np.float32)

    # the clip's own A/V offset, measured on the first half only, undone for a second row
    y16, sr16 = load_audio(args.video, sr=16000)
    sync = speech_sync_offset(y=y16[: int(half / fps * sr16)], sr=sr16, fps=fps,
                              mouth_open=real_open[:half], valid=track.valid[:half])  # fmt: skip
    anim_sync = animate(shift_audio(y16, sr=sr16, offset_s=sync.offset_s), sr=sr16, fps=fps,
                        n_frames=T)  # fmt: skip
    general = Refiner.from_pretrained(GENERAL_DIR) if (GENERAL_DIR / "config.json").is_file() \
        else None  # fmt: skip

    aam = AAM.fit(frames[:half], lm[:half])
    t0 = time.perf_counter()
    aam_frames = [
        aam.render(aam.encode(frames[t], lm[t]), background_frame=frames[t],
                   similarity=aam.similarity(lm[t]))
        for t in test
    ]  # fmt: skip
    aam_ms = (time.perf_counter() - t0) / len(test) * 1000
    out = {"AAM re-render (codes of real frames)": np.stack(aam_frames)}
    drivers = [
        ("photo + true landmarks (oracle)", oracle, None),
        ("photo + animator, audio as recorded", anim, None),
        (f"photo + animator, audio shifted {sync.offset_s * 1000:+.0f} ms", anim_sync, None),
    ]
    if general is not None:
        drivers.append(("photo + animator, audio shifted, + general refiner", anim_sync, general))
    for name, drv, ref in drivers:
        gen = list(animate_photo(face, drv, blink_seed=0, head_motion="animator" in name,
                                 refiner=ref))  # fmt: skip
        out[name] = np.stack(gen)[test]
    out["photo itself (no motion)"] = np.repeat(frames[:1], len(test), axis=0)

    rows = []
    for name, gen in out.items():
        rows.append((name, *score_frames(gen, frames, lm, test, real_open, fps=fps)))

    print(f"\n{args.video}: {T} frames at {fps:g} fps, {args.size} px; AAM fit on frames "
          f"0-{half - 1} ({aam.n_shape} shape + {aam.n_appearance} appearance params, "
          f"{aam.shape_variance_ratio:.3f} / {aam.appearance_variance_ratio:.3f} variance); "
          f"evaluated on frames {half}-{T - 1}; A/V offset measured on frames 0-{half - 1}: "
          f"{sync.to_dict()}\n")  # fmt: skip
    print("| method | face PSNR dB | face SSIM | mouth r vs real | sync offset ms | tracked |")
    print("|---|---|---|---|---|---|")
    for name, p, s, r, off, tv in rows:
        print(f"| {name} | {p:.2f} | {s:.3f} | {r:.3f} | {off:+.0f} | {tv:.0%} |")
    print(f"\nAAM encode + render: {aam_ms:.1f} ms/frame at {args.size} px")
    for size in (256, 512):
        f = find_photo_face(frames[0], size=size, min_interocular=30)
        a = PhotoAnimator(f)
        t0 = time.perf_counter()
        n = sum(1 for _ in animate_photo(f, anim, blink_seed=0))
        dt = time.perf_counter() - t0
        print(f"photo animation at {size} px: {n / dt:.0f} fps ({len(a.triangles)} triangles)")

    if args.images:
        import cv2

        d = Path(args.images)
        d.mkdir(parents=True, exist_ok=True)
        picks = [int(np.argmax(real_open[test])), int(np.argmin(real_open[test])), len(test) // 3]
        grid = []
        for i in picks:
            t = test[i]
            c = lm[t].mean(0)
            r = int(0.9 * np.ptp(lm[t][:, 0]))
            y0, x0 = max(0, int(c[1]) - r), max(0, int(c[0]) - r)
            crops = [frames[t][y0 : y0 + 2 * r, x0 : x0 + 2 * r]]
            crops += [
                g[i][y0 : y0 + 2 * r, x0 : x0 + 2 * r] for k, g in out.items() if "itself" not in k
            ]
            cells = [cv2.resize(x, (112, 112), interpolation=cv2.INTER_AREA) for x in crops]
            grid.append(np.concatenate(cells, axis=1))
        img = np.concatenate(grid, axis=0)
        cv2.imwrite(str(d / "photo_eval.png"), cv2.cvtColor(img, cv2.COLOR_RGB2BGR))
        names = " | ".join(k for k in out if "itself" not in k)
        print(f"wrote {d / 'photo_eval.png'}: columns real | {names}")


if __name__ == "__main__":
    main()
