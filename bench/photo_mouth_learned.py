"""The learned mouth on held-out people: warp + band / procedural vs warp + learned mouth.

Usage: python bench/photo_mouth_learned.py [--model DIR] [--teeth DIR] [--people 12] [--frames 50]
       [--prepared /work/prepared/hunt /work/prepared/old] [--images docs/img]
       [--side test|train] [--kinds band procedural learned "learned (opening only)"]
       [--driver oracle|audio|both] [--refiner] [--min-iod 60 --native]
       [--detail DIR] [--image-name photo_mouth_learned.png] [--cell 104] [--skip N]

People: the test side of the ``mouth_v2`` split (speaker-disjoint from the generator's
training side), one prepared clip each (at most 4 GRID people), in manifest order. Per
clip: frame 0 (256 px) is the photo, frames 1..N the targets, the driver is the clip's own
tracked landmarks (**oracle**, head still: the photo_people protocol) and/or (``--driver
audio|both``) the default animator on the clip's own audio (**audio**: blinks and the
animation's head motion, as in ``bench/photo_people.py``). Scores against the real
frames: mouth-box PSNR / SSIM (outer lips + 15 %), face-box SSIM, mouth sharpness (variance
of the Laplacian, generated / real), the re-tracked mouth opening r against the driving
animation's ``mouth_open`` and against the real video's opening, the lip-sync offset of the
re-tracked opening against the real video (:func:`talkinghead.evaluate.metrics.sync_offset`,
ms, positive = late, searched over +-200 ms), and two teeth checks: on the frames where the
real mouth is open widest (top quarter), mean grey level of the upper third of the
inner-lip polygon / the lips' own; and
:func:`talkinghead.evaluate.photo_metrics.teeth_visible` (a bright band under the upper lip
over a dark cavity, on the inner-mouth brightness profile) on every frame whose real mouth
is open >= ``TEETH_MIN_OPEN`` eye distances: the share of those frames that pass (generated
frames scored at their re-tracked points, real frames at their tracked ones) and the mean
:func:`~talkinghead.evaluate.photo_metrics.teeth_score`.

``--refiner`` adds a row per driver: procedural + the shipped general refiner
(:data:`talkinghead.recipes.yi2020.GENERAL_DIR`). ``--model`` defaults to the shipped learned
mouth. ``--side train`` takes people of the split's training side instead (for choosing
settings without looking at the held-out people).

Large faces (issue 18 session 10): ``--min-iod PX`` keeps only the clips whose median eye
distance (tracked, native pixels) is at least ``PX`` and takes, per person, the clip with
the largest one; ``--native`` renders at the video's own resolution instead of ``--size``.
The kind ``"learned+detail (opening only)"`` is the learned mouth with its detail net
(``--detail``, default the shipped one, :data:`talkinghead.render.photo.MOUTH_DETAIL_DIR`);
the other learned kinds run without it (the 96 px path).

Guided (issue 18 session 11): ``--guided DIR`` is a guided learned mouth (it also sees the
procedural interior drawn at the target lips); the kinds ``"guided (opening only)"`` and
``"guided+detail (opening only)"`` render with it (as ``mouth="learned"``).
``--image-kinds`` picks the kinds (columns after the real frame) of the ``--images`` PNG.

Teeth control (issue 18 session 12): ``--teeth DIR`` is a learned mouth with the teeth
control (``MouthGeneratorConfig.teeth``; its ``k`` predicted from the target points by the
checkpoint's regression); the kinds ``"teeth (opening only)"`` and ``"teeth+detail (opening
only)"`` render with it (as ``mouth="learned"``), beside the ``--model`` rows.

Exemplar (issue 18 session 15): the kind ``exemplar`` is ``mouth="exemplar"``
(:mod:`talkinghead.render.mouth_exemplar`) with the bank ``--bank DIR`` (default: shipped),
less the person's own crops where the person is one of its donors (``--side train``).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from talkinghead.corpora.people import recording_person

REPO = Path(__file__).resolve().parents[1]
SPLIT = REPO / "src/talkinghead/evaluate/splits/mouth_v2.json"
REFINED = "procedural + general refiner"


def held_out_clips(
    prepared, n_people: int, side: str = "test", min_iod: float | None = None, skip: int = 0
) -> list[tuple[str, str, str]]:
    """(person, video, audio) of one ok clip per person of the split's ``side``, the
    ``skip`` first people left out; with ``min_iod`` only clips whose median eye distance is
    >= ``min_iod`` px, per person the one with the largest."""
    if min_iod is not None:
        return _large_face_clips(prepared, n_people + skip, side, min_iod)[skip:]
    split = json.loads(SPLIT.read_text())
    test, excl = split["test"], split["excluded"]
    out, seen, n_grid = [], set(), 0
    for d in map(Path, prepared):
        recs = {}
        for line in (d / "recordings.jsonl").read_text().splitlines():
            if line.strip():
                r = json.loads(line)
                recs[r["id"]] = r
        for line in (d / "clips.jsonl").read_text().splitlines():
            c = json.loads(line) if line.strip() else {}
            rid = c.get("recording")
            if c.get("status") != "ok" or rid not in recs:
                continue
            if side == "test" and rid in test:
                person = test[rid]["person"]
            elif side == "train" and rid not in test and rid not in excl:
                rec = recs[rid]
                person = recording_person(rec)
            else:
                continue
            grid = person.startswith("grid:")
            if person in seen or (grid and n_grid >= 4):
                continue
            seen.add(person)
            n_grid += grid
            out.append((person, recs[rid]["video"], recs[rid].get("audio")))
    return out[skip : skip + n_people]


def _large_face_clips(prepared, n_people: int, side: str, min_iod: float):
    from talkinghead.corpora.manifest import iter_accepted

    split = json.loads(SPLIT.read_text())
    test, excl = split["test"], split["excluded"]
    best: dict[str, tuple[float, str, str]] = {}
    for _c, rec, npz in iter_accepted(prepared):
        rid = rec["id"]
        if side == "test" and rid in test:
            person = test[rid]["person"]
        elif side == "train" and rid not in test and rid not in excl:
            person = recording_person(rec)
        else:
            continue
        z = np.load(npz)
        lm, ok = z["landmarks68"], z["valid"].astype(bool)
        if ok.sum() < 2:
            continue
        iod = float(np.median(np.linalg.norm(lm[ok, 42:48].mean(1) - lm[ok, 36:42].mean(1),
                                             axis=1)))  # fmt: skip
        if iod >= min_iod and iod > best.get(person, (-1.0,))[0]:
            best[person] = (iod, rec["video"], rec.get("audio"))
    order = sorted(best, key=lambda p: -best[p][0])
    for p in order:
        print(f"{p}: median {best[p][0]:.0f} px between the eyes, {best[p][1]}")
    return [(p, best[p][1], best[p][2]) for p in order][:n_people]


def sharpness(img: np.ndarray) -> float:
    import cv2

    return float(cv2.Laplacian(img.astype(np.float64), cv2.CV_64F).var())


def teeth_ratio(img: np.ndarray, lm: np.ndarray) -> float:
    """Mean grey of the upper third of the inner-lip polygon / mean grey of the lips."""
    import cv2

    from talkinghead.evaluate.photo_metrics import grey

    g = grey(img).astype(np.float64)
    inner = np.zeros(g.shape, np.uint8)
    cv2.fillPoly(inner, [np.round(lm[60:68]).astype(np.int32)], 1)
    outer = np.zeros(g.shape, np.uint8)
    cv2.fillPoly(outer, [np.round(lm[48:60]).astype(np.int32)], 1)
    lips = (outer > 0) & (inner == 0)
    top, bot = lm[[61, 62, 63], 1].mean(), lm[[65, 66, 67], 1].mean()
    ys = np.arange(g.shape[0])[:, None]
    upper = (inner > 0) & (ys < top + (bot - top) / 3)
    if upper.sum() < 3 or lips.sum() < 3:
        return float("nan")
    return float(g[upper].mean() / max(g[lips].mean(), 1e-6))


def main() -> None:
    import time
    import warnings

    from talkinghead.errors import TalkingHeadError
    from talkinghead.evaluate.metrics import mouth_corr, sync_offset
    from talkinghead.evaluate.photo_metrics import (
        TEETH_MIN_OPEN,
        grey,
        inner_mouth_profile,
        psnr,
        ssim,
        teeth_score,
        teeth_visible,
    )
    from talkinghead.face.landmarks68 import mouth_openness_68
    from talkinghead.face.normalize import neutral_face_68, pin_eyes
    from talkinghead.face.tracking import track_frames
    from talkinghead.inference import Animation, animate
    from talkinghead.render.mouth_exemplar import load_mouth_bank
    from talkinghead.render.photo import (
        animate_photo,
        find_photo_face,
        load_mouth_detail,
        load_mouth_generator,
    )
    from talkinghead.video.io import read_video

    ap = argparse.ArgumentParser()
    ap.add_argument("--model", help="learned-mouth checkpoint folder (default: the shipped one)")
    ap.add_argument("--people", type=int, default=12)
    ap.add_argument("--frames", type=int, default=50)
    ap.add_argument("--size", type=int, default=256)
    ap.add_argument("--prepared", nargs="+", default=["/work/prepared/hunt", "/work/prepared/old"])
    ap.add_argument("--images")
    ap.add_argument("--side", choices=("test", "train"), default="test")
    ap.add_argument(
        "--kinds", nargs="+", default=["band", "procedural", "learned", "learned (opening only)"]
    )
    ap.add_argument("--driver", choices=("oracle", "audio", "both"), default="oracle")
    ap.add_argument("--refiner", action="store_true", help="add procedural + general refiner")
    ap.add_argument("--min-iod", type=float, help="only clips with this many px between the eyes")
    ap.add_argument("--native", action="store_true", help="the video's own resolution")
    ap.add_argument("--detail", help="detail-net folder (default: the shipped one)")
    ap.add_argument("--image-name", default="photo_mouth_learned.png")
    ap.add_argument("--cell", type=int, default=104, help="width of an image cell, px")
    ap.add_argument("--guided", help="guided learned-mouth folder (the 'guided ...' kinds)")
    ap.add_argument("--teeth", help="learned mouth with the teeth control (the 'teeth ...' kinds)")
    ap.add_argument("--image-kinds", nargs="+", help="kinds in the PNG (default: all)")
    ap.add_argument("--skip", type=int, default=0, help="leave out the first SKIP people")
    ap.add_argument("--bank", help="mouth bank folder of the 'exemplar' kind (default: shipped)")
    args = ap.parse_args()
    model = load_mouth_generator(args.model)
    others = {}  # the other learned mouths: kind prefix -> model
    for name, folder in (("guided", args.guided), ("teeth", args.teeth)):
        if any(k.startswith(name) for k in args.kinds):
            if not folder:
                raise SystemExit(f"the '{name}' kinds need --{name} DIR")
            others[name] = load_mouth_generator(folder)
    detail = None
    if any("+detail" in k for k in args.kinds):
        detail = load_mouth_detail(args.detail)
        if detail is None:
            raise SystemExit("no detail net: pass --detail DIR")
    # a person of the bank's own (training) side is scored on the other donors' mouths
    bank = load_mouth_bank(args.bank) if "exemplar" in args.kinds else None
    drivers = ("oracle", "audio") if args.driver == "both" else (args.driver,)
    kinds = list(args.kinds)
    general = None
    if args.refiner:
        from talkinghead.models.refiner import Refiner
        from talkinghead.recipes.yi2020 import GENERAL_DIR

        general = Refiner.from_pretrained(GENERAL_DIR)
        kinds.append(REFINED)
    keys = [(d, k) for d in drivers for k in kinds]
    res = {k: [] for k in keys}
    crops, times = [], []
    real_teeth = []
    size = None if args.native else args.size
    for person, video, audio in held_out_clips(args.prepared, args.people, args.side,
                                               args.min_iod, args.skip):  # fmt: skip
        if "audio" in drivers and not audio:
            print(f"skip {person}: no audio")
            continue
        v = read_video(video, size=size, max_frames=args.frames + 1)
        frames, fps = v.frames, v.fps
        track = track_frames(frames, fps=fps)
        if not track.valid[0] or track.valid.mean() < 0.9:
            print(f"skip {person}: tracked {track.valid.mean():.0%}")
            continue
        lm = track.landmarks68.astype(np.float64)
        real_open = mouth_openness_68(lm)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                face = find_photo_face(frames[0])
            except TalkingHeadError as e:  # a photo the photo path refuses (e.g. a profile)
                print(f"skip {person}: {e}")
                continue
        pinned, _ = pin_eyes(lm)
        T = len(frames)
        anims = {"oracle": Animation(
            landmarks=(pinned - pinned[0] + neutral_face_68()).astype(np.float32),
            mouth_open=real_open.astype(np.float32), fps=fps,
            articulation=np.zeros((T, 4), np.float32), articulation_names=["a"] * 4)}  # fmt: skip
        if "audio" in drivers:
            anims["audio"] = animate(audio, fps=fps, n_frames=T)
        test = np.arange(1, T)[track.valid[1:]]
        wide = test[real_open[test] >= np.quantile(real_open[test], 0.75)]
        widest = int(test[np.argmax(real_open[test])])
        opened = [t for t in test if inner_mouth_profile(frames[t], lm[t])["opening"]
                  >= TEETH_MIN_OPEN]  # fmt: skip
        rv = [teeth_visible(frames[t], lm[t]) for t in opened]
        real_teeth.append((np.mean([v for v in rv if v is not None] or [np.nan]),
                           np.nanmean([teeth_score(frames[t], lm[t]) for t in opened] or [np.nan]),
                           len(opened)))  # fmt: skip
        row = [frames[widest]]
        for d, k in keys:
            drv, oracle = anims[d], d == "oracle"
            t0 = time.perf_counter()
            region = "opening" if "opening" in k else "region"
            mouth = k.split(" ")[0].split("+")[0]
            other = others.get(mouth)
            gen = list(animate_photo(face, drv, blink_seed=None if oracle else 0,
                                     head_motion=not oracle,
                                     mouth="learned" if other is not None else mouth,
                                     mouth_model=(bank.without(person) if mouth == "exemplar"
                                                  else model if other is None else other),
                                     mouth_region=region,
                                     mouth_detail=detail if "+detail" in k else False,
                                     refiner=general if k == REFINED else None))  # fmt: skip
            times.append(((d, k), (time.perf_counter() - t0) / T))
            mp, ms, fs, sh = [], [], [], []
            for t in test:
                (x0, y0), (x1, y1) = lm[t].min(0).astype(int), lm[t].max(0).astype(int) + 1
                fs.append(ssim(grey(gen[t][y0:y1, x0:x1]), grey(frames[t][y0:y1, x0:x1])))
                m = lm[t, 48:68]
                pad = 0.15 * np.ptp(m[:, 0])
                (a0, b0), (a1, b1) = (m.min(0) - pad).astype(int), (m.max(0) + pad).astype(int)
                g, r = gen[t][b0:b1, a0:a1], frames[t][b0:b1, a0:a1]
                mp.append(psnr(g, r))
                ms.append(ssim(grey(g), grey(r)))
                sh.append(sharpness(grey(g)) / max(sharpness(grey(r)), 1e-6))
            tr = track_frames([gen[t] for t in range(1, T)], fps=fps)
            op = mouth_openness_68(tr.landmarks68)
            ok = tr.valid & track.valid[1:]
            r_drv = mouth_corr(op, np.asarray(drv.mouth_open)[1:], valid=ok)
            r_real = mouth_corr(op, real_open[1:], valid=ok)
            off, _ = sync_offset(op, real_open[1:], fps=fps, valid=ok)
            teeth_g = np.nanmean([teeth_ratio(gen[t], lm[t]) for t in wide])
            teeth_r = np.nanmean([teeth_ratio(frames[t], lm[t]) for t in wide])
            # the teeth check at the generated frames' re-tracked points (t >= 1)
            gv, gs = [], []
            for t in opened:
                if tr.valid[t - 1]:
                    v = teeth_visible(gen[t], tr.landmarks68[t - 1])
                    gv.append(np.nan if v is None else float(v))
                    gs.append(teeth_score(gen[t], tr.landmarks68[t - 1]))
            vis = np.nanmean(gv) if np.isfinite(gv).any() else np.nan
            sc = np.nanmean(gs) if np.isfinite(gs).any() else np.nan
            res[(d, k)].append((np.mean(mp), np.mean(ms), np.mean(fs), np.median(sh), r_drv,
                                teeth_g, teeth_r, vis, sc, r_real, off))  # fmt: skip
            if d == drivers[0] and (not args.image_kinds or k in args.image_kinds):
                row.append(gen[widest])
        print(f"{person}: {T} frames, iod {face.interocular:.0f} px; {len(opened)} open, real "
              f"teeth {real_teeth[-1][0]:.2f} score {real_teeth[-1][1]:.2f}; " + "; ".join(
            f"{d}/{k} face ssim {res[(d, k)][-1][2]:.3f} r {res[(d, k)][-1][4]:.2f} real "
            f"{res[(d, k)][-1][9]:.2f} off {res[(d, k)][-1][10]:+.0f} teeth "
            f"{res[(d, k)][-1][7]:.2f}" for d, k in keys), flush=True)  # fmt: skip
        c = lm[widest, 48:68].mean(0)
        half = int(0.75 * np.linalg.norm(lm[widest, 36:42].mean(0) - lm[widest, 42:48].mean(0)))
        y0, x0 = max(0, int(c[1]) - half), max(0, int(c[0]) - int(1.3 * half))
        crops.append([x[y0 : y0 + 2 * half, x0 : x0 + int(2.6 * half)] for x in row])
    n = len(res[keys[0]])
    who = "held-out" if args.side == "test" else "training-side"
    res_txt = "native resolution" if args.native else f"{args.size} px"
    print(f"\n{n} {who} people, {res_txt}, frames 1-{args.frames}; mean (sd) over people; "
          "sharpness median [range]")  # fmt: skip
    rt = np.asarray(real_teeth, np.float64)
    print(f"open frames (>= {TEETH_MIN_OPEN} eye distances) per person: "
          f"{rt[:, 2].astype(int).tolist()}\n")  # fmt: skip
    print("| driver | mouth | mouth PSNR dB | mouth SSIM | face SSIM | mouth sharpness gen/real "
          "| re-tracked mouth r vs driving | vs real video | lip-sync offset ms "
          "| teeth: upper-opening / lip grey (real) "
          "| teeth visible, share of open frames (real) | teeth score (real) |")  # fmt: skip
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for d, k in keys:
        a = np.asarray(res[(d, k)], np.float64)
        c = [f"{np.nanmean(a[:, j]):.{p}f} ({np.nanstd(a[:, j]):.{p}f})"
             for j, p in zip((0, 1, 2, 4, 9), (2, 3, 3, 3, 3), strict=True)]  # fmt: skip
        sh = a[:, 3]
        c.insert(3, f"{np.nanmedian(sh):.2f} [{np.nanmin(sh):.2f}-{np.nanmax(sh):.2f}]")
        c.append(f"{np.nanmean(a[:, 10]):+.0f} ({np.nanstd(a[:, 10]):.0f})")
        c.append(f"{np.nanmean(a[:, 5]):.2f} ({np.nanmean(a[:, 6]):.2f})")
        c.append(f"{np.nanmean(a[:, 7]):.2f} ({np.nanmean(rt[:, 0]):.2f})")
        c.append(f"{np.nanmean(a[:, 8]):.2f} ({np.nanmean(rt[:, 1]):.2f})")
        print(f"| {d} | {k} | " + " | ".join(c) + " |")
    for key in keys:
        s = [t for kk, t in times if kk == key]
        fr = 1 / np.mean(s)
        print(f"{key[0]}/{key[1]}: {fr:.0f} frames/s rendering (in-process, under load)")
    if args.images and crops:
        import cv2

        d = Path(args.images)
        d.mkdir(parents=True, exist_ok=True)
        cw, ch = args.cell, int(round(args.cell * 80 / 104))
        cells = [np.concatenate([cv2.resize(x, (cw, ch), interpolation=cv2.INTER_AREA)
                                 for x in row], 0) for row in crops[:8]]  # fmt: skip
        cv2.imwrite(str(d / args.image_name),
                    cv2.cvtColor(np.concatenate(cells, 1), cv2.COLOR_RGB2BGR),
                    [cv2.IMWRITE_PNG_COMPRESSION, 9])  # fmt: skip
        shown = [k for k in kinds if not args.image_kinds or k in args.image_kinds]
        print(f"wrote {d / args.image_name}: rows real | " + " | ".join(shown)
              + f" ({drivers[0]} driver)")  # fmt: skip


if __name__ == "__main__":
    main()
