"""A speaker-disjoint GRID split of a prepared corpus, for ``talkinghead train --splits``.

The Eskimez 2018 protocol (``recipes/protocols.py``) drops every clip that quality control
flagged ``av_offset`` / ``av_uncorrelated``. On 3 s GRID clips the audio-envelope test
behind those flags is unreliable: in ``/work/prepared/hunt`` it flags 64 of 158 GRID
recordings whose speech-sync offset (the phone-model check, ``qc.speech_offset_s``) is
within 40 ms. This split keeps the accepted clips of the numbered GRID speakers whose
speech-sync offset is at most ``--max-offset-ms`` (80) and whose frame rate is within 1 %
of ``--fps`` (25) instead, tests on ``--test`` speakers,
and holds out ``--valid`` of the other speakers' recordings (seeded) for early stopping.
Clips of unnumbered GRID speakers ("GRID speaker, id unknown") are left out: they could be
a test speaker. Usage::

    python bench/grid_speaker_split.py CORPUS_DIR -o splits.json [--test 33 34]
    python bench/grid_speaker_split.py GRID_S1_CORPUS -o splits.json --s1-subset

Prints the counts per split and speaker. ``--s1-subset``: one speaker instead, the GRID s1
sentences (180 / 20 / 50) that ``bench/paper_recipes.py`` trains the single-speaker recipes
on, from a ``talkinghead prepare grid`` corpus of all 1000.
"""

from __future__ import annotations

import argparse
import json
from collections import Counter
from pathlib import Path

import numpy as np


def grid_split(
    corpus_dir, *, test_speakers=(33, 34), valid: float = 0.05, max_offset_ms=80.0, fps=25.0, seed=0
) -> dict:
    """``{"train", "valid", "test": [recording ids], "speakers": {id: GRID number}}``."""
    from talkinghead.corpora.manifest import read_clips, read_recordings
    from talkinghead.errors import InvalidArgumentError
    from talkinghead.recipes.protocols import grid_speaker_number

    spk = {r.id: grid_speaker_number(r.speaker) for r in read_recordings(corpus_dir)}
    keep: dict[str, int] = {}
    for c in read_clips(corpus_dir, status="ok"):
        n = spk.get(c.recording)
        off = (c.qc or {}).get("speech_offset_s")
        if n is None or off is None or abs(float(off)) * 1000.0 > max_offset_ms:
            continue
        if fps and abs(float(c.fps or 0) - fps) > 0.01 * fps:
            continue
        keep[c.recording] = n
    test = sorted(i for i, n in keep.items() if n in set(test_speakers))
    rest = sorted(i for i, n in keep.items() if n not in set(test_speakers))
    if not test or not rest:
        raise InvalidArgumentError(
            f"test_speakers={list(test_speakers)} must leave test and training recordings "
            f"(found {len(test)} test, {len(rest)} others)"
        )
    order = np.random.default_rng(seed).permutation(len(rest))
    k = max(1, int(round(valid * len(rest))))
    held = sorted(rest[i] for i in order[:k])
    train = sorted(set(rest) - set(held))
    return {"train": train, "valid": held, "test": test, "speakers": dict(sorted(keep.items()))}


def grid_s1_subset_split(corpus_dir, *, n_train=180, n_valid=20, n_test=50, seed=0) -> dict:
    """The GRID s1 sentences of ``bench/paper_recipes.py`` (its ``grid_s1`` corpus: a seeded
    sample of ``n_train + n_valid + n_test`` of the sorted sentence codes, shuffled with
    ``seed + 1`` into train / valid / test) as recording ids of a prepared GRID s1 corpus
    (``talkinghead prepare grid``: ids ``video/<code>``). Sentences whose clip is not
    accepted are left out."""
    import random

    from talkinghead.corpora.manifest import read_clips, read_recordings
    from talkinghead.errors import InvalidArgumentError

    ok = {c.recording for c in read_clips(corpus_dir, status="ok")}
    by_code = {r.id.rsplit("/", 1)[-1]: r.id for r in read_recordings(corpus_dir)}
    codes = sorted(by_code)
    if len(codes) != 1000:
        raise InvalidArgumentError(
            f"corpus_dir={str(corpus_dir)!r} must hold the 1000 GRID s1 sentences "
            f"(found {len(codes)} recordings)"
        )
    stems = sorted(random.Random(seed).sample(codes, n_train + n_valid + n_test))
    order = stems[:]
    random.Random(seed + 1).shuffle(order)
    parts = {
        "train": order[:n_train],
        "valid": order[n_train : n_train + n_valid],
        "test": order[n_train + n_valid :],
    }
    return {k: sorted(by_code[s] for s in v if by_code[s] in ok) for k, v in parts.items()}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("corpus", type=Path)
    p.add_argument("-o", "--output", type=Path, required=True)
    p.add_argument("--test", type=int, nargs="+", default=[33, 34], help="test GRID speakers")
    p.add_argument("--valid", type=float, default=0.05, help="held-out share of the others")
    p.add_argument("--max-offset-ms", type=float, default=80.0)
    p.add_argument("--fps", type=float, default=25.0, help="frame rate kept (0: any)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument(
        "--s1-subset",
        action="store_true",
        help="GRID s1 only: the 180/20/50 sentences of bench/paper_recipes.py",
    )
    a = p.parse_args(argv)
    from talkinghead._util.atomic import write_text_atomic

    if a.s1_subset:
        sp = grid_s1_subset_split(a.corpus, seed=a.seed)
        write_text_atomic(a.output, json.dumps(sp, indent=1) + "\n")
        print({k: len(v) for k, v in sp.items()})
        return 0

    sp = grid_split(
        a.corpus,
        test_speakers=a.test,
        valid=a.valid,
        max_offset_ms=a.max_offset_ms,
        fps=a.fps,
        seed=a.seed,
    )
    write_text_atomic(a.output, json.dumps(sp, indent=1) + "\n")
    for k in ("train", "valid", "test"):
        c = Counter(f"s{sp['speakers'][i]}" for i in sp[k])
        print(f"{k}: {len(sp[k])} recordings, {dict(sorted(c.items()))}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
