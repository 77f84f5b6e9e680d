"""The papers' experimental protocols as named configs: corpus, split, rates, targets, schedule.

``get_protocol(recipe, name)`` gives a :class:`Protocol`; ``talkinghead train RECIPE
CORPUS_DIR --protocol paper -o MODEL_DIR`` trains with it. A protocol fixes what the paper
fixes and says what it could not know:

``sakurai2018`` / ``sakurai2018_baseline`` ``paper``
    SAVEE speaker DC, 120 videos split 108 / 6 / 6 (train / valid / test), 60 fps video,
    44.1 kHz audio, the AAM code of 8 shape + 8 appearance parameters, FBF / BFF / BBF
    (BBF the paper's best). The paper does not say which 6 + 6 videos: a seeded shuffle
    (seed 0) of the DC recordings picks them.
``pham2017`` ``paper``
    RAVDESS, actors 1-20 train, 21-24 test, speech and song, 30 fps video (RAVDESS: 29.97),
    44.1 kHz audio, 300 epochs with the paper's learning-rate schedule and no early
    stopping, Nets 1-3 and the SVR baseline. The paper names no validation set; one
    recording in 20 of the training actors (seeded) is held out to pick the saved epoch.
``eskimez2018`` ``paper``
    GRID, 27 training speakers, the authors' context frames (3) and their shipped
    model's 40 ms look-ahead (``D40_C3``), their ``train.py`` schedule (200 epochs, batch
    128, 75-frame windows, Adam 1e-3), 25 fps video. The abstract names 27 speakers but
    not which; of the ``n`` GRID speakers present (GRID has 33 with video), the
    ``round(6 n / 33)`` highest-numbered are the test speakers and one recording in 20
    of the others (seeded) validates.
``fan2015`` ``paper``
    One speaker (the corpus's most frequent), the AAM code, FBB. The abstract gives no
    split: 90 / 5 / 5 of that speaker's recordings by a seeded shuffle. The code is a
    lower-face AAM, as Fan's (the recipe's default ``aam_region="lower"``: the AAM's
    ``points`` are the 42 jaw, nose-base and lip landmarks).

A protocol applied to a corpus that does not match it (another frame rate, fewer
speakers) still runs; :meth:`Protocol.deviations` lists what differs and the trainer
stores the list in the checkpoint's ``meta["protocol"]``.
"""

from __future__ import annotations

import os
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import InvalidArgumentError

__all__ = [
    "Protocol",
    "PROTOCOLS",
    "DROP_FLAGS",
    "get_protocol",
    "protocol_names",
    "grid_speaker_number",
]

#: Quality-control flags that keep a recording out of a protocol's splits.
DROP_FLAGS = ("av_offset", "av_uncorrelated")


def grid_speaker_number(speaker: str | None) -> int | None:
    """The GRID speaker number of a speaker id (``"s12"``, ``"GRID s12 (...)"``), else None."""
    if not speaker:
        return None
    m = re.match(r"^(?:GRID\s+)?s(\d{1,2})\b", str(speaker).strip(), re.IGNORECASE)
    return int(m.group(1)) if m else None


def _actor_number(speaker: str | None) -> int | None:
    m = re.fullmatch(r"Actor_(\d+)", str(speaker or ""))
    return int(m.group(1)) if m else None


def _shuffled(ids: list[str], seed: int) -> list[str]:
    ids = sorted(ids)
    order = np.random.default_rng(seed).permutation(len(ids))
    return [ids[i] for i in order]


def _hold_out(ids: list[str], fraction: float, seed: int) -> tuple[list[str], list[str]]:
    """``(kept, held)``: ``max(1, round(fraction * n))`` ids held out (none if n < 2)."""
    ids = _shuffled(ids, seed)
    k = max(1, int(round(fraction * len(ids)))) if len(ids) >= 2 else 0
    return sorted(ids[k:]), sorted(ids[:k])


@dataclass(frozen=True)
class Protocol:
    """One paper's protocol (see the module docstring for each).

    Attributes
    ----------
    recipe, name : str
        ``get_protocol(recipe, name)``.
    corpus : str
        The ``talkinghead prepare`` recipe of the paper's corpus (``savee``, ``ravdess``,
        ``grid``; ``folder`` for one speaker's recordings).
    summary : str
        One line: corpus, split, rates, code.
    fps : float or None
        The paper's video frame rate (None: not given).
    sr : int or None
        The paper's audio rate (``talkinghead prepare --sr``; None: not given).
    recipe_options : dict
        Options of :func:`~talkinghead.recipes.get_recipe`.
    train_options : dict
        :class:`~talkinghead.training.trainer.TrainConfig` fields (epochs, topology,
        delay_ms, batch_size, window_seconds, patience).
    topologies : tuple of str
        The topologies the paper compares.
    baselines : tuple of str
        The paper's comparison systems.
    known_deviations : tuple of str
        What the implementation cannot follow whatever the corpus.
    """

    recipe: str
    name: str
    corpus: str
    summary: str
    fps: float | None
    sr: int | None
    recipe_options: dict = field(default_factory=dict)
    train_options: dict = field(default_factory=dict)
    topologies: tuple = ()
    baselines: tuple = ()
    known_deviations: tuple = ()

    # ------------------------------------------------------------------ split
    def split(self, recordings) -> dict[str, list[str]]:
        """Recording ids per split (``train``, ``valid``, ``test``) of ``recordings``.

        Parameters
        ----------
        recordings : iterable of talkinghead.corpora.manifest.Recording
            The corpus' (accepted) recordings; those outside the protocol (another
            speaker, another corpus) are in no split.

        Raises
        ------
        InvalidArgumentError
            The recordings cannot form the protocol's split (no speaker DC, no test actor...).
        """
        recs = list(recordings)
        fn = getattr(self, f"_split_{self.corpus}")
        out = fn(recs)
        for k in ("train", "test"):
            if not out.get(k):
                raise InvalidArgumentError(
                    f"protocol={self.recipe}/{self.name} needs {self.summary}; the corpus "
                    f"gives no {k} recordings ({len(recs)} recordings)"
                )
        out.setdefault("valid", [])
        return {k: sorted(out[k]) for k in ("train", "valid", "test")}

    def _split_savee(self, recs) -> dict:
        dc = [r.id for r in recs if str(r.speaker or "").upper() == "DC"]
        if len(dc) < 3:
            raise InvalidArgumentError(
                f"protocol={self.recipe}/{self.name} needs SAVEE speaker DC's recordings "
                f"(speaker='DC'); found {len(dc)}"
            )
        ids = _shuffled(dc, 0)
        k = max(1, int(round(len(ids) * 6 / 120)))  # 6 of 120
        return {"test": ids[:k], "valid": ids[k : 2 * k], "train": ids[2 * k :]}

    def _split_ravdess(self, recs) -> dict:
        train, test = [], []
        for r in recs:
            a = _actor_number(r.speaker)
            if a is None:
                continue
            (train if a <= 20 else test).append(r.id)
        train, valid = _hold_out(train, 0.05, 0)
        return {"train": train, "valid": valid, "test": test}

    def _split_grid(self, recs) -> dict:
        by_spk: dict[int, list[str]] = {}
        for r in recs:
            n = grid_speaker_number(r.speaker)
            if n is not None:
                by_spk.setdefault(n, []).append(r.id)
        if len(by_spk) < 2:
            raise InvalidArgumentError(
                f"protocol={self.recipe}/{self.name} needs recordings of >= 2 GRID speakers "
                f"(speaker 's<N>' or 'GRID s<N> ...'); found {sorted(by_spk)}"
            )
        spk = sorted(by_spk)
        n_test = min(len(spk) - 1, max(1, int(round(len(spk) * 6 / 33))))
        test_spk = spk[-n_test:]
        train = [i for s in spk[:-n_test] for i in by_spk[s]]
        train, valid = _hold_out(train, 0.05, 0)
        return {"train": train, "valid": valid, "test": [i for s in test_spk for i in by_spk[s]]}

    def _split_folder(self, recs) -> dict:
        counts = Counter(r.speaker for r in recs if r.speaker)
        if not counts:
            raise InvalidArgumentError(
                f"protocol={self.recipe}/{self.name} needs recordings with a speaker id"
            )
        speaker = sorted(counts.items(), key=lambda kv: (-kv[1], str(kv[0])))[0][0]
        ids = _shuffled([r.id for r in recs if r.speaker == speaker], 0)
        k = max(1, int(round(len(ids) * 0.05))) if len(ids) >= 3 else 0
        return {"test": ids[:k] or ids[-1:], "valid": ids[k : 2 * k], "train": ids[2 * k :]}

    def split_corpus(
        self, corpus_dir: str | os.PathLike, *, drop_flags=DROP_FLAGS
    ) -> dict[str, list[str]]:
        """:meth:`split` of a prepared corpus folder's recordings with an accepted clip.

        Recordings with a clip flagged by quality control with one of ``drop_flags``
        (the papers' corpora are synchronous: audio offset from the face, audio
        uncorrelated with the mouth) and, with a protocol frame rate, recordings more
        than 1 % off it (when some recording has it: one frame rate, as the look-ahead
        needs) are left out; their ids are under ``"left_out"`` (which no split reads).
        """
        from ..corpora.manifest import read_clips, read_recordings

        ok_clips = read_clips(corpus_dir, status="ok")
        flagged = {c.recording for c in ok_clips if set(c.flags or ()) & set(drop_flags)}
        ok = {c.recording for c in ok_clips} - flagged
        recs = [r for r in read_recordings(corpus_dir) if r.id in ok]
        left_out: list[str] = []
        if self.fps:
            near = [abs(float(r.fps or 0) - self.fps) <= 0.01 * self.fps for r in recs]
            if any(near):
                left_out = [r.id for r, n in zip(recs, near, strict=True) if not n]
                recs = [r for r, n in zip(recs, near, strict=True) if n]
        out = self.split(recs)
        extra = set(left_out) | flagged
        if extra:
            every = self.split(recs + [r for r in read_recordings(corpus_dir) if r.id in extra])
            dropped = sorted({i for v in every.values() for i in v} & extra)
            if dropped:
                out["left_out"] = dropped
                out["left_out_reason"] = {
                    i: "flag " + ",".join(sorted(set(drop_flags))) if i in flagged else "fps"
                    for i in dropped
                }
        return out

    # ------------------------------------------------------------------ checks
    def deviations(self, corpus_dir: str | os.PathLike, splits: dict | None = None) -> list[str]:
        """What the prepared corpus at ``corpus_dir`` does differently from the paper.

        Frame rates (more than 1 % off :attr:`fps`), the audio analysis rate (the
        corpus' ``qc_report.json`` options), the recipe's :attr:`known_deviations`.
        """
        import json

        from ..corpora.manifest import read_recordings

        out = []
        recs = {r.id: r for r in read_recordings(corpus_dir)}
        parts = ("train", "valid", "test")
        used = set(recs) if splits is None else {i for k in parts for i in splits.get(k, [])}
        if self.fps:
            rates = sorted({round(float(recs[i].fps or 0), 3) for i in used if i in recs})
            off = [f for f in rates if abs(f - self.fps) > 0.01 * self.fps]
            if off:
                out.append(f"video at {', '.join(f'{f:g}' for f in off)} fps, not {self.fps:g}")
        qc = Path(corpus_dir) / "qc_report.json"
        sr = None
        if qc.is_file():
            try:
                sr = (json.loads(qc.read_text(encoding="utf-8")).get("options") or {}).get("sr")
            except (json.JSONDecodeError, AttributeError):
                sr = None
        if splits is not None and splits.get("left_out"):
            why = Counter((splits.get("left_out_reason") or {}).values())
            n_fps = why.get("fps", 0)
            n_flag = len(splits["left_out"]) - n_fps
            if n_fps:
                out.append(
                    f"{n_fps} recordings at another frame rate than {self.fps:g} fps left out"
                )
            if n_flag:
                out.append(
                    f"{n_flag} recordings left out by quality control (audio offset from or "
                    "uncorrelated with the mouth)"
                )
        if self.sr and int(sr or 16000) != self.sr:
            out.append(f"audio analysed at {int(sr or 16000)} Hz, not {self.sr}")
        if self.corpus == "grid" and splits is not None:
            n = len({grid_speaker_number(recs[i].speaker) for i in splits["train"] if i in recs})
            if n + 1 < 27:  # the 27 of the paper: training speakers (+ validation)
                out.append(f"{n} GRID training speakers, not 27")
        out.extend(self.known_deviations)
        return out


PROTOCOLS: dict[str, dict[str, Protocol]] = {}


def _add(p: Protocol) -> None:
    PROTOCOLS.setdefault(p.recipe, {})[p.name] = p


_SAKURAI = dict(
    corpus="savee",
    summary="SAVEE speaker DC, 108/6/6 videos, 60 fps, 44.1 kHz, 8 shape + 8 appearance AAM",
    fps=60.0,
    sr=44100,
    topologies=("FBF", "BFF", "BBF"),
    known_deviations=(
        "AAM landmarks from the Face Mesh tracker, not 5400 hand-annotated frames",
        "RMSprop lr 0.001, not the printed 0.1 (diverges in PyTorch)",
    ),
)
_add(
    Protocol(
        recipe="sakurai2018",
        name="paper",
        recipe_options={"target": "aam"},
        train_options={"topology": "BBF"},
        baselines=("sakurai2018_baseline",),
        **_SAKURAI,
    )
)
_add(
    Protocol(
        recipe="sakurai2018_baseline",
        name="paper",
        recipe_options={"target": "aam"},
        train_options={"topology": "BBF"},
        baselines=(),
        **{**_SAKURAI, "known_deviations": _SAKURAI["known_deviations"][:1]},
    )
)
_add(
    Protocol(
        recipe="pham2017",
        name="paper",
        corpus="ravdess",
        summary="RAVDESS actors 1-20 train / 21-24 test, speech and song, 30 fps, 44.1 kHz, "
        "300 epochs",
        fps=30.0,
        sr=44100,
        train_options={"topology": "net1", "epochs": 300, "patience": 300},
        topologies=("net1", "net2", "net3"),
        baselines=("svr",),
        known_deviations=(
            "52 ARKit weights fitted by face.fit3d, not the 46 FaceWarehouse weights of the "
            "authors' tracker",
            "Adam (the paper's CNTK optimiser is not named)",
        ),
    )
)
_add(
    Protocol(
        recipe="eskimez2018",
        name="paper",
        corpus="grid",
        summary="GRID, 27 training speakers, held-out speakers test, 25 fps, 3 context "
        "frames, 40 ms look-ahead",
        fps=25.0,
        sr=44100,
        recipe_options={"context_frames": 3, "lstm": "keras"},
        train_options={
            "topology": "lstm4",
            "epochs": 200,
            "delay_ms": 40.0,
            "batch_size": 128,
            "window_seconds": 3.0,
            "patience": 200,
        },
        topologies=("lstm4",),
        known_deviations=(
            "which 27 GRID speakers the authors used is not in papers/: the highest-numbered "
            "speakers are the test speakers",
            "a linear 136 -> 136 output layer after the last LSTM",
        ),
    )
)
_add(
    Protocol(
        recipe="fan2015",
        name="paper",
        corpus="folder",
        summary="one speaker, 90/5/5 recordings, AAM code, FBB",
        fps=None,
        sr=None,
        recipe_options={"target": "aam"},
        train_options={"topology": "FBB"},
        topologies=("FBB",),
        baselines=(),
        known_deviations=(
            "lower-face AAM of 42 Face Mesh landmarks (the paper's points are not given)",
            "no HMM baseline",
        ),
    )
)


def protocol_names(recipe: str) -> list[str]:
    """Names of the protocols of ``recipe`` (``[]`` when it has none)."""
    return sorted(PROTOCOLS.get(recipe, {}))


def get_protocol(recipe: str, name: str) -> Protocol:
    """The protocol ``name`` of ``recipe``.

    Raises
    ------
    InvalidArgumentError
        The recipe has no such protocol.
    """
    have = PROTOCOLS.get(recipe, {})
    if name not in have:
        raise InvalidArgumentError(
            f"protocol={name!r} must be one of {sorted(have)} for recipe {recipe!r}"
        )
    return have[name]
