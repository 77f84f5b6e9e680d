"""Shared machinery of the corpus recipes: track, compute features, QC, write, resume.

A recipe lists the :class:`~talkinghead.corpora.manifest.Recording` s of a corpus (ids,
paths and labels); :func:`prepare` does the rest, one recording at a time
(:func:`process_recording`), in this process, in a pool of processes (``num_jobs``) or on
a Ray cluster (``backend="ray"``):

1. probe the video; load the audio (the video's own track, or a paired ``.wav`` with
   the same stem) at ``sr`` Hz;
2. track the face (:func:`talkinghead.face.tracking.track_video`);
3. compute the audio feature sets at the video frame rate, one row per tracked frame;
4. cut the recording into clips (the whole recording, or windows of ``window`` frames);
5. quality control per clip (:mod:`talkinghead.corpora.qc`): accept, flag or reject;
6. write each clip's arrays as ``arrays/<clip>.npz`` atomically, then append its
   manifest lines (clips first, then the recording line, which marks it done).

Resuming: a rerun reads ``recordings.jsonl`` (ignoring a torn last line), drops clip lines
of recordings that were not finished, and skips every finished recording whose arrays
exist. At the end the manifests are rewritten sorted by id, so an interrupted and resumed
run gives the same files as an uninterrupted one. ``prepare.log`` records one ``done``
line per processed recording (and ``skip`` / ``failed`` lines).

For ``backend="ray"`` the output folder must be on a file system the Ray workers share
with the driver (they write the arrays), and talkinghead must be importable there.
"""

from __future__ import annotations

import contextlib
import logging
import os
import time
import warnings
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import numpy as np

from .._util.atomic import save_npz_atomic, write_text_atomic
from ..errors import DependencyError, InvalidArgumentError, MediaError, NoAudioStreamError
from .manifest import Clip, Recording, append_jsonl, read_jsonl, write_jsonl
from .qc import QCConfig, clip_qc, format_qc_summary, summarize_qc, sync_verdict

__all__ = [
    "DEFAULT_FEATURES",
    "VIDEO_EXTS",
    "PrepareOptions",
    "PrepareResult",
    "prepare",
    "process_recording",
    "find_videos",
    "paired_audio",
    "split_prepare_kwargs",
    "requalify",
]

log = logging.getLogger("talkinghead.corpora")

DEFAULT_FEATURES = ("sakurai2018", "eskimez2018", "pham2017")
VIDEO_EXTS = (".mp4", ".mpg", ".mpeg", ".avi", ".flv", ".mov", ".mkv", ".webm", ".m4v")
AUDIO_EXTS = (".wav", ".flac")


@dataclass(frozen=True)
class PrepareOptions:
    """How each recording is processed.

    Attributes
    ----------
    features : tuple of str
        Audio feature sets (keys of :data:`talkinghead.audio.features.FEATURE_SETS`).
    size : int or None
        Track on frames scaled so that the longer side is at most ``size`` (None: full
        size). Landmarks are in the pixels of the scaled frames.
    max_frames : int or None
        Use only the first ``max_frames`` frames of each recording.
    window : int or None
        Cut each recording into clips of ``window`` frames (None: one clip per recording).
    hop : int or None
        Frames between window starts (default ``window``: no overlap).
    min_window : int or None
        Keep a last, shorter window only if it has at least this many frames
        (default ``window // 2``).
    sr : int
        Sample rate at which the audio is analysed (16000).
    qc : QCConfig
        Quality-control thresholds.
    """

    features: tuple = DEFAULT_FEATURES
    size: int | None = None
    max_frames: int | None = None
    window: int | None = None
    hop: int | None = None
    min_window: int | None = None
    sr: int = 16000
    qc: QCConfig = field(default_factory=QCConfig)

    def __post_init__(self):
        from ..audio.features import FEATURE_SETS

        feats = tuple(self.features)
        for name in feats:
            if name not in FEATURE_SETS:
                raise InvalidArgumentError(
                    f"features={list(feats)!r} must name sets among {sorted(FEATURE_SETS)}"
                )
        object.__setattr__(self, "features", feats)
        for name in ("size", "max_frames", "window", "hop", "min_window", "sr"):
            v = getattr(self, name)
            if v is None:
                continue
            if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v <= 0:
                raise InvalidArgumentError(f"{name}={v!r} must be a positive int or None")
        if self.window is None and (self.hop is not None or self.min_window is not None):
            raise InvalidArgumentError(f"hop={self.hop!r} needs window=... (frames per clip)")

    def to_dict(self) -> dict:
        d = asdict(self)
        d["features"] = list(self.features)
        return d


@dataclass
class PrepareResult:
    """What :func:`prepare` did.

    Attributes
    ----------
    out_dir : Path
    recordings : int
        Recordings in the corpus listing.
    processed, skipped : int
        Recordings processed by this run / skipped because a previous run finished them.
    failed : int
        Recordings whose processing raised (listed as rejected clips with the error).
    crashed : int
        Recordings whose worker died (e.g. killed, out of memory): logged in
        ``prepare.log`` but not written to the manifests, so a rerun retries them.
    clips, ok, rejected : int
        Clips in the manifest after this run (all runs together).
    frames : int
        Frames processed by this run.
    seconds : float
        Wall time of this run.
    """

    out_dir: Path
    recordings: int = 0
    processed: int = 0
    skipped: int = 0
    failed: int = 0
    crashed: int = 0
    clips: int = 0
    ok: int = 0
    rejected: int = 0
    frames: int = 0
    seconds: float = 0.0

    @property
    def frames_per_second(self) -> float:
        return self.frames / self.seconds if self.seconds > 0 else 0.0


# --------------------------------------------------------------------------- listing helpers


def find_videos(root: str | os.PathLike, *, exts: Iterable[str] = VIDEO_EXTS) -> list[Path]:
    """Video files under ``root`` (recursively, following symlinks), sorted.

    Raises
    ------
    MediaError
        ``root`` is not a directory.
    """
    root = Path(root)
    if not root.is_dir():
        raise MediaError(f"corpus_dir={str(root)!r} must be an existing directory")
    exts = {e.lower() for e in exts}
    out = []
    for dirpath, _dirs, files in os.walk(root, followlinks=True):
        for f in files:
            if not f.startswith(".") and Path(f).suffix.lower() in exts:
                out.append(Path(dirpath) / f)
    return sorted(out)


def paired_audio(video: str | os.PathLike) -> str:
    """The audio of ``video``: a ``.wav``/``.flac`` with the same stem beside it, else itself."""
    v = Path(video)
    for ext in AUDIO_EXTS:
        cand = v.with_suffix(ext)
        if cand.is_file():
            return os.path.abspath(cand)
    return os.path.abspath(v)


def _file_id(clip_id: str) -> str:
    return "".join(c if (c.isalnum() or c in "-_.@") else "__" for c in clip_id)


# --------------------------------------------------------------------------- one recording


def process_recording(rec: Recording | dict, out_dir: str, options: PrepareOptions) -> dict:
    """Process one recording (runs in a worker): returns its manifest lines.

    Never raises for a bad input file: an unreadable video, a failed tracker or any
    other error becomes a rejected clip whose reason names the error.

    Returns
    -------
    dict
        ``{"recording": dict, "clips": [dict, ...], "frames": int, "seconds": float,
        "pid": int, "error": str or None}``
    """
    t0 = time.perf_counter()
    rec = Recording.from_dict(rec) if isinstance(rec, dict) else replace(rec)
    rec.extra = dict(rec.extra)
    try:
        clips, frames = _process(rec, Path(out_dir), options)
        error = None
    except Exception as e:  # noqa: BLE001 - reported as a rejected clip, never silently dropped
        error = f"{type(e).__name__}: {e}"
        reason = f"unreadable: {error}" if isinstance(e, MediaError) else f"failed: {error}"
        clips, frames = [Clip(id=rec.id, recording=rec.id, status="rejected", reasons=[reason])], 0
    return {
        "recording": rec.to_dict(),
        "clips": [c.to_dict() for c in clips],
        "frames": frames,
        "seconds": time.perf_counter() - t0,
        "pid": os.getpid(),
        "error": error,
    }


def _process(rec: Recording, out_dir: Path, opts: PrepareOptions) -> tuple[list[Clip], int]:
    from ..audio.features import compute_features
    from ..audio.io import load_audio
    from ..face.landmarks68 import mouth_openness_mesh
    from ..face.tracking import track_video
    from ..video.io import probe_video

    info = probe_video(rec.video)
    rec.fps, rec.width, rec.height = float(info.fps), int(info.width), int(info.height)
    rec.n_frames, rec.duration = int(info.n_frames), float(info.duration)

    y = None
    audio_note = None
    if rec.audio is not None:
        if os.path.abspath(rec.audio) == os.path.abspath(rec.video) and not info.has_audio:
            rec.audio = None
        else:
            try:
                y, sr = load_audio(rec.audio, sr=opts.sr)
            except NoAudioStreamError:
                rec.audio = None
            except MediaError as e:
                audio_note = f"audio unreadable: {e}"
                y = None
    rec.has_audio = y is not None
    sr = opts.sr

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        track = track_video(rec.video, size=opts.size, max_frames=opts.max_frames, progress=False)
    # only warnings about this file (library warnings, e.g. on first import, would make
    # the manifests depend on which worker processed a clip)
    messages = [str(w.message) for w in caught if rec.video in str(w.message)]
    truncated = [
        str(w.message)
        for w in caught
        if issubclass(w.category, RuntimeWarning) and "truncated" in str(w.message)
    ]
    n = int(len(track.valid))
    fps = float(track.fps) if track.fps else rec.fps
    if n == 0:
        raise MediaError(f"path={rec.video!r} decoded no frames; expected a video")

    feats: dict[str, np.ndarray] = {}
    if y is not None:
        for name in opts.features:
            feats[name] = np.asarray(
                compute_features(name, y=y, sr=sr, fps=fps, n_frames=n), dtype=np.float32
            )
    mesh = np.asarray(track.mesh, dtype=np.float32)
    scale = getattr(track, "scale", None)
    if scale is None:
        scale = np.full(n, np.nan, dtype=np.float32)
    aperture = mouth_openness_mesh(mesh).astype(np.float32)
    aperture[~np.asarray(track.valid, dtype=bool)] = np.nan

    expected = rec.n_frames if opts.max_frames is None else min(rec.n_frames, opts.max_frames)
    common_flags = []
    if truncated or (expected and n < expected - 1):
        common_flags.append("truncated")
    if audio_note:
        common_flags.append("audio_unreadable")

    if opts.window is None:
        starts = [0]
        win = n
    else:
        win = opts.window
        hop = opts.hop or win
        min_win = opts.min_window or max(1, win // 2)
        starts = [s for s in range(0, n, hop) if min(win, n - s) >= min_win]
        if not starts:
            starts = [0]

    audio_dur = len(y) / sr if y is not None else None
    clips = []
    for s in starts:
        e = min(n, s + win)
        cid = rec.id if opts.window is None else f"{rec.id}@{s:06d}"
        sl = slice(s, e)
        qc, flags, reasons = clip_qc(
            n_faces=track.n_faces[sl],
            valid=track.valid[sl],
            landmarks68=track.landmarks68[sl],
            aperture=aperture[sl],
            fps=fps,
            y=y,
            sr=sr,
            audio_start_s=s / fps,
            video_duration_s=rec.duration if opts.max_frames is None else None,
            audio_duration_s=audio_dur if opts.max_frames is None else None,
            config=opts.qc,
        )
        if messages:
            qc["warnings"] = messages[:3]
        if audio_note:
            qc["audio_error"] = audio_note
        qc["decoded_frames"] = n
        qc["expected_frames"] = int(expected)
        arrays = {
            "times": np.asarray(track.times[sl], dtype=np.float64),
            "mesh": mesh[sl],
            "landmarks68": np.asarray(track.landmarks68[sl], dtype=np.float32),
            "rotation": np.asarray(track.rotation[sl], dtype=np.float32),
            "translation": np.asarray(track.translation[sl], dtype=np.float32),
            "scale": np.asarray(scale[sl], dtype=np.float32),
            "confidence": np.asarray(track.confidence[sl], dtype=np.float32),
            "n_faces": np.asarray(track.n_faces[sl], dtype=np.int16),
            "valid": np.asarray(track.valid[sl], dtype=bool),
            "lip_aperture": aperture[sl],
        }
        for name, f in feats.items():
            arrays[f"audio_{name}"] = f[sl]
        rel = f"arrays/{_file_id(cid)}.npz"
        save_npz_atomic(out_dir / rel, **arrays)
        clips.append(
            Clip(
                id=cid,
                recording=rec.id,
                path=rel,
                start_frame=int(s),
                n_frames=int(e - s),
                fps=fps,
                features={k: int(v.shape[1]) for k, v in feats.items()},
                qc=qc,
                flags=common_flags + flags,
                status="rejected" if reasons else "ok",
                reasons=reasons,
            )
        )
    return clips, n


# --------------------------------------------------------------------------- resume


def _recover(out_dir: Path) -> set[str]:
    """Ids of finished recordings; rewrites the manifests without torn or orphan lines."""
    rec_path, clip_path = out_dir / "recordings.jsonl", out_dir / "clips.jsonl"
    recs = [d for d in read_jsonl(rec_path) if isinstance(d, dict) and "id" in d]
    clips = [d for d in read_jsonl(clip_path) if isinstance(d, dict) and "recording" in d]
    by_rec: dict[str, list[dict]] = {}
    for c in clips:
        by_rec.setdefault(c["recording"], []).append(c)
    done = set()
    keep_recs = []
    for r in recs:
        cs = by_rec.get(r["id"], [])
        if r["id"] in done or not cs:
            continue
        if all(c.get("status") != "ok" or (out_dir / str(c.get("path"))).is_file() for c in cs):
            done.add(r["id"])
            keep_recs.append(r)
    keep_clips = [c for c in clips if c["recording"] in done]
    # de-duplicate clip lines (a recording appended twice by a crash between two runs)
    seen, uniq = set(), []
    for c in keep_clips:
        if c["id"] not in seen:
            seen.add(c["id"])
            uniq.append(c)
    if rec_path.exists() and (len(keep_recs) != _count_lines(rec_path)):
        write_jsonl(rec_path, keep_recs)
    if clip_path.exists() and (len(uniq) != _count_lines(clip_path)):
        write_jsonl(clip_path, uniq)
    _restore_done_lines(out_dir, [r["id"] for r in keep_recs])
    return done


def _restore_done_lines(out_dir: Path, committed: list[str]) -> None:
    """Log ``done`` for recordings committed just before a kill that cut off their log line."""
    log_path = out_dir / "prepare.log"
    logged = set()
    if log_path.is_file():
        for line in log_path.read_text(encoding="utf-8", errors="replace").splitlines():
            parts = line.split()
            if len(parts) >= 3 and parts[1] == "done":
                logged.add(parts[2])
    for rid in committed:
        if rid not in logged:
            _log_line(out_dir, f"done {rid} (committed before the interruption; log restored)")


def _count_lines(path: Path) -> int:
    with open(path, "rb") as f:
        data = f.read()
    return data.count(b"\n") + (0 if not data or data.endswith(b"\n") else 1)


def _log_line(out_dir: Path, text: str) -> None:
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S")
    with open(out_dir / "prepare.log", "a", encoding="utf-8") as f:
        f.write(f"{stamp} {text}\n")
        f.flush()
        os.fsync(f.fileno())


# --------------------------------------------------------------------------- backends


def _run_local(todo, out_dir: str, opts: PrepareOptions, num_jobs: int) -> Iterator[dict]:
    if num_jobs == 1:
        for rec in todo:
            yield process_recording(rec, out_dir, opts)
        return
    import multiprocessing as mp
    from concurrent.futures import ProcessPoolExecutor, as_completed

    from .._util.signals import worker_init

    ctx = mp.get_context("spawn")  # mediapipe is created per process, never forked
    # workers die with this process (PR_SET_PDEATHSIG), even when it is SIGKILLed
    pool = ProcessPoolExecutor(
        max_workers=num_jobs, mp_context=ctx, initializer=worker_init, initargs=(os.getpid(),)
    )
    try:
        futures = {pool.submit(process_recording, rec, out_dir, opts): rec for rec in todo}
        for fut in as_completed(futures):
            rec = futures[fut]
            try:
                yield fut.result()
            except Exception as e:  # noqa: BLE001 - a crashed worker (e.g. killed) is reported
                msg = f"failed: worker crashed: {type(e).__name__}: {e}"
                yield {
                    "recording": rec.to_dict(),
                    "clips": [Clip(rec.id, rec.id, status="rejected", reasons=[msg]).to_dict()],
                    "frames": 0,
                    "seconds": 0.0,
                    "pid": -1,
                    "error": msg,
                    "crashed": True,
                }
    except BaseException:  # Ctrl-C, SIGTERM, a stopped consumer: stop the workers now
        _stop_workers(pool)
        raise
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def _stop_workers(pool) -> None:
    """SIGTERM the pool's workers (they remove their temporary files and exit)."""
    for p in list((getattr(pool, "_processes", None) or {}).values()):
        with contextlib.suppress(Exception):
            p.terminate()


def _run_ray(todo, out_dir: str, opts, num_jobs: int, address: str | None) -> Iterator[dict]:
    try:
        import ray
    except ImportError as e:
        raise DependencyError(
            "backend='ray' needs the ray package: pip install 'ray>=2.9' "
            f"(or pip install 'talkinghead[ray]'); import failed: {e}"
        ) from None
    started = False
    if not ray.is_initialized():
        kw = {"include_dashboard": False, "log_to_driver": False}
        if address is None:
            kw["num_cpus"] = num_jobs
        ray.init(address=address, **kw)
        started = True
    try:
        remote = ray.remote(num_cpus=1, max_retries=1)(process_recording)
        pending = [remote.remote(rec.to_dict(), out_dir, opts) for rec in todo]
        while pending:
            ready, pending = ray.wait(pending, num_returns=1)
            for ref in ready:
                yield ray.get(ref)
    finally:
        if started:
            ray.shutdown()


# --------------------------------------------------------------------------- driver


_OPTION_NAMES = {f for f in PrepareOptions.__dataclass_fields__}
_RUN_NAMES = {"backend", "address", "progress", "limit"}


def split_prepare_kwargs(kw: dict) -> tuple[dict, dict]:
    """Split a recipe's ``**opts`` into (pipeline kwargs, recipe-specific kwargs)."""
    pipe = {k: v for k, v in kw.items() if k in _OPTION_NAMES or k in _RUN_NAMES}
    rest = {k: v for k, v in kw.items() if k not in pipe}
    return pipe, rest


def prepare(
    recordings: Iterable[Recording],
    output_dir: str | os.PathLike,
    *,
    corpus: str = "",
    num_jobs: int = 1,
    backend: str = "local",
    address: str | None = None,
    progress: bool | None = None,
    limit: int | None = None,
    options: PrepareOptions | None = None,
    **option_kw,
) -> PrepareResult:
    """Prepare recordings into ``output_dir`` (resumable; see the module docstring).

    Parameters
    ----------
    recordings : iterable of Recording
        From a recipe; ids must be unique.
    output_dir : path
        Created if needed; an existing folder is resumed.
    corpus : str
        Recipe name written into each Recording.
    num_jobs : int
        Worker processes (local backend) or Ray CPUs for a local Ray instance.
    backend : {"local", "ray"}
    address : str or None
        Ray cluster address (None: start a local instance; "auto": the running cluster).
    progress : bool or None
        tqdm progress bar (None: unless ``TALKINGHEAD_PROGRESS=0``).
    limit : int or None
        Process at most this many recordings (after skipping finished ones).
    options : PrepareOptions, or its fields as keywords (``features=``, ``size=``, ...).

    Returns
    -------
    PrepareResult

    Raises
    ------
    InvalidArgumentError
        Bad options, duplicate recording ids, unknown backend.
    DependencyError
        ``backend="ray"`` without ray installed, or face tracking (mediapipe) not installed
        (checked before any work: the workers would reject every clip for it).
    """
    from .._util.progress import progress as progress_bar
    from ..face.tracking import require_tracking

    if options is None:
        options = PrepareOptions(**option_kw)
    elif option_kw:
        options = replace(options, **option_kw)
    if isinstance(num_jobs, bool) or not isinstance(num_jobs, (int, np.integer)) or num_jobs < 1:
        raise InvalidArgumentError(f"num_jobs={num_jobs!r} must be a positive int")
    if backend not in ("local", "ray"):
        raise InvalidArgumentError(f"backend={backend!r} must be 'local' or 'ray'")
    require_tracking()
    t0 = time.perf_counter()
    out = Path(output_dir)
    out.mkdir(parents=True, exist_ok=True)
    recs = []
    seen = set()
    for r in recordings:
        if r.id in seen:
            raise InvalidArgumentError(f"recording id={r.id!r} must be unique in the corpus")
        seen.add(r.id)
        r = replace(r, video=os.path.abspath(r.video), corpus=r.corpus or corpus)
        if r.audio is not None:
            r.audio = os.path.abspath(r.audio)
        recs.append(r)
    result = PrepareResult(out_dir=out, recordings=len(recs))

    done = _recover(out)
    todo = [r for r in recs if r.id not in done]
    result.skipped = len(recs) - len(todo)
    if result.skipped:
        _log_line(out, f"skip {result.skipped} recordings finished by an earlier run")
    if limit is not None:
        todo = todo[:limit]
    _log_line(out, f"start {len(todo)} recordings backend={backend} num_jobs={num_jobs}")
    if backend == "ray":
        results = _run_ray(todo, str(out), options, num_jobs, address)
    else:
        results = _run_local(todo, str(out), options, num_jobs)
    bar = progress_bar(
        total=len(todo), desc=f"prepare {corpus}".strip(), unit="rec", enabled=progress
    )
    try:
        for res in results:
            if res.get("crashed"):
                # an infrastructure failure, not a property of the clip: not committed,
                # so that the next run retries it
                result.crashed += 1
                rid = res["recording"]["id"]
                log.error("recording %s not processed: %s", rid, res["error"])
                _log_line(out, f"crashed {rid} error={res['error']!r} (retried on the next run)")
                bar.update(1)
                continue
            append_jsonl(out / "clips.jsonl", res["clips"])
            append_jsonl(out / "recordings.jsonl", [res["recording"]])
            rid = res["recording"]["id"]
            result.processed += 1
            result.frames += int(res["frames"])
            if res["error"]:
                result.failed += 1
                log.warning("recording %s failed: %s", rid, res["error"])
                _log_line(out, f"failed {rid} pid={res['pid']} error={res['error']!r}")
            rejected = [c["id"] for c in res["clips"] if c["status"] != "ok"]
            _log_line(
                out,
                f"done {rid} frames={res['frames']} seconds={res['seconds']:.3f} "
                f"pid={res['pid']} clips={len(res['clips'])} rejected={len(rejected)}",
            )
            bar.set_postfix_str(rid[-24:], refresh=False)
            bar.update(1)
    finally:
        bar.close()
        with contextlib.suppress(Exception):
            results.close()
    _finalize(out, options)
    clips = list(read_jsonl(out / "clips.jsonl"))
    result.clips = len(clips)
    result.ok = sum(c["status"] == "ok" for c in clips)
    result.rejected = result.clips - result.ok
    result.seconds = time.perf_counter() - t0
    _log_line(
        out,
        f"finished processed={result.processed} skipped={result.skipped} "
        f"failed={result.failed} crashed={result.crashed} frames={result.frames} "
        f"seconds={result.seconds:.2f}",
    )
    return result


def _finalize(out: Path, options: PrepareOptions) -> None:
    import json

    recs = sorted(read_jsonl(out / "recordings.jsonl"), key=lambda d: d["id"])
    clips = sorted(read_jsonl(out / "clips.jsonl"), key=lambda d: d["id"])
    write_jsonl(out / "recordings.jsonl", recs)
    write_jsonl(out / "clips.jsonl", clips)
    write_jsonl(out / "rejected.jsonl", [c for c in clips if c["status"] != "ok"])
    summary = summarize_qc(clips)
    report = {
        "summary": summary,
        "options": options.to_dict(),
        "clips": {
            c["id"]: {
                "status": c["status"],
                "flags": c["flags"],
                "reasons": c["reasons"],
                "qc": c["qc"],
            }
            for c in clips
        },
    }
    write_text_atomic(out / "qc_report.json", json.dumps(report, indent=1, sort_keys=True) + "\n")
    write_text_atomic(out / "qc_summary.txt", format_qc_summary(summary))


def requalify(output_dir: str | os.PathLike, *, qc: QCConfig | None = None) -> dict:
    """Re-apply the A/V-offset verdict (:func:`~talkinghead.corpora.qc.sync_verdict`) to
    a prepared folder from the measures its clips store, without tracking again.

    Replaces each clip's ``audio offset`` reasons and ``speech_offset`` flag, sets its
    status (``rejected`` if any reason remains), and rewrites the manifests, ``qc_report.json``
    and ``qc_summary.txt``. Clips prepared without the speech-sync measures are unchanged.

    Returns
    -------
    dict
        ``{"clips": n, "changed": n, "rejected": n}``.
    """
    import json

    out = Path(output_dir)
    if not (out / "clips.jsonl").is_file():
        raise MediaError(f"path={str(out / 'clips.jsonl')!r} must exist (a prepared folder)")
    cfg = qc or QCConfig()
    clips = list(read_jsonl(out / "clips.jsonl"))
    changed = 0
    for c in clips:
        if "speech_reliable" not in c.get("qc", {}):
            continue
        reasons = [r for r in c["reasons"] if not r.startswith("audio offset")]
        flags = [f for f in c["flags"] if f != "speech_offset"]
        dur = c["n_frames"] / c["fps"] if c.get("fps") else None
        f, r = sync_verdict(c["qc"], cfg, duration_s=dur)
        reasons += r
        flags += f
        status = "rejected" if reasons or not c.get("path") else "ok"
        if (reasons, flags, status) != (c["reasons"], c["flags"], c["status"]):
            changed += 1
        c["reasons"], c["flags"], c["status"] = reasons, flags, status
    write_jsonl(out / "clips.jsonl", clips)
    report = out / "qc_report.json"
    opts = json.loads(report.read_text(encoding="utf-8"))["options"] if report.is_file() else {}
    opts = {k: v for k, v in opts.items() if k in _OPTION_NAMES and k != "qc"}
    _finalize(out, PrepareOptions(**opts, qc=cfg))
    _log_line(out, f"requalify changed={changed} (A/V offset verdict re-applied)")
    return {
        "clips": len(clips),
        "changed": changed,
        "rejected": sum(c["status"] != "ok" for c in clips),
    }
