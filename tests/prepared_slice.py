"""A tiny prepared corpus built from real GRID clips, shared by the training tests.

``build_prepared_slice(tmp_path_factory, shared_data)`` prepares 4 GRID clips (four
speakers) once per test session into ``<basetemp>/prepared_slice`` (cached across test
modules by a ``done`` marker): with :func:`talkinghead.corpora.pipeline.prepare` when
the face tracker exists, else with a minimal MediaPipe tracker writing the same format
(clips.jsonl / recordings.jsonl / arrays/<id>.npz).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

FEATURES = ("eskimez2018", "sakurai2018", "pham2017")
STEMS = ("bbaf2n", "brbk7n", "lbax4n", "lbbc2a")


def _recordings(shared_data: Path):
    from talkinghead.corpora.grid import decode_grid
    from talkinghead.corpora.manifest import Recording

    root = shared_data / "rizkiarm__LipNet/evaluation/samples/GRID"
    recs = []
    for i, stem in enumerate(STEMS):
        p = root / f"{stem}.mpg"
        if not p.is_file():
            pytest.skip(f"GRID sample {p} not found")
        recs.append(
            Recording(
                id=f"spk{i}/{stem}",
                video=str(p),
                audio=str(p),
                speaker=f"spk{i}",
                emotion="neutral",
                transcript=" ".join(decode_grid(stem)),
                corpus="grid",
            )
        )
    return recs


def _mediapipe_track(path: str):
    import mediapipe as mp

    from talkinghead.face.landmarks68 import mesh_to_68
    from talkinghead.video.io import read_video

    video = read_video(path)
    frames = video.frames if hasattr(video, "frames") else video[0]
    mesh, valid = [], []
    with mp.solutions.face_mesh.FaceMesh(static_image_mode=False, max_num_faces=1) as fm:
        for f in frames:
            rgb = np.ascontiguousarray(f)
            h, w = rgb.shape[:2]
            res = fm.process(rgb)
            if res.multi_face_landmarks:
                pts = res.multi_face_landmarks[0].landmark[:468]
                mesh.append([(q.x * w, q.y * h, q.z * w) for q in pts])
                valid.append(True)
            else:
                mesh.append(np.full((468, 3), np.nan))
                valid.append(False)
    mesh = np.asarray(mesh, np.float32)
    return mesh, mesh_to_68(mesh)[..., :2].astype(np.float32), np.asarray(valid)


def _fallback_prepare(recs, out: Path) -> None:
    from talkinghead._util.atomic import save_npz_atomic
    from talkinghead.audio.features import compute_features
    from talkinghead.audio.io import load_audio
    from talkinghead.corpora.manifest import Clip, write_jsonl
    from talkinghead.face.landmarks68 import mouth_openness_mesh
    from talkinghead.video.io import probe_video

    clips = []
    for rec in recs:
        info = probe_video(rec.video)
        rec.fps, rec.n_frames, rec.duration = float(info.fps), info.n_frames, info.duration
        rec.width, rec.height, rec.has_audio = info.width, info.height, True
        mesh, lm, valid = _mediapipe_track(rec.video)
        n = len(mesh)
        y, sr = load_audio(rec.audio, sr=16000)
        arrays = {
            "times": np.arange(n) / rec.fps,
            "mesh": mesh,
            "landmarks68": lm,
            "rotation": np.zeros((n, 3), np.float32),
            "translation": np.zeros((n, 3), np.float32),
            "confidence": valid.astype(np.float32),
            "n_faces": valid.astype(np.int16),
            "valid": valid,
            "lip_aperture": mouth_openness_mesh(mesh).astype(np.float32),
        }
        feats = {}
        for name in FEATURES:
            feats[name] = compute_features(name, y=y, sr=sr, fps=rec.fps, n_frames=n)
            arrays[f"audio_{name}"] = feats[name]
        rel = f"arrays/{rec.id.replace('/', '__')}.npz"
        save_npz_atomic(out / rel, **arrays)
        clips.append(
            Clip(
                id=rec.id,
                recording=rec.id,
                path=rel,
                n_frames=n,
                fps=rec.fps,
                features={k: int(v.shape[1]) for k, v in feats.items()},
            )
        )
    write_jsonl(out / "clips.jsonl", clips)
    write_jsonl(out / "recordings.jsonl", recs)


def build_prepared_slice(tmp_path_factory, shared_data: Path) -> Path:
    """Path of the cached tiny prepared corpus (built on first use in the session)."""
    out = tmp_path_factory.getbasetemp() / "prepared_slice"
    if (out / "done").is_file():
        return out
    recs = _recordings(shared_data)
    try:
        import talkinghead.face.tracking  # noqa: F401

        have_tracker = True
    except ImportError:
        have_tracker = False
    if have_tracker:
        from talkinghead.corpora.pipeline import prepare

        prepare(recs, out, corpus="grid", features=FEATURES, progress=False)
    else:
        pytest.importorskip("mediapipe")
        _fallback_prepare(recs, out)
    (out / "done").write_text("ok\n")
    return out
