"""Distillation recipe of the fast front end (:mod:`talkinghead.models.student`).

1. **Audio** (:func:`distill_sources`): every speech file of a data folder (real speech of
   many speakers and languages), minus the clips held out for evaluation, plus
   :func:`tts_sentences` spoken by espeak-ng with many voices, variants, rates and pitches.
2. **Augmentation** (:data:`AUGMENTATIONS`): speed perturbation (0.9x, 1.1x: pitch and
   tempo), additive noise at 10-30 dB SNR, telephone band (8 kHz) -- each a separate copy.
3. **Teacher**: the Whisper tiny.en encoder's 384 features of every copy
   (:func:`talkinghead.audio.whisper.whisper_encoder_features` machinery), with its
   log-mel input, cached as one ``.npz`` per copy (float16) by :func:`build_distill_set`
   (resumable: existing files are kept).
4. **Training** (:func:`train_student`): random 4 s crops, MSE to the standardised
   teacher features, AdamW with a cosine schedule. No face data is involved.

``scripts/train_student.py`` runs it end to end.
"""

from __future__ import annotations

import logging
import os
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import InvalidArgumentError

__all__ = [
    "AUDIO_SUFFIXES",
    "DISTILL_EXCLUDE",
    "DISTILL_EXCLUDE_DIRS",
    "AUGMENTATIONS",
    "distill_sources",
    "PreparedAudio",
    "prepared_sources",
    "merge_sources",
    "tts_sentences",
    "augment",
    "build_distill_set",
    "cache_augmented",
    "split_by_source",
    "feature_stats",
    "crop_probabilities",
    "distill_r2",
    "train_student",
]

log = logging.getLogger(__name__)

AUDIO_SUFFIXES = (".wav", ".flac", ".mp3", ".m4a", ".ogg", ".mp4", ".mpg", ".flv", ".avi", ".mov")
#: What distillation never sees (``distill_sources(..., exclude=DISTILL_EXCLUDE)``): the
#: evaluation clips (by stem or parent/stem) and the audio twins of some of them.
DISTILL_EXCLUDE = frozenset({
    "bbaf2n", "brbk7n", "lbax4n", "lbbc2a", "lrwp9a", "lwbsza", "pwij3p", "sbia1a", "sbwe5n",
    "swiz3n", "id2_vcd_swwp2s", "face/1", "face/2", "face/3", "face/4", "face/5", "audio/1",
    "audio/2", "WDA_AlexandriaOcasioCortez_000", "WDA_KatieHill_000", "pose_source2",
    "uncrop_Obama", "mouth_source",
})  # fmt: skip
#: Top-level folders of the data folder that distillation never reads: ``hunt/`` holds the
#: held-out (test) side of the ``mouth_v2`` split (issue 12), whose audio no model may see;
#: the shipped student (896 sources) predates it.
DISTILL_EXCLUDE_DIRS = ("hunt",)
#: Copies made of every source: name -> description.
AUGMENTATIONS = {
    "orig": "as recorded",
    "speed0.9": "0.9x speed (lower pitch, slower)",
    "speed1.1+noise": "1.1x speed plus white noise at 10-30 dB SNR",
    "tel": "telephone band: 8 kHz sampling, then back to 16 kHz",
}


def distill_sources(
    data_dir: str | os.PathLike,
    *,
    exclude: set[str] = frozenset(),
    max_per_folder: int | None = None,
    exclude_dirs=(),
) -> list[tuple[str, Path]]:
    """Speech files under ``data_dir`` as ``(id, path)``, sorted, skipping ``exclude`` stems.

    Files whose stem (or ``parent/stem``) is in ``exclude`` are skipped, as are files
    without an audio stream (found out later, when they fail to load), and every file under
    a top-level folder named in ``exclude_dirs`` (e.g. :data:`DISTILL_EXCLUDE_DIRS`).
    ``max_per_folder`` keeps a fixed random subset (seed 0) of folders with more files.
    """
    data_dir = Path(data_dir)
    if not data_dir.is_dir():
        raise InvalidArgumentError(f"data_dir='{data_dir}' must be a folder")
    skip_dirs = set(exclude_dirs)
    by_folder: dict[Path, list[Path]] = {}
    for p in sorted(data_dir.rglob("*")):
        if p.suffix.lower() in AUDIO_SUFFIXES and p.is_file():
            if p.stem in exclude or f"{p.parent.name}/{p.stem}" in exclude:
                continue
            if p.relative_to(data_dir).parts[0] in skip_dirs:
                continue
            by_folder.setdefault(p.parent, []).append(p)
    out = []
    rng = np.random.default_rng(0)
    for _folder, files in sorted(by_folder.items()):
        if max_per_folder is not None and len(files) > max_per_folder:
            idx = np.sort(rng.choice(len(files), max_per_folder, replace=False))
            files = [files[i] for i in idx]
        for p in files:
            out.append((str(p.relative_to(data_dir).with_suffix("")).replace("/", "__"), p))
    return out


@dataclass(frozen=True)
class PreparedAudio:
    """The audio of one prepared clip (``talkinghead prepare`` output) as a distillation
    source: ``clip`` and ``rec`` are its ``clips.jsonl`` / ``recordings.jsonl`` rows (the
    samples are read by :func:`talkinghead.recipes.mouth.clip_audio`)."""

    clip: dict
    rec: dict

    @property
    def media(self) -> str:
        """The recording's media file (its audio, else its video)."""
        return str(self.rec.get("audio") or self.rec.get("video") or "")


def _media_key(path) -> str:
    """The last three components of ``path``'s real path: the same media file wherever the
    data folder sits (manifests prepared at ``/work/shared/data`` and a clone's
    ``../shared/data`` elsewhere name it alike; ``../shared/data`` has no two files whose
    last three components agree)."""
    if not path:
        return ""
    return "/".join(Path(os.path.realpath(str(path))).parts[-3:])


def prepared_sources(
    prepared_dirs,
    *,
    split,
    val_clips=(),
    exclude_clips=(),
) -> dict:
    """Distillation sources from the training side of a split: the audio of every ok clip of
    ``prepared_dirs`` that no held-out or validation rule touches (issue 12, session 13).

    A clip is left out when its recording is on the test side or excluded
    (``split.side(recording_id) != "train"``), its person is a test person
    (``split.test_people()``), it is one of ``val_clips`` or belongs to the person of one of
    them (the mouth recipe keeps validation people out of training the same way), or its id
    (or the id's last part) is in ``exclude_clips`` (e.g. the tests' GRID s1 sentences).

    Parameters
    ----------
    prepared_dirs : sequence of path
        ``talkinghead prepare`` output folders (``clips.jsonl``, ``recordings.jsonl``).
    split : object
        A loaded split (:class:`talkinghead.evaluate.splits.Split`): ``side(rid)`` and
        ``test_people()``.
    val_clips : iterable of str
        Validation clip ids (:func:`talkinghead.recipes.mouth.read_val_clips`).
    exclude_clips : iterable of str

    Returns
    -------
    dict
        ``"sources"``: ``[(id, PreparedAudio)]`` sorted, ids ``<folder name>__<clip id with
        / as __>``; ``"forbidden_media"``: the keys (last three parts of the real path) of
        every media file of a left-out clip (and of every recording whose audio must not be
        read); ``"used_media"``: those of the kept clips; ``"counts"``: clips kept and left
        out per reason.

    Raises
    ------
    InvalidArgumentError
        A validation clip id is in none of ``prepared_dirs``.
    """
    from ..corpora.people import recording_person
    from .mouth import list_clips

    val_clips, excl = set(val_clips), set(exclude_clips)
    for d in map(Path, prepared_dirs):
        if not (d / "clips.jsonl").is_file() or not (d / "recordings.jsonl").is_file():
            raise InvalidArgumentError(f"prepared_dirs entry '{d}' must hold clips.jsonl and "
                                       "recordings.jsonl")  # fmt: skip
    rows = list_clips(prepared_dirs, ok_only=False)  # (dir, clip, rec) of every clip
    found = {c["id"] for _, c, _ in rows}
    missing = sorted(val_clips - found)
    if missing:
        raise InvalidArgumentError(
            f"val_clips={missing[:3]} ({len(missing)} ids) must be clips of prepared_dirs"
        )
    test_people = set(split.test_people())
    val_people = {recording_person(r) for _, c, r in rows if c["id"] in val_clips}
    reasons = ("kept", "test side", "excluded by the split", "test person", "validation",
               "validation person", "excluded clip", "not ok")  # fmt: skip
    counts = dict.fromkeys(reasons, 0)
    out, forbidden, used = [], set(), set()
    for d, c, rec in rows:
        person = recording_person(rec)
        side = split.side(c["recording"])
        if side != "train":
            why = "test side" if side == "test" else "excluded by the split"
        elif person in test_people:
            why = "test person"
        elif c["id"] in val_clips:
            why = "validation"
        elif person in val_people:
            why = "validation person"
        elif c["id"] in excl or c["id"].rsplit("/", 1)[-1] in excl:
            why = "excluded clip"
        elif c.get("status") != "ok":
            counts["not ok"] += 1  # its audio is not forbidden, just not taken from here
            continue
        else:
            why = None
        src = PreparedAudio(clip=c, rec=rec)
        if why is not None:
            counts[why] += 1
            forbidden.update(_media_key(p) for p in (rec.get("audio"), rec.get("video")) if p)
            continue
        counts["kept"] += 1
        used.add(_media_key(src.media))
        out.append((f"{d.name}__{c['id'].replace('/', '__')}", src))
    return {"sources": sorted(out, key=lambda t: t[0]), "forbidden_media": forbidden - {""},
            "used_media": used - {""}, "counts": counts}  # fmt: skip


def merge_sources(files, prepared: dict) -> tuple[list, list]:
    """``files`` (:func:`distill_sources` rows) without those whose real path is a forbidden
    or already-used media file of ``prepared`` (:func:`prepared_sources`), plus
    ``prepared["sources"]``.

    Returns
    -------
    (list, list)
        The merged ``[(id, source)]`` and the ``(id, reason)`` of every file dropped.
    """
    kept, dropped = [], []
    for sid, p in files:
        k = _media_key(p)
        if k in prepared["forbidden_media"]:
            dropped.append((sid, "audio of a held-out or validation clip"))
        elif k in prepared["used_media"]:
            dropped.append((sid, "taken from the prepared clips instead"))
        else:
            kept.append((sid, p))
    return kept + list(prepared["sources"]), dropped


def tts_sentences(n: int, *, seed: int = 0, min_words: int = 6, max_words: int = 14) -> list[str]:
    """``n`` random word sequences from the pocketsphinx CMU dictionary (phonetic variety)."""
    import pocketsphinx

    words = []
    dic = Path(pocketsphinx.get_model_path("en-us")) / "cmudict-en-us.dict"
    with open(dic, encoding="utf-8", errors="replace") as f:
        for line in f:
            w = line.split(" ", 1)[0]
            if w.isalpha() and 2 <= len(w) <= 8:
                words.append(w)
    rng = np.random.default_rng(seed)
    return [
        " ".join(rng.choice(words, rng.integers(min_words, max_words + 1))) for _ in range(int(n))
    ]


_VOICES = ["en-us", "en-gb", "en-gb-scotland", "en-gb-x-rp", "en-029", "en-us-nyc",
           "en-gb-x-gbclan", "en-gb-x-gbcwmd"]  # fmt: skip
_VARIANTS = ["", "+m1", "+m2", "+m3", "+m4", "+m5", "+m6", "+m7", "+f1", "+f2", "+f3", "+f4",
             "+f5", "+klatt", "+klatt2", "+croak", "+whisper"]  # fmt: skip


def augment(y: np.ndarray, name: str, *, rng: np.random.Generator) -> np.ndarray:
    """One copy of 16 kHz ``y`` (see :data:`AUGMENTATIONS`)."""
    import soxr

    y = np.asarray(y, np.float32)
    if name == "orig":
        return y
    if name == "speed0.9":
        return soxr.resample(y, 16000, int(16000 / 0.9)).astype(np.float32)
    if name == "speed1.1+noise":
        z = soxr.resample(y, 16000, int(16000 / 1.1)).astype(np.float32)
        snr = rng.uniform(10, 30)
        p = float(np.mean(z**2)) + 1e-12
        return (
            z + rng.standard_normal(len(z)).astype(np.float32) * np.sqrt(p / 10 ** (snr / 10))
        ).astype(np.float32)
    if name == "tel":
        return soxr.resample(soxr.resample(y, 16000, 8000), 8000, 16000).astype(np.float32)
    raise InvalidArgumentError(f"name={name!r} must be one of {list(AUGMENTATIONS)}")


def _teacher(y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    from ..audio.whisper import encoder_frames, whisper_logmel

    if len(y) < 320:
        y = np.pad(y, (0, 320 - len(y)))
    mel = whisper_logmel(y=y, sr=16000)
    enc = encoder_frames(y)
    n = min(enc.shape[0], mel.shape[1] // 2)
    return mel[:, : 2 * n], enc[:n]


def build_distill_set(
    sources: list[tuple[str, Path]],
    out_dir: str | os.PathLike,
    *,
    n_tts: int = 300,
    augmentations=tuple(AUGMENTATIONS),
    seed: int = 0,
    progress: bool = True,
) -> dict:
    """Write ``out_dir/<id>__<aug>.npz`` (``mel`` (80, 2n), ``feat`` (n, 384), float16).

    Existing files are kept (a rerun resumes). Sources that cannot be read are logged
    and counted in the returned summary, never silently dropped.

    Returns
    -------
    dict
        ``{"written": int, "kept": int, "failed": [(id, reason)], "seconds": float,
        "audio_seconds": float}``
    """
    import tempfile

    from ..audio.io import load_audio

    out = Path(out_dir)
    items: list[tuple[str, object]] = [(sid, p) for sid, p in sources]
    if n_tts:
        from ..audio.tts import espeak_available

        if espeak_available():
            rng = np.random.default_rng(seed + 1)
            for i, text in enumerate(tts_sentences(n_tts, seed=seed)):
                voice = _VOICES[i % len(_VOICES)] + _VARIANTS[rng.integers(len(_VARIANTS))]
                items.append(
                    (
                        f"tts__{i:04d}",
                        (text, voice, int(rng.integers(120, 230)), int(rng.integers(15, 85))),
                    )
                )
        else:
            log.warning("espeak-ng not found: no synthetic voices in the distillation set")

    audio_cache: dict = {}

    def load(src) -> np.ndarray:
        if isinstance(src, PreparedAudio):
            from ..errors import MediaError
            from .mouth import clip_audio

            y = clip_audio(src.clip, src.rec, audio=audio_cache, log=log.warning)
            if y is None:
                raise MediaError(f"clip={src.clip['id']!r} must have readable audio")
            return y
        if isinstance(src, tuple):
            from ..audio.tts import synthesize

            with tempfile.TemporaryDirectory() as td:
                wav = synthesize(src[0], Path(td) / "s.wav", voice=src[1], rate=src[2],
                                 pitch=src[3])  # fmt: skip
                return load_audio(wav, sr=16000)[0]
        return load_audio(src, sr=16000)[0]

    def targets(z: np.ndarray) -> dict:
        mel, feat = _teacher(z)
        return {"mel": mel.astype(np.float16), "feat": feat.astype(np.float16)}

    return cache_augmented(items, out, augmentations=augmentations, targets=targets, load=load,
                           seed=seed, desc="distill set", progress=progress)  # fmt: skip


def cache_augmented(
    items,
    out_dir: str | os.PathLike,
    *,
    augmentations,
    targets,
    load=None,
    seed: int = 0,
    desc: str = "cache",
    progress: bool = True,
) -> dict:
    """The resumable augmentation cache of the distillation recipes: for every source and
    every augmentation (:func:`augment`) not yet in ``out_dir/<id>__<aug>.npz``, the copy's
    ``targets`` saved there (atomically).

    Parameters
    ----------
    items : list of (str, object)
        ``(id, source)``; ``load(source)`` gives its 16 kHz float32 samples (default: the
        file, :func:`talkinghead.audio.io.load_audio`).
    out_dir : path
    augmentations : sequence of str
        Keys of :data:`AUGMENTATIONS`; one generator seeded ``seed`` draws them all, in
        order of ``items`` then ``augmentations``.
    targets : callable
        ``targets(y_copy) -> {name: array}``, what one ``.npz`` holds.
    load : callable, optional
    seed : int
    desc : str
        Progress bar label.
    progress : bool

    Returns
    -------
    dict
        ``{"written": int, "kept": int, "failed": [(id, reason)], "seconds": float,
        "audio_seconds": float}``; a source that cannot be read, is shorter than 0.3 s or
        silent is listed in ``failed`` (and logged), never silently dropped.
    """
    from .._util.atomic import save_npz_atomic
    from .._util.progress import progress as progress_bar
    from ..audio.io import load_audio
    from ..errors import TalkingHeadError

    if load is None:

        def load(src):
            return load_audio(src, sr=16000)[0]

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    summary = {"written": 0, "kept": 0, "failed": [], "seconds": 0.0, "audio_seconds": 0.0}
    t0 = time.perf_counter()
    bar = progress_bar(total=len(items), desc=desc, unit="file", enabled=progress)
    rng = np.random.default_rng(seed)
    try:
        for sid, src in items:
            bar.update(1)
            todo = [a for a in augmentations if not (out / f"{sid}__{a}.npz").is_file()]
            summary["kept"] += len(augmentations) - len(todo)
            if not todo:
                continue
            try:
                y = load(src)
            except (TalkingHeadError, OSError) as e:
                summary["failed"].append((sid, str(e)))
                log.warning("%s: source %s skipped: %s", desc, sid, e)
                continue
            if len(y) < 16000 * 0.3 or float(np.max(np.abs(y))) <= 0:
                summary["failed"].append((sid, "shorter than 0.3 s or silent"))
                continue
            for a in todo:
                z = augment(y, a, rng=rng)
                save_npz_atomic(out / f"{sid}__{a}.npz", **targets(z))
                summary["written"] += 1
                summary["audio_seconds"] += len(z) / 16000
    finally:
        bar.close()
    summary["seconds"] = time.perf_counter() - t0
    return summary


def _load_set(data_dir: Path, exclude_prefix: tuple[str, ...] = ()):
    mels, feats, names = [], [], []
    for f in sorted(Path(data_dir).glob("*.npz")):
        if f.name.startswith(exclude_prefix):
            continue
        with np.load(f) as z:
            mels.append(z["mel"])
            feats.append(z["feat"])
        names.append(f.stem)
    if not mels:
        raise InvalidArgumentError(f"data_dir='{data_dir}' must hold distillation .npz files")
    return mels, feats, names


def split_by_source(names, valid_fraction: float, rng: np.random.Generator):
    """Training and validation indices of cache files ``<source>__<aug>``: whole sources
    (all their copies) are held out, ``valid_fraction`` of them (at least one, none when
    there is a single source), drawn with ``rng``."""
    srcs = sorted({n.rsplit("__", 1)[0] for n in names})
    n_val = max(1, int(round(valid_fraction * len(srcs))))
    val_src = set(rng.choice(srcs, n_val, replace=False)) if len(srcs) > 1 else set()
    tr = [i for i, n in enumerate(names) if n.rsplit("__", 1)[0] not in val_src]
    va = [i for i, n in enumerate(names) if n.rsplit("__", 1)[0] in val_src]
    return tr, va


def feature_stats(feats, idx) -> tuple[np.ndarray, np.ndarray]:
    """Mean and standard deviation (+ 1e-4) per dimension of ``feats[i]`` (n_i, D), ``i`` in
    ``idx``, in float32."""
    allf = np.concatenate([feats[i].astype(np.float32) for i in idx])
    return allf.mean(0), allf.std(0) + 1e-4


def crop_probabilities(names, lengths, caps: dict | None = None) -> np.ndarray:
    """Probability of drawing each cache file for a training crop: proportional to its length,
    except that files whose name starts with a prefix of ``caps`` together get at most that
    share (e.g. ``{"grid_s1__": 0.25}``: one speaker's 1000 clips may not dominate).

    Parameters
    ----------
    names : sequence of str
        Cache file stems, (n,).
    lengths : array_like
        Frames per file, (n,).
    caps : dict of str -> float, optional
        Name prefix -> largest share of the crops, in (0, 1); a group already below its cap
        keeps its share.

    Returns
    -------
    numpy.ndarray
        (n,) float64, summing to 1.
    """
    lengths = np.asarray(lengths, np.float64)
    prob = lengths / lengths.sum()
    for prefix, cap in (caps or {}).items():
        if not 0.0 < float(cap) < 1.0:
            raise InvalidArgumentError(f"caps[{prefix!r}]={cap} must be in (0, 1)")
        m = np.array([n.startswith(prefix) for n in names], bool)
        share = prob[m].sum()
        if share > cap and (~m).any():
            prob[m] *= cap / share
            prob[~m] *= (1.0 - cap) / prob[~m].sum()
            prob /= prob.sum()
    return prob  # without caps exactly lengths / lengths.sum(), as before caps existed


def _heldout_r2(model, mels, feats, idx, mean, scale) -> tuple[float, float]:
    """(R^2, summed squared error) of ``model`` on the files ``idx``, standardised."""
    num = den = 0.0
    for i in idx:
        pred = model.encode(mels[i].astype(np.float32))
        f = feats[i].astype(np.float32)
        n = min(len(pred), len(f))
        num += float((((pred[:n] - f[:n]) / scale) ** 2).sum())
        den += float((((f[:n] - mean) / scale) ** 2).sum())
    return (1.0 - num / den if den else float("nan")), num


def distill_r2(model, data_dir: str | os.PathLike, *, valid_fraction: float = 0.03,
               seed: int = 0) -> dict:  # fmt: skip
    """The distillation R^2 of any student ``model`` on the held-out files that
    :func:`train_student` (same ``data_dir``, ``valid_fraction`` and ``seed``) keeps out of
    training: the share of the teacher's per-feature variance it explains there, the
    features standardised with the training files' statistics. So a shipped student and a
    new one are compared on the same files.

    Returns
    -------
    dict
        ``{"valid_r2": float, "valid_files": int, "valid_sources": [str]}``.
    """
    rng = np.random.default_rng(seed)
    mels, feats, names = _load_set(Path(data_dir))
    tr, va = split_by_source(names, valid_fraction, rng)
    mean, scale = feature_stats(feats, tr)
    r2, _ = _heldout_r2(model, mels, feats, va, mean, scale)
    return {"valid_r2": r2, "valid_files": len(va),
            "valid_sources": sorted({names[i].rsplit("__", 1)[0] for i in va})}  # fmt: skip


def train_student(
    data_dir: str | os.PathLike,
    out_dir: str | os.PathLike,
    *,
    steps: int = 3000,
    batch_size: int = 32,
    crop_s: float = 4.0,
    lr: float = 2e-3,
    channels: int = 192,
    seed: int = 0,
    valid_fraction: float = 0.03,
    progress: bool = True,
    meta: dict | None = None,
    dilations=(1, 2, 4, 8, 16, 1, 2, 4),
    aux_fn=None,
    aux_weight: float = 4.0,
    crop_caps: dict | None = None,
    eval_every: int | None = None,
):
    """Fit a :class:`~talkinghead.models.student.SpeechStudent` to the cached teacher features.

    ``aux_fn(feat)``, when given, maps a file's teacher features ``(n, 384)`` to an
    auxiliary target ``(n,)`` (e.g. a teacher read-out of the mouth, standardised per
    file), or ``(n, k)`` for ``k`` of them (e.g. the mouth and a /p b m/ logit); the
    student gets that many more outputs, each trained on its target with weight
    ``aux_weight``. ``crop_caps`` caps the share of crops drawn from files by name prefix
    (:func:`crop_probabilities`; default: proportional to length). ``eval_every`` N also
    measures the held-out R^2 every N steps (``valid_r2_curve`` in the log).

    Returns
    -------
    (SpeechStudent, dict)
        The model (also saved to ``out_dir``) and a log: ``initial_loss`` (first 10
        steps), ``train_loss`` (last steps), ``valid_mse``,
        ``valid_r2`` (share of the teacher's per-feature variance explained on held-out
        files, :func:`distill_r2`), ``valid_sources``, ``crop_shares`` (per capped prefix),
        ``seconds``.
    """
    import torch

    from .._util.progress import progress as progress_bar
    from ..models.student import SpeechStudent, StudentConfig

    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    mels, feats, names = _load_set(Path(data_dir))
    tr, va = split_by_source(names, valid_fraction, rng)
    mean, scale = feature_stats(feats, tr)
    aux, n_aux = None, 0
    if aux_fn is not None:
        aux = {i: np.asarray(aux_fn(feats[i].astype(np.float32)), np.float32) for i in tr}
        n_aux = 1 if next(iter(aux.values())).ndim == 1 else next(iter(aux.values())).shape[1]
    cfg = StudentConfig(channels=channels, dilations=list(dilations), aux_dim=n_aux)
    model = SpeechStudent(cfg, mean, scale, meta=meta)
    net = model.net
    opt = torch.optim.AdamW(net.parameters(), lr=lr, weight_decay=1e-4)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=lr, total_steps=steps, pct_start=0.05)
    crop = int(crop_s * 50)  # target frames (mel frames = 2x)
    lengths = np.array([feats[i].shape[0] for i in tr])
    prob = crop_probabilities([names[i] for i in tr], lengths, crop_caps)
    shares = {k: float(prob[[names[i].startswith(k) for i in tr]].sum()) for k in (crop_caps or {})}
    curve = []
    mean_t, scale_t = torch.from_numpy(mean), torch.from_numpy(scale)

    def batch():
        xs, ys, ms, zs = [], [], [], []
        for i in rng.choice(len(tr), batch_size, p=prob):
            f, m = feats[tr[i]], mels[tr[i]]
            n = f.shape[0]
            s = int(rng.integers(0, max(1, n - crop + 1)))
            e = min(n, s + crop)
            x = np.zeros((m.shape[0], 2 * crop), np.float32)
            yv = np.zeros((crop, f.shape[1]), np.float32)
            mk = np.zeros(crop, np.float32)
            x[:, : 2 * (e - s)] = m[:, 2 * s : 2 * e]
            if e - s < crop:  # pad with the spectrogram's floor (silence)
                x[:, 2 * (e - s) :] = m[:, 2 * s : 2 * e].min()
            yv[: e - s] = f[s:e]
            mk[: e - s] = 1
            if aux is not None:
                zv = np.zeros((crop,) if n_aux == 1 else (crop, n_aux), np.float32)
                zv[: e - s] = aux[tr[i]][s:e]
                zs.append(zv)
            xs.append(x)
            ys.append(yv)
            ms.append(mk)
        za = torch.from_numpy(np.stack(zs)) if zs else None
        return (torch.from_numpy(np.stack(xs)), torch.from_numpy(np.stack(ys)),
                torch.from_numpy(np.stack(ms)), za)  # fmt: skip

    t0 = time.perf_counter()
    net.train()
    losses = []
    bar = progress_bar(total=steps, desc="train student", unit="step", enabled=progress)
    try:
        for step in range(steps):
            x, yv, mk, za = batch()
            out = net(x).transpose(1, 2)  # (B, crop, 384 + aux)
            pred = out[..., : yv.shape[-1]]
            target = (yv - mean_t) / scale_t
            err = ((pred - target) ** 2).mean(-1)
            if za is not None and n_aux == 1:
                err = err + aux_weight * (out[..., -1] - za) ** 2
            elif za is not None:
                err = err + aux_weight * ((out[..., -n_aux:] - za) ** 2).sum(-1)
            loss = (err * mk).sum() / mk.sum()
            opt.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(net.parameters(), 1.0)
            opt.step()
            sched.step()
            losses.append(float(loss.detach()))
            bar.update(1)
            if step % 50 == 0:
                bar.set_postfix_str(f"loss {np.mean(losses[-50:]):.3f}", refresh=False)
            if eval_every and va and (step + 1) % eval_every == 0 and step + 1 < steps:
                net.eval()
                model.pull_weights()
                curve.append((step + 1, _heldout_r2(model, mels, feats, va, mean, scale)[0]))
                log.info("step %d: held-out R^2 %.4f", *curve[-1])
                net.train()
    finally:
        bar.close()
    # validation: fraction of variance explained on held-out files
    net.eval()
    model.pull_weights()
    r2, num = _heldout_r2(model, mels, feats, va, mean, scale)
    if eval_every and va:
        curve.append((steps, r2))
    logd = {
        "initial_loss": float(np.mean(losses[:10])),
        "train_loss": float(np.mean(losses[-max(1, min(100, steps // 4)) :])),
        "valid_mse": num / max(1, sum(len(feats[i]) for i in va) * len(mean)),
        "valid_r2": r2,
        "valid_r2_curve": curve,
        "valid_files": len(va),
        "valid_sources": sorted({names[i].rsplit("__", 1)[0] for i in va}),
        "crop_shares": shares,
        "train_files": len(tr),
        "train_hours": float(lengths.sum() / 50 / 3600),
        "seconds": time.perf_counter() - t0,
        "steps": steps,
    }
    model.pull_weights()
    model.meta.update({"training": logd})
    model.save_pretrained(out_dir)
    return model, logd
