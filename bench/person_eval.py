"""Personalised talking face (Yi et al. 2020 style) measured on held-out frames.

Usage: python bench/person_eval.py [VIDEO] [--size 256] [--steps 300] [--init general|none]
       [--mouth-steps 200] [--mouth-only] [--images docs/img] [--threads 2]

Personalise on frames 0-249 of the video (250 frames: min_frames lowered from 300), then
drive the person with the audio of frames 250-499 and compare with the real frames:
PSNR / SSIM of the face box (real landmarks), mouth-opening r and lip-sync offset of the
re-tracked output, and r of the re-tracked yaw / pitch with the real ones. The held-out
audio is shifted by the A/V offset ``personalize`` measured on the training frames only.

Variants: plain photo warp (photo.py, the animation's own head motion); warp + personalised
pose (2D only, and with yaw/pitch turned in 3D); + refiner; oracle expression (the true
landmarks, frontalised with the tracked head rotation) + the true head motion in 2D only or
with yaw / pitch in 3D; oracle warp + refiner (``--init``: fine-tuned from the general
refiner or trained from scratch) and oracle warp + the general refiner alone. Also:
head-pose statistics, generated vs real (held out), and refiner training time per step.

Mouth rows (issue 18): warp + personalised pose 3D with the procedural mouth, the shipped
learned mouth and the learned mouth ``personalize`` fine-tuned on the training frames
(``--mouth-steps``), each without and with the refiner; the exemplar mouth with the shipped
GRID bank, without the refiner; ``--mouth-only`` scores only these (and skips the head-pose table
and the timing).
"""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

from talkinghead.evaluate.photo_metrics import score_frames

#: the clip bench/photo_eval.py measures too (its first frame is "the photo")
DEFAULT = (
    Path(__file__).resolve().parents[2]
    / "shared/data/tanshuai0219__EDTalk/test_data/uncrop_Obama.mp4"
)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("video", nargs="?", default=str(DEFAULT))
    ap.add_argument("--size", type=int, default=256)
    ap.add_argument("--steps", type=int, default=300)
    ap.add_argument("--init", choices=("general", "none"), default="general")
    ap.add_argument("--person", default="/tmp/person_eval")
    ap.add_argument("--images", help="write side-by-side PNGs here (e.g. docs/img)")
    ap.add_argument("--time-steps", type=int, default=5, help="steps timed at 128 / 256 px")
    ap.add_argument("--threads", type=int, default=1, help="torch threads (1: comparable timings)")
    ap.add_argument("--mouth-steps", type=int, default=200, help="personalize's mouth fine-tuning")
    ap.add_argument("--mouth-only", action="store_true", help="only the mouth rows")
    args = ap.parse_args()

    import torch

    torch.set_num_threads(max(1, args.threads))
    from talkinghead.audio.io import load_audio
    from talkinghead.face.geometry import rotation_matrix
    from talkinghead.face.landmarks68 import eye_centres_68, mesh_to_68, mouth_openness_68
    from talkinghead.face.normalize import neutral_face_68
    from talkinghead.face.tracking import track_frames
    from talkinghead.inference import animate
    from talkinghead.models.head_pose import (
        POSE_CHANNELS,
        audio_pose_features,
        pose_stats,
        track_to_pose,
    )
    from talkinghead.models.refiner import Refiner
    from talkinghead.personalize import load_person, personalize
    from talkinghead.recipes.yi2020 import GENERAL_DIR, eye_pinned, head_controls
    from talkinghead.render.photo import PhotoAnimator, animate_photo, blink_curve
    from talkinghead.video.io import read_video

    video = read_video(args.video)
    frames, fps = video.frames, video.fps
    T = len(frames)
    half = T // 2
    test = np.arange(half, T)
    t0 = time.perf_counter()
    init = None if args.init == "none" else "general"
    personalize(args.video, args.person, max_frames=half, min_frames=half, size=args.size,
                steps=args.steps, frame_size=None, refiner_init=init,
                mouth_steps=args.mouth_steps, progress=False)  # fmt: skip
    t_pers = time.perf_counter() - t0
    person = load_person(args.person)
    meta = person.meta
    sync = meta["av_sync"]
    print(f"personalised on frames 0-{half - 1} in {t_pers:.0f} s: {meta['seconds']}, "
          f"reference frame {meta['reference_index']}, crop box {meta['crop_box']}, "
          f"A/V sync {sync}, refiner init {meta['refiner'].get('init')}")  # fmt: skip

    track = track_frames(frames, fps=fps)
    lm = track.landmarks68.astype(np.float64)
    real_open = mouth_openness_68(lm)
    real_eul = track.euler[test]

    # held-out audio (shifted by the offset measured on the training frames) -> landmarks
    off = float(sync["offset_s"])

    def held_out(offset):
        return load_audio(args.video, sr=16000, offset=max(0.0, half / fps + offset),
                          duration=(T - half) / fps)  # fmt: skip

    y, sr = held_out(off)
    anim = animate(y, sr=sr, fps=fps, n_frames=len(test))
    y0, _ = held_out(0.0)
    anim_raw = animate(y0, sr=sr, fps=fps, n_frames=len(test))
    feats = audio_pose_features(y=y, sr=sr, fps=fps, n_frames=len(test))
    gen_pose = person.pose_model.generate(feats, seed=0)
    real_pose = track_to_pose(track)[test]
    head_gen = person.pose_to_head(gen_pose)  # (T, 5): roll, dx, dy, yaw, pitch
    blinks = blink_curve(len(test), fps=fps, seed=0)

    # oracle: true expression (frontalised with the tracked rotation, per-frame eye-pinned)
    # + the true head motion: roll and shift from the eyes, yaw / pitch from the track
    ref = meta["reference_index"]
    R = rotation_matrix(track.rotation.astype(np.float64))  # (T, 3, 3)
    X = np.einsum("tji,tnj->tni", R, track.mesh - track.translation[:, None, :])
    X = X / track.scale[:, None, None]  # canonical frame: the expression only
    front = eye_pinned(mesh_to_68(X)[..., :2])
    oracle = np.nan_to_num(front[test] - front[ref] + neutral_face_68())
    eyes = eye_centres_68(lm[test])
    ref_eyes = eye_centres_68(lm[ref])
    d, dr = eyes[:, 1] - eyes[:, 0], ref_eyes[1] - ref_eyes[0]
    roll = np.arctan2(d[:, 1], d[:, 0]) - np.arctan2(dr[1], dr[0])
    pivot = PhotoAnimator(person.face).pivot
    head_true = head_controls(roll, ref_eyes.mean(0), eyes.mean(1), pivot,
                              person.face.similarity.matrix)  # fmt: skip
    turn = np.nan_to_num(track.euler[test, :2] - track.euler[ref, :2])
    head_true3d = np.column_stack([head_true, turn])
    general = Refiner.from_pretrained(GENERAL_DIR) if (GENERAL_DIR / "config.json").is_file() \
        else None  # fmt: skip
    ref_name = f"refiner ({'general + ' if init else 'scratch, '}{args.steps} steps)"

    variants = {
        "plain warp (photo.py, the animation's head motion)": lambda: animate_photo(
            person.face, anim, blink_seed=0, head_motion=True),
        "warp + personalised pose, 2D only, audio as recorded": lambda: person.frames(
            anim_raw.landmarks, head=head_gen[:, :3], blinks=blinks, refine=False),
        "warp + personalised pose, 2D only": lambda: person.frames(
            anim.landmarks, head=head_gen[:, :3], blinks=blinks, refine=False),
        "warp + personalised pose, yaw/pitch in 3D": lambda: person.frames(
            anim.landmarks, head=head_gen, blinks=blinks, refine=False),
        f"warp + personalised pose 3D + {ref_name}": lambda: person.frames(
            anim.landmarks, head=head_gen, blinks=blinks, refine=True),
        "oracle expression + true head, 2D only": lambda: person.frames(
            oracle, head=head_true, refine=False),
        "oracle expression + true head, yaw/pitch in 3D": lambda: person.frames(
            oracle, head=head_true3d, refine=False),
        f"oracle expression + true head 3D + {ref_name}": lambda: person.frames(
            oracle, head=head_true3d, refine=True),
    }  # fmt: skip
    if general is not None and general.config == person.refiner.config:
        general_person = replace(person, refiner=general)
        variants["oracle expression + true head 3D + general refiner only"] = lambda: (
            general_person.frames(oracle, head=head_true3d, refine=True))  # fmt: skip
    from talkinghead.data import MOUTH_GENERATOR_DIR

    mouth_rows = {}
    for rf in (False, True):
        tag = f" + {ref_name}" if rf else ""
        mouth_rows[f"warp + pose 3D{tag}, procedural mouth"] = lambda rf=rf: person.frames(
            anim.landmarks, head=head_gen, blinks=blinks, refine=rf
        )
        mouth_rows[f"warp + pose 3D{tag}, shipped learned mouth"] = lambda rf=rf: person.frames(
            anim.landmarks,
            head=head_gen,
            blinks=blinks,
            refine=rf,
            mouth="learned",
            mouth_model=MOUTH_GENERATOR_DIR,
        )
        if person.mouth_model is not None:
            mouth_rows[
                f"warp + pose 3D{tag}, fine-tuned learned mouth ({args.mouth_steps} steps)"
            ] = lambda rf=rf: person.frames(
                anim.landmarks, head=head_gen, blinks=blinks, refine=rf, mouth="learned"
            )
    # the exemplar mouth (issue 18 session 15) with the shipped GRID bank
    mouth_rows["warp + pose 3D, exemplar mouth (GRID bank)"] = lambda: person.frames(
        anim.landmarks, head=head_gen, blinks=blinks, refine=False, mouth="exemplar"
    )
    variants = mouth_rows if args.mouth_only else {**variants, **mouth_rows}
    out, rows = {}, []
    for name, make in variants.items():
        t0 = time.perf_counter()
        gen = np.stack(list(make()))
        ms = (time.perf_counter() - t0) / len(gen) * 1000
        out[name] = gen
        trs = []
        scores = score_frames(gen, frames, lm, test, real_open, fps=fps, use=track.valid,
                              tracks=trs)  # fmt: skip
        ge = trs[0].euler
        ok = trs[0].valid & track.valid[test]
        ryaw = np.corrcoef(ge[ok, 0], real_eul[ok, 0])[0, 1] if ok.sum() > 2 else np.nan
        rpitch = np.corrcoef(ge[ok, 1], real_eul[ok, 1])[0, 1] if ok.sum() > 2 else np.nan
        rows.append((name, *scores, ryaw, rpitch, ms))
        print(f"  {name}: {rows[-1][1:]}", flush=True)

    print(f"\n{args.video}: {T} frames at {fps:g} fps ({frames.shape[2]}x{frames.shape[1]}); "
          f"refiner {args.size} px, {args.steps} steps from {init or 'scratch'}; test frames "
          f"{half}-{T - 1}; held-out audio shifted by {off * 1000:+.0f} ms\n")  # fmt: skip
    print("| method | face PSNR dB | face SSIM | mouth r vs real | sync offset ms | tracked "
          "| yaw r | pitch r | render ms/frame |")  # fmt: skip
    print("|---|---|---|---|---|---|---|---|---|")
    for name, p, s_, r, off_ms, tv, ry, rp, ms in rows:
        print(f"| {name} | {p:.2f} | {s_:.3f} | {r:.3f} | {off_ms:+.0f} | {tv:.0%} | "
              f"{ry:+.2f} | {rp:+.2f} | {ms:.0f} |")  # fmt: skip

    if args.mouth_only:
        json.dump({"rows": rows, "meta": meta}, open(Path(args.person) / "eval.json", "w"),
                  default=float)  # fmt: skip
        return
    e = feats[:, 0]
    st_r, st_g = pose_stats(real_pose, e), pose_stats(gen_pose, e)
    print("\nHead pose on held-out frames, real vs generated from their audio "
          "(angles in degrees, x/y in inter-ocular units):\n")  # fmt: skip
    print("| channel | std real | std gen | velocity std real | velocity std gen "
          "| r(energy) real | r(energy) gen |")  # fmt: skip
    print("|---|---|---|---|---|---|---|")
    for k, ch in enumerate(POSE_CHANNELS):
        f = np.degrees(1.0) if k < 3 else 1.0
        print(f"| {ch} | {st_r['std'][k] * f:.3f} | {st_g['std'][k] * f:.3f} | "
              f"{st_r['vel_std'][k] * f:.3f} | {st_g['vel_std'][k] * f:.3f} | "
              f"{st_r['energy_corr'][k]:+.2f} | {st_g['energy_corr'][k]:+.2f} |")  # fmt: skip

    from talkinghead.training.refiner_train import train_refiner

    for S in (128, 256):
        x = np.random.default_rng(0).integers(0, 255, (16, S, S, 3), dtype=np.uint8)
        d = Path(args.person) / f"_time{S}"
        r = train_refiner(x, x, d, steps=args.time_steps, adv_start=0.0, progress=False,
                          resume=False, save_every=10**6)  # fmt: skip
        sps = r.seconds / args.time_steps
        print(
            f"refiner training at {S} px, batch 4 (L1 + hinge GAN): {sps:.2f} s/step -> "
            f"{3600 / sps:.0f} steps/hour = {3600 / sps * 4 / 300:.1f} epochs of 300 frames"
        )
    json.dump({"rows": rows, "pose_real": st_r, "pose_gen": st_g, "meta": meta},
              open(Path(args.person) / "eval.json", "w"), default=float)  # fmt: skip

    if args.images:
        import cv2

        dd = Path(args.images)
        dd.mkdir(parents=True, exist_ok=True)
        picks = [int(np.nanargmax(real_open[test])), len(test) // 3, 2 * len(test) // 3]
        x0, y0, side = person.box
        grid = []
        for i in picks:
            t = test[i]
            crops = [frames[t]] + [g[i] for g in out.values()]
            cells = [cv2.resize(c[y0 : y0 + side, x0 : x0 + side], (128, 128),
                                interpolation=cv2.INTER_AREA) for c in crops]  # fmt: skip
            grid.append(np.concatenate(cells, axis=1))
        img = np.concatenate(grid, axis=0)
        p = dd / "person_eval.png"
        cv2.imwrite(str(p), cv2.cvtColor(img, cv2.COLOR_RGB2BGR))
        print(
            f"wrote {p}: columns real | plain warp | + pose | + pose + refiner | oracle | "
            "oracle + refiner"
        )


if __name__ == "__main__":
    main()
