"""Build a blinded perceptual study from the videos of two systems (``talkinghead study make``).

A study folder holds::

    study.json       settings: seed, the two systems, the questions, item counts
    manifest.jsonl   one item per line (the key: which system is behind each blinded file)
    media/           the videos, renamed to random tokens (``3f9a0c1d7b2e.mp4``)
    sessions.jsonl   raters' sessions, appended by ``study serve``
    answers.jsonl    answers, appended by ``study serve``

Items:

* ``ab``: the same clip from both systems side by side (A left, B right), the side of
  each system counterbalanced over the clips (half the clips have each system on the
  left; with ``ab_repeats=2`` every clip is also shown with the sides swapped). The
  question is Fan 2015's A/B preference / Sakurai 2018's question (ii).
* ``mos``: one video of one system, rated 1-5 (Sakurai 2018's questions (iii) / (iv)).

Nothing the browser sees names a system: media files are random hexadecimal tokens with
the original extension, item ids are ``i000``, ``i001``, ... in shuffled order, and the
manifest stays on the server.
"""

from __future__ import annotations

import json
import os
import random
import shutil
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from .._util.atomic import atomic_path, write_text_atomic
from ..errors import InvalidArgumentError, MediaError

__all__ = [
    "VIDEO_EXTS",
    "AB_QUESTION",
    "MOS_QUESTION",
    "Study",
    "make_study",
    "load_study",
]

VIDEO_EXTS = (".mp4", ".webm", ".mov", ".m4v", ".ogv")

#: Default questions (Fan 2015's A/B test; Sakurai 2018's questionnaire (ii) and (iv)).
AB_QUESTION = "Which talking head matches the speech better?"
MOS_QUESTION = "How natural is this talking head? (1 = bad, 5 = excellent)"


@dataclass
class Study:
    """A study folder read back: its settings and items.

    Attributes
    ----------
    root : Path
    settings : dict
        The contents of ``study.json``.
    items : list of dict
        ``manifest.jsonl``: ``{"item", "kind", "clip", "media": [{"file", "system"}, ...]}``
        (two media for ``ab``, left first; one for ``mos``).
    """

    root: Path
    settings: dict
    items: list[dict]

    @property
    def systems(self) -> list[str]:
        return list(self.settings["systems"])

    @property
    def media_dir(self) -> Path:
        return self.root / "media"

    def item(self, item_id: str) -> dict:
        for it in self.items:
            if it["item"] == item_id:
                return it
        raise InvalidArgumentError(f"item={item_id!r} must be an item of the study")


def _videos(folder: Path) -> dict[str, Path]:
    if not folder.is_dir():
        raise MediaError(f"path={str(folder)!r} must be a folder of videos")
    out: dict[str, Path] = {}
    for p in sorted(folder.iterdir()):
        if p.is_file() and p.suffix.lower() in VIDEO_EXTS:
            if p.stem in out:
                raise InvalidArgumentError(
                    f"path={str(folder)!r} holds two videos of clip {p.stem!r}; keep one"
                )
            out[p.stem] = p
    return out


def _token(rng: random.Random, used: set[str]) -> str:
    while True:
        t = f"{rng.getrandbits(64):016x}"
        if t not in used:
            used.add(t)
            return t


def _place(src: Path, dst: Path) -> None:
    try:
        os.link(src, dst)
    except OSError:
        with atomic_path(dst, suffix=dst.suffix) as tmp:
            shutil.copyfile(src, tmp)


def make_study(
    out_dir: str | os.PathLike,
    systems: Mapping[str, str | os.PathLike],
    *,
    clips: Sequence[str] | None = None,
    seed: int = 0,
    ab: bool = True,
    mos: bool = True,
    ab_repeats: int = 1,
    ab_question: str = AB_QUESTION,
    mos_question: str = MOS_QUESTION,
) -> Study:
    """Build a blinded, randomised A/B + MOS study from two systems' videos.

    Parameters
    ----------
    out_dir : path
        The study folder (created; must not hold a study yet).
    systems : mapping of str -> path
        Exactly two system names -> folders of videos named by clip (``<clip>.mp4``).
    clips : sequence of str, optional
        Clip names (file stems) to use; default every clip both systems have.
    seed : int
        Seeds the tokens, the sides and the item order (same seed, same study).
    ab, mos : bool
        Build the A/B pairs / the MOS items.
    ab_repeats : {1, 2}
        2 shows every pair twice, with the sides swapped.
    ab_question, mos_question : str

    Returns
    -------
    Study
    """
    names = [str(s) for s in systems]
    if len(names) != 2 or names[0] == names[1]:
        raise InvalidArgumentError(f"systems={names!r} must be two different names")
    if not (ab or mos):
        raise InvalidArgumentError("ab=False, mos=False: at least one kind of item is needed")
    if ab_repeats not in (1, 2):
        raise InvalidArgumentError(f"ab_repeats={ab_repeats!r} must be 1 or 2")
    out = Path(out_dir)
    if (out / "study.json").exists() or (out / "manifest.jsonl").exists():
        raise InvalidArgumentError(f"out_dir={str(out)!r} must not hold a study already")
    vids = {n: _videos(Path(systems[n])) for n in names}
    if clips is None:
        chosen = sorted(set(vids[names[0]]) & set(vids[names[1]]))
        if not chosen:
            raise InvalidArgumentError(
                f"systems={names!r}: the two folders must share clip names (file stems)"
            )
    else:
        chosen = [str(c) for c in clips]
        if not chosen:
            raise InvalidArgumentError("clips=[] must name at least one clip")
        if len(set(chosen)) != len(chosen):
            raise InvalidArgumentError(f"clips={chosen!r} must not repeat a clip")
        for n in names:
            missing = [c for c in chosen if c not in vids[n]]
            if missing:
                raise InvalidArgumentError(
                    f"clips={missing!r} must have a video in {str(systems[n])!r} (system {n!r})"
                )
    rng = random.Random(seed)
    out.mkdir(parents=True, exist_ok=True)
    (out / "media").mkdir(exist_ok=True)
    used: set[str] = set()
    media: dict[tuple[str, str], str] = {}
    for c in chosen:
        for n in names:
            src = vids[n][c]
            name = _token(rng, used) + src.suffix.lower()
            _place(src, out / "media" / name)
            media[(n, c)] = name
    items: list[dict] = []
    if ab:
        # counterbalance: half the clips (rounded at random) have system 0 on the left
        n_left = len(chosen) // 2 + (len(chosen) % 2 == 1 and rng.random() < 0.5)
        left0 = [i < n_left for i in range(len(chosen))]
        rng.shuffle(left0)
        for c, first in zip(chosen, left0, strict=True):
            for rep in range(ab_repeats):
                a, b = (names[0], names[1]) if first != bool(rep) else (names[1], names[0])
                items.append(
                    {
                        "kind": "ab",
                        "clip": c,
                        "media": [
                            {"file": media[(a, c)], "system": a},
                            {"file": media[(b, c)], "system": b},
                        ],
                    }
                )
    if mos:
        for c in chosen:
            for n in names:
                items.append(
                    {"kind": "mos", "clip": c, "media": [{"file": media[(n, c)], "system": n}]}
                )
    rng.shuffle(items)
    for i, it in enumerate(items):
        it["item"] = f"i{i:03d}"
        it["index"] = i
    items = [
        {k: it[k] for k in ("item", "kind", "clip", "media")}
        for it in sorted(items, key=lambda d: d["index"])
    ]
    settings = {
        "version": 1,
        "seed": int(seed),
        "systems": names,
        "clips": chosen,
        "ab_repeats": int(ab_repeats),
        "questions": {"ab": ab_question, "mos": mos_question},
        "n_items": {"ab": sum(it["kind"] == "ab" for it in items),
                    "mos": sum(it["kind"] == "mos" for it in items)},
    }  # fmt: skip
    write_text_atomic(
        out / "manifest.jsonl", "".join(json.dumps(it, sort_keys=True) + "\n" for it in items)
    )
    write_text_atomic(out / "study.json", json.dumps(settings, indent=1) + "\n")
    return Study(out, settings, items)


def load_study(study_dir: str | os.PathLike) -> Study:
    """Read a study folder written by :func:`make_study`."""
    root = Path(study_dir)
    sj, mj = root / "study.json", root / "manifest.jsonl"
    if not sj.is_file() or not mj.is_file():
        raise MediaError(
            f"path={str(root)!r} must be a study folder (study.json + manifest.jsonl "
            "written by `talkinghead study make`)"
        )
    settings = json.loads(sj.read_text(encoding="utf-8"))
    items = [json.loads(line) for line in mj.read_text(encoding="utf-8").splitlines() if line]
    return Study(root, settings, items)
