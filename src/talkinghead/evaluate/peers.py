"""Lip-sync peers run in their own virtualenvs: OpenFaceFX and pylipsync.

Each peer is pip-installed into ``WORK/<venv>`` (``python3 -m venv`` + pip, on first use;
pylipsync needs ``numpy<2.4`` and librosa) and run in a subprocess that re-enters this
file with ``--worker NAME --jobs JOBS.json`` (numpy and the peer only, no talkinghead) and
writes each clip's mouth opening as ``.npy``:

- ``openfacefx``: OpenFaceFX (PyPI ``openfacefx``) audio-only energy mode
  (``generate_from_energy``), its jaw-open channel ``aa`` sampled at the frame times;
- ``pylipsync``: pylipsync (PyPI ``pylipsync``, uLipSync-style MFCC templates),
  ``PhonemeAnalyzer().extract_phoneme_segments`` at 100 Hz; mouth opening = the sum of
  the volume-weighted vowel targets, averaged over the 10 ms values inside each frame.

Used by ``bench/peers.py`` and ``talkinghead evaluate --protocol`` (:mod:`.heldout`).
A peer that cannot be installed is reported, never fatal.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np

__all__ = ["PEERS", "DEFAULT_WORK", "run_peer", "peer_available", "ensure_venv"]

#: Default folder of the peers' virtualenvs (``bench/peers.py --work``).
DEFAULT_WORK = Path(os.environ.get("TALKINGHEAD_PEERS_DIR", "/tmp/th_peers"))

PEERS = {
    # name: (venv folder, pip requirements)
    "openfacefx": ("venv_ofx", ["openfacefx"]),
    "pylipsync": ("venv_pylipsync", ["numpy<2.4", "pylipsync", "librosa"]),
}


# ----------------------------------------------------------------------------- peer workers
# These run inside the peers' virtualenvs: numpy + the peer only, no talkinghead.
def _worker(name: str, jobs_path: str) -> int:
    jobs = json.loads(Path(jobs_path).read_text())
    if name == "openfacefx":
        from openfacefx import generate_from_energy

        for j in jobs:
            tr = generate_from_energy(j["wav"], fps=float(j["fps"]))
            ch = {c.name: c for c in tr.channels}.get("aa")
            t = np.arange(j["n_frames"]) / float(j["fps"])
            if ch is None or not ch.keys:
                o = np.zeros(len(t))
            else:
                o = np.interp(t, [k.time for k in ch.keys], [k.value for k in ch.keys])
            np.save(j["out"], o.astype(np.float64))
    elif name == "pylipsync":
        import librosa
        from pylipsync import PhonemeAnalyzer

        an = PhonemeAnalyzer()
        for j in jobs:
            y, sr = librosa.load(j["wav"], sr=None)
            segs = an.extract_phoneme_segments(y, sr, fps=100, return_seconds=True)
            tc = np.array([(s.start + s.end) / 2 for s in segs])
            op = np.array([sum(p.target for p in s.phonemes if p.name != "silence") for s in segs])
            # mean of the 10 ms values within each output frame (centred on k / fps)
            fps = float(j["fps"])
            t = np.arange(j["n_frames"]) / fps
            o = np.interp(t, tc, op)  # frames with no 10 ms value inside
            for k, tk in enumerate(t):
                inside = np.abs(tc - tk) < 0.5 / fps
                if inside.any():
                    o[k] = op[inside].mean()
            np.save(j["out"], o.astype(np.float64))
    else:
        print(f"unknown worker {name!r}", file=sys.stderr)
        return 2
    return 0


def peer_available(name: str, work: Path = DEFAULT_WORK) -> bool:
    """Whether the peer's virtualenv exists under ``work`` (it is not created here)."""
    return (Path(work) / PEERS[name][0] / "bin" / "python").is_file()


def ensure_venv(work: Path, name: str) -> tuple[Path | None, str]:
    """The Python of peer ``name``'s venv under ``work``, built on first use: ``(python,
    "ok" or "installed")``, or ``(None, why)`` when it cannot be built."""
    folder, reqs = PEERS[name]
    venv = work / folder
    py = venv / "bin" / "python"
    mod = "openfacefx" if name == "openfacefx" else "pylipsync"
    if py.is_file() and subprocess.run([py, "-c", f"import {mod}"]).returncode == 0:
        return py, "ok"
    try:
        subprocess.run(["python3", "-m", "venv", str(venv)], check=True, capture_output=True)
        r = subprocess.run(
            [str(py), "-m", "pip", "install", "-q", *reqs], capture_output=True, text=True
        )
    except (OSError, subprocess.CalledProcessError) as e:
        return None, f"venv creation failed: {e}"
    if r.returncode != 0:
        return None, "pip install failed: " + r.stderr.strip().splitlines()[-1][:300]
    return py, "installed"


def run_peer(name: str, clips: list[dict], work: Path) -> tuple[dict | None, str]:
    """Run a peer on every clip in its venv; returns {clip id: openness (T,)} or None."""
    py, why = ensure_venv(work, name)
    if py is None:
        return None, why
    out_dir = work / "pred" / name
    out_dir.mkdir(parents=True, exist_ok=True)
    jobs = [
        dict(
            wav=c["wav"], fps=c["fps"], n_frames=c["n_frames"], out=str(out_dir / f"{c['id']}.npy")
        )
        for c in clips
    ]
    jp = work / f"jobs_{name}.json"
    jp.write_text(json.dumps(jobs))
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    r = subprocess.run(
        [str(py), str(Path(__file__).resolve()), "--worker", name, "--jobs", str(jp)],
        capture_output=True, text=True, env=env, cwd=str(work),
    )  # fmt: skip
    if r.returncode != 0:
        return None, "worker failed: " + (r.stderr.strip().splitlines() or ["?"])[-1][:300]
    return {c["id"]: np.load(out_dir / f"{c['id']}.npy") for c in clips}, why


if __name__ == "__main__":  # the worker, inside a peer's virtualenv
    import argparse

    ap = argparse.ArgumentParser()
    ap.add_argument("--worker", required=True)
    ap.add_argument("--jobs", required=True)
    a = ap.parse_args()
    raise SystemExit(_worker(a.worker, a.jobs))
