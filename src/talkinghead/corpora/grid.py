"""Recipe for the GRID audio-visual corpus.

Each file name's six letters encode the sentence ``command color preposition letter
digit adverb`` (``bbaf2n`` -> "bin blue at f two now"; :func:`decode_grid`). Word
timings come from a ``.align`` file with the same stem when present (same folder, an
``align/`` folder beside ``video/``, or ``CORPUS_DIR/align[/<speaker>]``): lines
``start end word`` in 1/25000 s. The words are taken from the file name and only the
timings from the file (the spellings in some ``.align`` files were altered). Speaker:
the nearest ``s<N>`` folder, else the folder holding ``video/``, else the parent folder.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from ..errors import InvalidArgumentError
from ._recipe import rel_id, run_recipe
from .manifest import Recording
from .pipeline import PrepareResult, find_videos, paired_audio

__all__ = [
    "decode_grid",
    "read_align",
    "scan_grid",
    "prepare_grid",
    "code_of",
    "ALIGN_UNITS_PER_S",
]

ALIGN_UNITS_PER_S = 25000.0
COMMANDS = {"b": "bin", "l": "lay", "p": "place", "s": "set"}
COLORS = {"b": "blue", "g": "green", "r": "red", "w": "white"}
PREPOSITIONS = {"a": "at", "b": "by", "i": "in", "w": "with"}
DIGITS = {
    "z": "zero",
    "1": "one",
    "2": "two",
    "3": "three",
    "4": "four",
    "5": "five",
    "6": "six",
    "7": "seven",
    "8": "eight",
    "9": "nine",
}
ADVERBS = {"a": "again", "n": "now", "p": "please", "s": "soon"}
_SILENCE = {"sil", "sp", ""}


def decode_grid(code: str) -> list[str]:
    """The six words of a GRID sentence code (``"bbaf2n"`` -> bin blue at f two now).

    Raises
    ------
    InvalidArgumentError
        ``code`` is not six letters of the GRID grammar.
    """
    c = code.lower()
    tables = (COMMANDS, COLORS, PREPOSITIONS, None, DIGITS, ADVERBS)
    if len(c) != 6:
        raise InvalidArgumentError(f"code={code!r} must be 6 characters of a GRID file name")
    words = []
    for ch, table in zip(c, tables, strict=True):
        if table is None:
            if not ("a" <= ch <= "z") or ch == "w":
                raise InvalidArgumentError(f"code={code!r} letter {ch!r} must be a-z without w")
            words.append(ch)
        elif ch not in table:
            raise InvalidArgumentError(
                f"code={code!r} character {ch!r} must be one of {sorted(table)}"
            )
        else:
            words.append(table[ch])
    return words


def read_align(path: str | os.PathLike) -> list[tuple[float, float, str]]:
    """Words of a GRID ``.align`` file as ``(start_s, end_s, word)``, silences removed."""
    out = []
    for line in Path(path).read_text(encoding="utf-8", errors="replace").splitlines():
        parts = line.split()
        if len(parts) < 3:
            continue
        start, end, word = float(parts[0]), float(parts[1]), parts[2]
        if word.lower() in _SILENCE:
            continue
        out.append((start / ALIGN_UNITS_PER_S, end / ALIGN_UNITS_PER_S, word))
    return out


def code_of(stem: str) -> str:
    """The GRID sentence code of a file stem (``"s1_bbaf2n"`` -> ``"bbaf2n"``)."""
    return stem.split("_")[-1]


def _speaker(v: Path, root: Path) -> str:
    for p in [v.parent, *v.parent.parents]:
        if re.fullmatch(r"s\d+", p.name):
            return p.name
        if p == root:
            break
    if v.parent.name == "video":
        return v.parent.parent.name
    return v.parent.name


def _find_align(v: Path, root: Path, speaker: str) -> Path | None:
    code = code_of(v.stem)
    names = {f"{v.stem}.align", f"{code}.align"}
    dirs = [
        v.parent,
        v.parent.parent / "align",
        root / "align",
        root / "align" / speaker,
        root / "alignments" / speaker,
    ]
    if v.parent.name == "video":
        dirs.insert(1, v.parent.parent / "align")
    for d in dirs:
        for n in names:
            if (d / n).is_file():
                return d / n
    return None


def scan_grid(corpus_dir: str | os.PathLike) -> list[Recording]:
    """List GRID videos with their sentence, speaker and word timings.

    A file whose name does not decode is kept with ``transcript=None`` and the reason in
    ``extra["grid_error"]``; an ``.align`` file whose words do not pair up with the
    sentence is noted in ``extra["align_error"]``.
    """
    root = Path(corpus_dir)
    recs = []
    for v in find_videos(root):
        spk = _speaker(v, root)
        extra: dict = {"code": code_of(v.stem)}
        try:
            words = decode_grid(extra["code"])
            transcript = " ".join(words)
        except InvalidArgumentError as e:
            words, transcript = None, None
            extra["grid_error"] = str(e)
        align = _find_align(v, root, spk)
        if align is not None and words is not None:
            timed = read_align(align)
            extra["align"] = os.path.abspath(align)
            if len(timed) == len(words):
                extra["words"] = [
                    [round(s, 5), round(e, 5), w] for (s, e, _), w in zip(timed, words, strict=True)
                ]
            else:
                extra["align_error"] = (
                    f"{align} holds {len(timed)} words; the file name has {len(words)}"
                )
        recs.append(
            Recording(
                id=rel_id(v, root),
                video=str(v),
                audio=paired_audio(v),
                speaker=spk,
                transcript=transcript,
                corpus="grid",
                extra=extra,
            )
        )
    return recs


def prepare_grid(
    corpus_dir: str | os.PathLike, output_dir: str | os.PathLike, num_jobs: int = 1, **opts
) -> PrepareResult:
    """Prepare GRID videos (any folder layout; see the module docstring)."""
    return run_recipe("grid", scan_grid, corpus_dir, output_dir, num_jobs, opts)
