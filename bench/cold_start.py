"""The user's path, timed as a user runs it: every command a fresh process (cold start).

``bench/run.py`` times the work inside one warm process; a user who types
``talkinghead animate speech.wav -o face.npz`` also pays for starting Python and importing
what the command needs, which for short speech is most of the time. Each row here is the
whole command, from ``exec`` to exit, in a new process (the disk cache is warm: one
untimed run of every command comes first). Every row is paired with ``openfacefx energy``
(OpenFaceFX 0.24, audio-only energy mode, the cheapest peer: numpy only) on the same speech
(the same wav; for ``say`` the sentence synthesised once with the same espeak-ng settings),
run right after it in the same repeat, and the median of the per-pair ratios is reported,
of wall time and of CPU time (user + sys): the machine is shared, so ratios from paired
runs are steadier than the seconds. Peak RSS is the command's own (``ru_maxrss``).

OpenFaceFX runs from its own virtualenv, the one ``bench/peers.py`` uses
(:mod:`talkinghead.evaluate.peers`, ``--work``; created with pip on first use, numpy +
a 0.7 MB wheel); its rows are left out with the reason where that fails.

Usage::

    python bench/cold_start.py [--repeat 5] [--work /tmp/th_peers] [--json out.json] [--only npz]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DATA = Path(os.environ.get("TALKINGHEAD_SHARED_DATA", REPO.parent / "shared" / "data"))
SPEECH_60S = DATA / "TMElyralab__MuseTalk/data/audio/eng.wav"  # 60.0 s, 16 kHz mono
PHOTO_VIDEO = DATA / "tanshuai0219__EDTalk/test_data/uncrop_Obama.mp4"  # first frame = photo
SENTENCE = "The quick brown fox jumps over the lazy dog near the river bank."


def _run(argv: list[str], env: dict) -> tuple[float, float, float, int, str]:
    """(wall s, CPU s (user + sys), peak RSS MB, exit status, stderr tail) of one process."""
    t0 = time.perf_counter()
    p = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    err = p.stderr.read()
    _, status, ru = os.wait4(p.pid, 0)
    wall = time.perf_counter() - t0
    p.returncode = os.waitstatus_to_exitcode(status)
    cpu = ru.ru_utime + ru.ru_stime
    return wall, cpu, ru.ru_maxrss / 1024.0, p.returncode, err.decode("utf-8", "replace")[-400:]


def _inputs(work: Path) -> dict:
    """3 s and 60 s of real speech as 16-bit wavs, and a photo (one real video frame)."""
    import numpy as np
    import soundfile as sf

    from talkinghead.audio.io import load_audio

    y, sr = load_audio(SPEECH_60S, sr=16000)
    out = {"s60": work / "speech_60s.wav", "s3": work / "speech_3s.wav"}
    sf.write(out["s60"], y, sr, subtype="PCM_16")
    sf.write(out["s3"], y[: 3 * sr], sr, subtype="PCM_16")
    out["say"] = None
    try:  # the sentence `say` speaks, synthesised as `say` does, for its peer
        from talkinghead.audio.tts import synthesize

        out["say"] = synthesize(SENTENCE, work / "say_sentence.wav")
    except Exception as e:  # espeak-ng missing: the say row is skipped
        out["say_skip"] = f"{type(e).__name__}: {e}"
    out["photo"] = None
    if PHOTO_VIDEO.exists():
        try:
            import cv2

            from talkinghead.video.io import read_video

            frame = read_video(PHOTO_VIDEO, max_frames=1).frames[0]
            out["photo"] = work / "photo.jpg"
            cv2.imwrite(str(out["photo"]), np.ascontiguousarray(frame[:, :, ::-1]))
        except Exception as e:  # cv2 or the video unavailable: the photo row is skipped
            out["photo_skip"] = f"{type(e).__name__}: {e}"
    return out


def _openfacefx(work: Path) -> tuple[Path | None, str]:
    """The ``openfacefx`` program of the peers' virtualenv (made there if needed)."""
    code = ("from pathlib import Path; from talkinghead.evaluate.peers import ensure_venv; "
            f"py, why = ensure_venv(Path({str(work)!r}), 'openfacefx'); "
            "print(py or '', why, sep='|')")  # fmt: skip
    env = dict(os.environ, PYTHONPATH=str(REPO / "src"))
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    if res.returncode != 0:
        return None, "talkinghead.evaluate.peers failed: " + res.stderr.strip()[-200:]
    py, why = res.stdout.strip().splitlines()[-1].split("|", 1)
    exe = Path(py).parent / "openfacefx" if py else None
    return (exe, why) if exe is not None and exe.exists() else (None, why)


def _cases(inp: dict, out: Path) -> list[dict]:
    """The commands; ``peer_wav``: the speech its paired ``openfacefx energy`` run reads."""
    th = [sys.executable, "-m", "talkinghead", "-q"]
    s3, s60 = str(inp["s3"]), str(inp["s60"])
    cases = []

    def add(name, argv, speech_s, peer_wav, skip=None, env=None):
        cases.append(dict(name=name, argv=argv, speech_s=speech_s, peer_wav=peer_wav,
                          skip=skip, env=env or {}))  # fmt: skip

    for label, wav, sec in (("3 s", s3, 3.0), ("60 s", s60, 60.0)):
        tag = label.replace(" ", "")
        add(f"animate {label} -> npz", [*th, "animate", wav, "-o", str(out / f"a{tag}.npz")],
            sec, wav)  # fmt: skip
        if sec == 60.0:  # the CLI picks one BLAS thread per idle core; forced to one here
            add(f"animate {label} -> npz, 1 BLAS thread",
                [*th, "animate", wav, "-o", str(out / f"b{tag}.npz")], sec, wav,
                env={"OPENBLAS_NUM_THREADS": "1"})  # fmt: skip
        add(f"animate {label} -> npz --closures whisper",
            [*th, "animate", wav, "-o", str(out / f"c{tag}.npz"), "--closures", "whisper"],
            sec, wav)  # fmt: skip
        add(f"animate {label} -> mp4 (sketch)",
            [*th, "animate", wav, "-o", str(out / f"a{tag}.mp4")], sec, wav)  # fmt: skip
        add(f"animate {label} -> glb", [*th, "animate", wav, "-o", str(out / f"a{tag}.glb"),
                                        "--format", "glb"], sec, wav)  # fmt: skip
    say = inp.get("say")
    add("say one sentence -> mp4", [*th, "say", SENTENCE, "-o", str(out / "say.mp4")],
        _wav_seconds(say), str(say) if say else None,
        skip=None if say else inp.get("say_skip", "espeak-ng not installed"))  # fmt: skip
    photo = inp.get("photo")
    add("animate 3 s --photo -> mp4 (256 px)",
        [*th, "animate", s3, "--photo", str(photo), "--size", "256", "-o",
         str(out / "photo.mp4")] if photo else [], 3.0, s3,
        skip=None if photo else inp.get("photo_skip", "no photo"))  # fmt: skip
    code = f"import talkinghead; a = talkinghead.animate({s3!r}); assert a.n_frames == 75"
    add("python: import talkinghead; animate(3 s)", [sys.executable, "-c", code], 3.0, s3)
    return cases


def _wav_seconds(path) -> float | None:
    if not path:
        return None
    import wave

    with wave.open(str(path)) as w:
        return w.getnframes() / w.getframerate()


def _peer_argv(ofx: Path | None, wav: str | None, out: Path) -> list[str] | None:
    if ofx is None or wav is None:
        return None
    return [str(ofx), "energy", "--wav", wav, "--fps", "25", "-o", str(out / "ofx.json")]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repeat", type=int, default=5, help="timed runs of each command (5)")
    ap.add_argument("--work", default="/tmp/th_peers", help="peers' virtualenvs (bench/peers.py)")
    ap.add_argument("--json", help="also write the rows to this JSON file")
    ap.add_argument("--only", help="only the commands whose row name contains this text")
    ap.add_argument("--make-inputs", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.make_inputs:
        inp = _inputs(Path(args.make_inputs))
        print(json.dumps({k: (str(v) if isinstance(v, Path) else v) for k, v in inp.items()}))
        return 0
    if not SPEECH_60S.exists():
        print(f"needs {SPEECH_60S} (../shared/data)", file=sys.stderr)
        return 1
    # as a user runs them: no thread-count variables (the CLI picks its BLAS threads; the
    # shared machines' etiquette sets OPENBLAS_NUM_THREADS=1, which would pin both sides)
    threads = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
    env = {k: v for k, v in os.environ.items() if v != "" and k not in threads}
    env["PYTHONPATH"] = os.pathsep.join([str(REPO / "src"), env.get("PYTHONPATH", "")])
    # bytecode as `pip install` leaves it (a wheel install compiles .pyc; the peers' venvs have
    # theirs): with PYTHONDONTWRITEBYTECODE set, as on our CI machines, an editable checkout
    # would otherwise compile ~50 modules in every run (~80 ms of a 0.45 s command)
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(REPO / "src" / "talkinghead")],
                   env={k: v for k, v in env.items() if k != "PYTHONDONTWRITEBYTECODE"},
                   capture_output=True)  # fmt: skip
    ofx, ofx_why = _openfacefx(Path(args.work))
    with tempfile.TemporaryDirectory(prefix="th_cold_") as tmp:
        tmp = Path(tmp)
        # made in a child process: this one stays small, so that a child's peak RSS (which
        # counts the forked copy of this process before exec) is the command's own
        made = subprocess.run([sys.executable, __file__, "--make-inputs", str(tmp)], env=env,
                              capture_output=True, text=True)  # fmt: skip
        if made.returncode != 0:
            print(made.stderr, file=sys.stderr)
            return 1
        inp = {k: (Path(v) if not k.endswith("_skip") and v else v)
               for k, v in json.loads(made.stdout.strip().splitlines()[-1]).items()}  # fmt: skip
        cases = [c for c in _cases(inp, tmp) if not args.only or args.only in c["name"]]
        runs: dict[str, dict[str, list]] = {c["name"]: {k: [] for k in ("wall", "cpu", "pw", "pc")}
                                             for c in cases}  # fmt: skip
        mem: dict[str, float] = {}
        errors: dict[str, str] = {}
        load0 = os.getloadavg()
        for rep in range(args.repeat + 1):  # repeat 0: untimed warm-up (.pyc, disk cache)
            for c in cases:
                if c["skip"] or c["name"] in errors:
                    continue
                wall, cpu, rss, rc, err = _run(c["argv"], {**env, **c["env"]})
                if rc != 0:
                    errors[c["name"]] = f"exit {rc}: {err.strip().splitlines()[-1:]}"
                    continue
                # its peer, right after it, on the same speech (same moment, same file)
                peer = _peer_argv(ofx, c["peer_wav"], tmp)
                pw = pc = None
                if peer is not None:
                    pw, pc, _, prc, perr = _run(peer, env)
                    if prc != 0:
                        ofx, ofx_why = None, f"openfacefx failed: {perr.strip()[-200:]}"
                        pw = pc = None
                if rep:
                    r = runs[c["name"]]
                    r["wall"].append(wall)
                    r["cpu"].append(cpu)
                    mem[c["name"]] = max(mem.get(c["name"], 0.0), rss)
                    if pw is not None:
                        r["pw"].append(pw)
                        r["pc"].append(pc)
            print(f"  repeat {rep}/{args.repeat} done", file=sys.stderr)
        load1 = os.getloadavg()
    rows = []
    for c in cases:
        r = dict(name=c["name"], speech_s=c["speech_s"])
        t = runs[c["name"]]
        if c["skip"] or c["name"] in errors or not t["wall"]:
            r["skipped"] = c["skip"] or errors.get(c["name"], "no run")
            rows.append(r)
            continue
        r.update(median_s=statistics.median(t["wall"]), min_s=min(t["wall"]),
                 cpu_s=statistics.median(t["cpu"]), peak_mb=mem[c["name"]], runs=t["wall"],
                 cpu_runs=t["cpu"])  # fmt: skip
        if t["pw"] and len(t["pw"]) == len(t["wall"]):  # the ratio of each pair, then the median
            wr = [a / b for a, b in zip(t["wall"], t["pw"], strict=True)]
            cr = [a / b for a, b in zip(t["cpu"], t["pc"], strict=True)]
            r.update(peer_s=statistics.median(t["pw"]), peer_cpu_s=statistics.median(t["pc"]),
                     peer_runs=t["pw"], peer_cpu_runs=t["pc"], vs_peer=statistics.median(wr),
                     vs_peer_cpu=statistics.median(cr))  # fmt: skip
        rows.append(r)
    print(f"\nload average {load0[0]:.2f} -> {load1[0]:.2f} (1 min), {os.cpu_count()} CPUs; "
          f"{args.repeat} timed runs each; OpenFaceFX: {ofx_why}\n")  # fmt: skip
    print("| command (fresh process) | speech s | wall s (median) | min s | CPU s | x real time "
          "| peak RSS MB | openfacefx energy, same speech, same repeat: wall s (CPU s) "
          "| ratio: wall (CPU) |")  # fmt: skip
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        sp = "-" if r["speech_s"] is None else f"{r['speech_s']:.3g}"
        if "skipped" in r:
            print(f"| {r['name']} | {sp} | skipped: {r['skipped']} | | | | | | |")
            continue
        xrt = "-" if r["speech_s"] is None else f"{r['speech_s'] / r['median_s']:.0f}"
        peer = f"{r['peer_s']:.2f} ({r['peer_cpu_s']:.2f})" if "peer_s" in r else "-"
        ratio = f"{r['vs_peer']:.2f}x ({r['vs_peer_cpu']:.2f}x)" if "vs_peer" in r else "-"
        print(f"| {r['name']} | {sp} | {r['median_s']:.2f} | {r['min_s']:.2f} | {r['cpu_s']:.2f} "
              f"| {xrt} | {r['peak_mb']:.0f} | {peer} | {ratio} |")  # fmt: skip
    if args.json:
        Path(args.json).write_text(json.dumps(dict(load=[load0, load1], rows=rows), indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
