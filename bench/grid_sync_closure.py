"""Are the GRID copies of ../shared/data/hunt in sync? An independent check by lip closures.

For GRID clips (sentence from the file name), the audio is forced-aligned
(:func:`talkinghead.audio.phones.align`) and, for each lag L within +-480 ms (12 frames at
25 fps), the mean standardised tracked lip gap at the /p b m/ centres shifted by L is taken;
the L of the deepest closure is the clip's closure lag (negative: the lips close before the
acoustic centre, as real /p b/ closures precede their burst). A copy whose audio is offset
by D shifts its closure lag by about D. Prints each group's lags and median.

Not a test. Usage: ``python bench/grid_sync_closure.py [--data ../shared/data]``
"""

from __future__ import annotations

import argparse
import glob
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]


def closure_lag_ms(path: str) -> float | None:
    from talkinghead.audio import phones as ph
    from talkinghead.audio.io import load_audio
    from talkinghead.corpora.grid import code_of, decode_grid
    from talkinghead.errors import InvalidArgumentError
    from talkinghead.face.landmarks68 import mouth_openness_mesh
    from talkinghead.face.tracking import track_video

    try:
        words = decode_grid(code_of(Path(path).stem))
    except InvalidArgumentError:
        return None
    y, sr = load_audio(path, sr=16000)
    try:
        al = ph.align(y=y, sr=sr, transcript=" ".join(words))
    except ph.AlignmentError:
        return None
    cs = [p.centre for p in al.phones if p.label in ("P", "B", "M")]
    if not cs:
        return None
    tr = track_video(path, progress=False)
    fps = float(tr.fps)
    ap = mouth_openness_mesh(np.asarray(tr.mesh, float))
    ap[~np.asarray(tr.valid, bool)] = np.nan
    ap = (ap - np.nanmean(ap)) / np.nanstd(ap)
    lags = np.arange(-12, 13)
    score = []
    for L in lags:
        v = [ap[int(round(c * fps)) + L] for c in cs if 0 <= int(round(c * fps)) + L < len(ap)]
        score.append(np.nanmean(v) if v else np.nan)
    return float(lags[int(np.nanargmin(score))] * 1000 / fps)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default=str(REPO.parent / "shared" / "data"))
    args = ap.parse_args(argv)
    h = f"{args.data}/hunt/"
    sp = h + "spcnz__lip-reading/data/"

    def g(pattern: str, step: int) -> list[str]:
        return sorted(glob.glob(pattern, recursive=True))[::step]

    groups = {
        "spcnz s30-s33": g(sp + "demo_videos_multy/s3[0-3]/*.mp4", 5),
        "spcnz s2-s5": g(sp + "demo_videos_single/s[2-5]/*.mp4", 8),
        "spcnz s34": g(sp + "demo_videos_multy/s34/*.mp4", 3),
        "lipnet_pytorch": g(h + "souvikg544__lipnet_pytorch/**/*.mp4", 3),
        "vid2speech s4": g(h + "arielephrat__vid2speech/**/*.mp4", 2),
        "grid_s1 (reference)": g(f"{args.data}/grid_s1/video/*.mp4", 1)[:8],
    }
    print("| copies | clips | closure lag per clip (ms) | median |")
    print("|---|---|---|---|")
    for name, files in groups.items():
        lags = [x for x in (closure_lag_ms(f) for f in files) if x is not None]
        cells = " ".join(f"{x:+.0f}" for x in lags)
        med = f"{np.median(lags):+.0f}" if lags else "-"
        print(f"| {name} | {len(lags)} | {cells} | {med} |", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
