"""Speed benchmarks of the foundation: prints a Markdown table.

Each case runs in its own subprocess so that its peak memory (max RSS) is its
own. Real data comes from ../shared/data (cases that need it are skipped with a
reason when it is absent). Usage::

    python bench/run.py            # all cases
    python bench/run.py --case features_pham2017
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DATA = Path(os.environ.get("TALKINGHEAD_SHARED_DATA", REPO.parent / "shared" / "data"))
SPEECH_60S = DATA / "TMElyralab__MuseTalk/data/audio/eng.wav"
VIDEO_60S = DATA / "tanshuai0219__EDTalk/test_data/pose_source2.mp4"
VIDEO_512 = DATA / "OpenTalker__SadTalker/examples/ref_video/WDA_KatieHill_000.mp4"


def _timed(fn, repeat: int = 3):
    best = float("inf")
    out = None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return best, out


def _need(path: Path):
    if not path.exists():
        raise FileNotFoundError(f"needs {path} (../shared/data)")


# ----------------------------------------------------------------- cases
# Each returns dict(work_seconds=audio seconds or None, frames=n or None, seconds=wall)


def case_audio_decode_wav():
    from talkinghead.audio.io import load_audio

    _need(SPEECH_60S)
    sec, (y, sr) = _timed(lambda: load_audio(SPEECH_60S, sr=16000))
    return dict(what="decode 60 s wav -> 16 kHz mono", audio_s=len(y) / sr, seconds=sec)


def case_audio_decode_mp4():
    from talkinghead.audio.io import load_audio

    _need(VIDEO_60S)
    sec, (y, sr) = _timed(lambda: load_audio(VIDEO_60S, sr=16000))
    return dict(what="decode 60 s mp4 audio (AAC 48k) -> 16 kHz", audio_s=len(y) / sr, seconds=sec)


def _features(name: str, sr: int = 16000):
    from talkinghead.audio.features import compute_features
    from talkinghead.audio.io import load_audio

    _need(SPEECH_60S)
    y, sr = load_audio(SPEECH_60S, sr=sr)
    compute_features(name, y=y[: sr * 2], sr=sr, fps=25.0)  # warm-up (numba compilation)
    sec, x = _timed(lambda: compute_features(name, y=y, sr=sr, fps=25.0))
    return dict(
        what=f"{name} features, 60 s at {sr // 1000} kHz, 25 fps",
        audio_s=len(y) / sr,
        frames=x.shape[0],
        seconds=sec,
    )


def case_features_sakurai2018():
    return _features("sakurai2018")


def case_features_eskimez2018():
    return _features("eskimez2018")


def case_features_pham2017():
    return _features("pham2017")


def case_features_pham2017_44k():
    return _features("pham2017", sr=44100)


def _tracking(size: int):
    from talkinghead.face.tracking import track_frames
    from talkinghead.video.io import read_video

    src = VIDEO_512
    _need(src)
    video = read_video(src, size=size, max_frames=150)
    frames = list(video.frames)
    track_frames(frames[:5], fps=video.fps)  # warm-up (graph init)
    sec, tr = _timed(lambda: track_frames(frames, fps=video.fps), repeat=1)
    return dict(
        what=f"face tracking at {size} px ({len(frames)} real frames)",
        frames=len(frames),
        seconds=sec,
        valid=float(tr.valid.mean()),
    )


def case_tracking_256():
    return _tracking(256)


def case_tracking_512():
    return _tracking(512)


def case_render_sketch_256():
    import numpy as np

    from talkinghead.inference import animate
    from talkinghead.render.sketch import iter_sketch_frames

    anim = animate(REPO / "examples/speech.wav", fps=25.0)
    lm = np.concatenate([anim.landmarks] * 3)

    def run():
        n = 0
        for _ in iter_sketch_frames(lm, size=256):
            n += 1
        return n

    sec, n = _timed(run)
    return dict(what="sketch rendering at 256 px (frames only)", frames=n, seconds=sec)


def _photo(size: int, refine: bool, mouth: str = "procedural"):
    import warnings

    from talkinghead.inference import animate
    from talkinghead.render.photo import animate_photo, find_photo_face
    from talkinghead.video.io import read_video

    _need(VIDEO_512)
    photo = read_video(VIDEO_512, max_frames=1).frames[0]
    if size > max(photo.shape[:2]):  # a full-resolution photo: the frame upscaled
        import cv2

        s = size / max(photo.shape[:2])
        photo = cv2.resize(photo, None, fx=s, fy=s, interpolation=cv2.INTER_CUBIC)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the small face of the 256 px case is upscaled
        face = find_photo_face(photo, size=size)
    anim = animate(REPO / "examples/speech.wav", fps=25.0)
    refiner = None
    if refine:
        from talkinghead.models.refiner import Refiner
        from talkinghead.recipes.yi2020 import GENERAL_DIR

        refiner = Refiner.from_pretrained(GENERAL_DIR)

    def run():
        return sum(1 for _ in animate_photo(face, anim, blink_seed=0, refiner=refiner,
                                            mouth=mouth))  # fmt: skip

    sec, n = _timed(run, repeat=1 if refine else 3)
    what = f"photo animation at {size} px (3D head turns{', + general refiner' if refine else ''}"
    what += ")" if mouth == "procedural" else f", {mouth} mouth)"
    return dict(what=what, frames=n, seconds=sec)


def case_photo_256():
    return _photo(256, False)


def case_photo_512():
    return _photo(512, False)


def case_photo_512_exemplar():
    return _photo(512, False, mouth="exemplar")


def case_photo_2048():
    return _photo(2048, False)


def case_photo_refined_512():
    return _photo(512, True)


def case_write_mp4_256():
    import tempfile

    import numpy as np

    from talkinghead.audio.io import load_audio
    from talkinghead.inference import animate
    from talkinghead.render.sketch import render_landmarks_video

    path = REPO / "examples/speech.wav"
    anim = animate(path, fps=25.0)
    y, sr = load_audio(path, sr=44100)
    with tempfile.TemporaryDirectory() as d:
        sec, _ = _timed(
            lambda: render_landmarks_video(
                Path(d) / "a.mp4", anim.landmarks, fps=25.0, audio=y, sr=sr, progress=False
            )
        )
    return dict(
        what="sketch -> H.264+AAC MP4 at 256 px",
        frames=int(np.shape(anim.landmarks)[0]),
        audio_s=len(y) / sr,
        seconds=sec,
    )


def _animator(model: str, what: str, **kw):
    from talkinghead.audio.io import load_audio
    from talkinghead.inference import animate

    _need(SPEECH_60S)
    y, sr = load_audio(SPEECH_60S, sr=16000)
    # other samples in every call, as a user's next file: the Whisper encoder remembers its
    # last input (features + closures of one call share it), and the same 60 s again would
    # time a cache hit (874x instead of 47x for the whisper model). Made before the clock runs
    inputs = []
    for k in range(4):
        z = y.copy()
        z[0] += 1e-6 * (k + 1)
        inputs.append(z)
    calls = iter(inputs)
    animate(y[: sr * 2], sr=sr, fps=25.0, model=model, **kw)  # warm-up (model load)
    first, anim = _timed(lambda: animate(next(calls), sr=sr, fps=25.0, model=model, **kw), repeat=1)
    sec, _ = _timed(lambda: animate(next(calls), sr=sr, fps=25.0, model=model, **kw), repeat=3)
    threads = os.environ.get("OPENBLAS_NUM_THREADS") or os.environ.get("OMP_NUM_THREADS")
    what = (f"{what}; best of 3 after a first 60 s call at {len(y) / sr / first:.0f}x; "
            f"BLAS threads {threads or 'default (all cores)'}")  # fmt: skip
    return dict(what=what, audio_s=len(y) / sr, frames=anim.n_frames, seconds=sec)


def case_animator_phonetic():
    return _animator("phonetic", "phonetic animator (phone recognition + coarticulation), 60 s")


def case_animator_default():
    return _animator(
        "default",
        "default model (student front end + mouth network + upper face; no phones), 60 s",
    )


def case_animator_ridge():
    from talkinghead.models.default import FAST_DIR
    from talkinghead.pipeline import Model

    return _animator(
        Model.from_pretrained(FAST_DIR),
        "previous default (student front end + ridge read-out + upper face), 60 s",
    )


def case_animator_whisper():
    return _animator(
        "whisper", "whisper model (Whisper tiny.en encoder + ridge + upper face), 60 s"
    )


def case_animator_closures():
    return _animator(
        "default",
        "default model + closures='whisper' (the Whisper tiny.en /p b m/ classifier), 60 s",
        closures="whisper",
    )


def case_default_model_load():
    import time as _t

    t0 = _t.perf_counter()
    from talkinghead.models.default import DefaultModel

    DefaultModel.from_pretrained()
    return dict(what="default model: import + load checkpoint", seconds=_t.perf_counter() - t0)


def _prepare(num_jobs: int):
    import tempfile

    from talkinghead.corpora.grid import prepare_grid

    src = DATA / "grid_s1/video"
    _need(src)
    clips = sorted(src.glob("*.mp4"))[:16]
    with tempfile.TemporaryDirectory() as d:
        corpus = Path(d) / "grid"
        corpus.mkdir()
        for c in clips:
            (corpus / c.name).symlink_to(c)
        res = prepare_grid(corpus, Path(d) / "out", num_jobs, size=256, progress=False)
    return dict(
        what=f"prepare 16 GRID clips at 256 px, all 3 feature sets, {num_jobs} worker(s)",
        frames=res.frames,
        seconds=res.seconds,
        per_core=res.frames / res.seconds / num_jobs,
    )


def case_prepare_1_worker():
    return _prepare(1)


def case_prepare_2_workers():
    return _prepare(2)


def case_fit3d():
    from talkinghead.face.fit3d import fit_blendshapes
    from talkinghead.face.tracking import track_video

    src = DATA / "rizkiarm__LipNet/evaluation/samples/GRID/bbaf2n.mpg"
    _need(src)
    tr = track_video(src, size=256)
    sec, fit = _timed(lambda: fit_blendshapes(tr.mesh, fps=tr.fps, valid=tr.valid))
    import numpy as np

    return dict(
        what=f"3D blendshape fit of a tracked GRID clip (median residual "
        f"{float(np.nanmedian(fit.residual)):.4f} IOD)",
        frames=tr.n_frames,
        seconds=sec,
    )


def _render3d(backend: str):
    import numpy as np

    from talkinghead.face.head3d import BlendshapeAnimation
    from talkinghead.render.head3d import gl_available, render_head_frames

    if backend == "gl" and not gl_available():
        raise FileNotFoundError("no OpenGL (EGL) context on this machine")
    rng = np.random.default_rng(0)
    n = 100
    w = np.zeros((n, 52), np.float32)
    w[:, 17] = 0.5 + 0.5 * np.sin(np.arange(n) / 3)  # jawOpen
    w[:, 20] = rng.uniform(0, 0.5, n)
    rot = np.stack([0.2 * np.sin(np.arange(n) / 10), 0.05 * np.cos(np.arange(n) / 7),
                    np.zeros(n)], axis=1).astype(np.float32)  # fmt: skip
    anim = BlendshapeAnimation(fps=25.0, weights=w, rotation=rot)

    def run():
        return sum(1 for _ in render_head_frames(anim, size=512, backend=backend))

    sec, frames = _timed(run)
    return dict(what=f"3D head render at 512 px ({backend})", frames=frames, seconds=sec)


def case_render3d_gl_512():
    return _render3d("gl")


def case_render3d_cpu_512():
    return _render3d("cpu")


def case_export_60s():
    import tempfile

    from talkinghead.audio.io import load_audio
    from talkinghead.audio.phones import Phone
    from talkinghead.export import FORMATS, export
    from talkinghead.inference import animate
    from talkinghead.models.blendshape_bridge import animation_to_blendshapes

    _need(SPEECH_60S)
    y, sr = load_audio(SPEECH_60S, sr=16000)
    anim = animate(y, sr=sr, fps=25.0)
    bs = animation_to_blendshapes(anim, y=y, sr=sr)
    phones = [Phone(*p) for p in anim.phones]
    with tempfile.TemporaryDirectory() as d:

        def run():
            for fmt, f in FORMATS.items():
                export(fmt, Path(d) / f"x{f.suffix}", anim=bs, phones=phones,
                       audio_duration=anim.duration)  # fmt: skip

        sec, _ = _timed(run)
    return dict(
        what=f"all {len(FORMATS)} export formats of a 60 s animation",
        audio_s=anim.duration,
        frames=anim.n_frames,
        seconds=sec,
    )


_RECIPE_DIMS = {  # recipe: (input dim, output dim)
    "eskimez2018": (128, 136),
    "sakurai2018": (40, 16),
    "pham2017": (537, 55),
    "fan2015": (124, 20),
}


def _recipe_inference(name: str):
    import numpy as np
    import torch

    from talkinghead.models.sequence import SequenceModel
    from talkinghead.recipes import get_recipe

    torch.manual_seed(0)
    recipe = get_recipe(name)
    d_in, d_out = _RECIPE_DIMS[name]
    rows = []
    for topo in sorted(recipe.topologies):
        model = SequenceModel(recipe.model_config(topo, input_dim=d_in, output_dim=d_out)).eval()
        x = np.random.default_rng(0).normal(size=(1500, d_in)).astype(np.float32)  # 60 s at 25 fps
        with torch.no_grad():
            model(torch.from_numpy(x[None, :50]))
            sec, _ = _timed(lambda m=model, xb=x: m(torch.from_numpy(xb[None])))
        n_par = sum(p.numel() for p in model.parameters())
        rows.append(f"{topo} {60 / sec:.0f}x ({n_par / 1e6:.2f} M params)")
    return dict(what=f"{name} inference, 60 s at 25 fps: " + ", ".join(rows), audio_s=None,
                frames=None, seconds=0.0)  # fmt: skip


def case_recipes_inference():
    out = [_recipe_inference(n)["what"] for n in _RECIPE_DIMS]
    return dict(what="; ".join(out), seconds=0.0)


CASES = {k[5:]: v for k, v in sorted(globals().items()) if k.startswith("case_")}
ORDER = [
    "audio_decode_wav",
    "audio_decode_mp4",
    "features_sakurai2018",
    "features_eskimez2018",
    "features_pham2017",
    "features_pham2017_44k",
    "tracking_256",
    "tracking_512",
    "render_sketch_256",
    "write_mp4_256",
    "animator_phonetic",
    "animator_default",
    "animator_whisper",
    "default_model_load",
    "prepare_1_worker",
    "prepare_2_workers",
    "fit3d",
    "render3d_gl_512",
    "render3d_cpu_512",
    "export_60s",
    "recipes_inference",
]


def run_case(name: str) -> dict:
    os.environ["TALKINGHEAD_PROGRESS"] = "0"
    try:
        res = CASES[name]()
    except FileNotFoundError as e:
        res = dict(what=name, skipped=str(e))
    res["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return res


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--case", choices=sorted(CASES), help="run one case in this process")
    ap.add_argument("--json", help="also write the results to this JSON file")
    ap.add_argument("--only", help="comma-separated cases to run (default: all, in order)")
    args = ap.parse_args()
    if args.case:
        print(json.dumps(run_case(args.case)))
        return
    order = ORDER
    if args.only:
        order = [c.strip() for c in args.only.split(",") if c.strip()]
        bad = [c for c in order if c not in CASES]
        if bad:
            ap.error(f"--only={args.only!r} must name cases among {sorted(CASES)}")
    rows = []
    for name in order:
        out = subprocess.run(
            [sys.executable, __file__, "--case", name], capture_output=True, text=True
        )
        if out.returncode != 0:
            rows.append(dict(case=name, what=name, skipped=f"failed: {out.stderr[-300:]}"))
            continue
        res = json.loads(out.stdout.strip().splitlines()[-1])
        res["case"] = name
        rows.append(res)
        print(f"  done {name}", file=sys.stderr)
    print("| case | what | x real time | ms / frame | frames/s | peak RSS MB |")
    print("|---|---|---:|---:|---:|---:|")
    for r in rows:
        if "skipped" in r:
            print(f"| {r['case']} | {r['what']} | skipped: {r['skipped']} | | | |")
            continue
        xrt = f"{r['audio_s'] / r['seconds']:.0f}" if r.get("audio_s") else "-"
        mspf = f"{1000 * r['seconds'] / r['frames']:.2f}" if r.get("frames") else "-"
        fps = f"{r['frames'] / r['seconds']:.0f}" if r.get("frames") else "-"
        print(f"| {r['case']} | {r['what']} | {xrt} | {mspf} | {fps} | {r['peak_rss_mb']:.0f} |")
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
