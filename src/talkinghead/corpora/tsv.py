"""Recipe for a folder described by a ``MANIFEST.tsv`` (e.g. ``../shared/data`` and its ``hunt/``).

The manifest is tab-separated with a header; the columns read are ``file`` (path relative
to the folder), ``kind`` (only ``video`` rows are taken), ``has_audio``, ``source_repo``
and ``speaker_hint``. A video row is prepared when it has its own audio track
(``has_audio`` = ``yes``) or a ``.wav``/``.flac`` with its stem beside it.

Per recording: ``speaker`` = the ``speaker_hint`` (as written), ``extra["source_repo"]``,
``extra["source"]`` (the first folder of ``file``: the repository folder) and
``extra["person"]`` (:func:`talkinghead.corpora.people.person_id`: one id per person
across copies, e.g. ``grid:s4`` for every copy of GRID speaker s4). GRID clips (a hint
or note naming GRID) whose file name ends in a GRID sentence code get the sentence as
their transcript and, when a ``.align`` file is found (see
:mod:`talkinghead.corpora.grid`), its word timings in ``extra["words"]``.
"""

from __future__ import annotations

import csv
import os
from pathlib import Path

from ..errors import InvalidArgumentError, MediaError
from ._recipe import run_recipe
from .manifest import Recording
from .pipeline import PrepareResult, paired_audio

__all__ = ["read_manifest_tsv", "scan_tsv", "prepare_tsv", "grid_transcript"]


def read_manifest_tsv(path: str | os.PathLike) -> list[dict]:
    """Rows of a ``MANIFEST.tsv`` as dicts (header = keys).

    Raises
    ------
    MediaError
        The file is missing or has no ``file`` column.
    """
    p = Path(path)
    if not p.is_file():
        raise MediaError(f"path={str(p)!r} must be a MANIFEST.tsv file")
    with open(p, encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f, delimiter="\t"))
    if rows and "file" not in rows[0]:
        raise MediaError(f"path={str(p)!r} must have a 'file' column")
    return rows


def grid_transcript(path: str | os.PathLike) -> str | None:
    """The GRID sentence coded in a file name, or in its folder's (``f1_s34_lbwh5n/video.mp4``).

    The code is the last ``_``-separated part of the stem, else of the parent folder name;
    None when neither decodes (see :func:`talkinghead.corpora.grid.decode_grid`).
    """
    from .grid import code_of, decode_grid

    p = Path(path)
    for name in (p.stem, p.parent.name):
        try:
            return " ".join(decode_grid(code_of(name)))
        except InvalidArgumentError:
            continue
    return None


def _grid_info(v: Path, root: Path, row: dict) -> tuple[str | None, dict]:
    from .grid import _find_align, code_of, decode_grid, read_align

    hint = f"{row.get('speaker_hint', '')} {row.get('notes', '')} {row.get('license_of_repo', '')}"
    if "grid" not in hint.lower():
        return None, {}
    code = code_of(v.stem)
    try:
        words = decode_grid(code)
    except InvalidArgumentError:
        sentence = grid_transcript(v)  # the code in the folder name
        return sentence, {} if sentence is None else {"code": code_of(v.parent.name)}
    extra: dict = {"code": code}
    align = _find_align(v, root, v.parent.name)
    if align is not None:
        timed = read_align(align)
        extra["align"] = os.path.abspath(align)
        if len(timed) == len(words):
            extra["words"] = [
                [round(s, 5), round(e, 5), w] for (s, e, _), w in zip(timed, words, strict=True)
            ]
    return " ".join(words), extra


def scan_tsv(corpus_dir: str | os.PathLike, *, exclude: tuple | list = ()) -> list[Recording]:
    """List the video rows of ``corpus_dir/MANIFEST.tsv`` that have audio (see module doc).

    Parameters
    ----------
    corpus_dir : path
        Folder holding ``MANIFEST.tsv``.
    exclude : sequence of str
        Skip rows whose ``file`` starts with one of these prefixes (e.g. ``"grid_s1/"``).
    """
    from .people import person_id

    root = Path(corpus_dir)
    rows = read_manifest_tsv(root / "MANIFEST.tsv")
    recs = []
    for row in rows:
        rel = row["file"]
        if rel.startswith(root.resolve().name + "/") and not (root / rel).is_file():
            rel = rel[len(root.resolve().name) + 1 :]  # hunt/MANIFEST.tsv names "hunt/..."
        if row.get("kind", "video") != "video" or any(rel.startswith(p) for p in exclude):
            continue
        v = root / rel
        if not v.is_file():
            continue
        audio = paired_audio(v)
        if row.get("has_audio", "yes") != "yes" and audio == os.path.abspath(v):
            continue
        transcript, extra = _grid_info(v, root, row)
        hint = row.get("speaker_hint") or None
        source = rel.split("/")[0]
        extra.update(
            source_repo=row.get("source_repo", ""),
            source=source,
            person=person_id(hint or "", source=source, file=rel),
        )
        recs.append(
            Recording(
                id=str(Path(rel).with_suffix("").as_posix()),
                video=str(v),
                audio=audio,
                speaker=hint,
                transcript=transcript,
                corpus="tsv",
                extra=extra,
            )
        )
    return recs


def prepare_tsv(
    corpus_dir: str | os.PathLike, output_dir: str | os.PathLike, num_jobs: int = 1, **opts
) -> PrepareResult:
    """Prepare the videos listed in ``corpus_dir/MANIFEST.tsv``; ``opts``: ``exclude=``."""
    return run_recipe("tsv", scan_tsv, corpus_dir, output_dir, num_jobs, opts)
