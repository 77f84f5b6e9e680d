"""Argument helpers shared by the command-line modules (``cli.py`` and each stage's
``commands.py``): argparse types and reading a transcript file."""

from __future__ import annotations

import argparse
from pathlib import Path

from ..errors import InvalidArgumentError


def positive_float(text: str) -> float:
    """argparse type: a number > 0."""
    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not v > 0:
        raise argparse.ArgumentTypeError(f"{text!r} must be > 0")
    return v


def positive_int(text: str) -> int:
    """argparse type: a whole number > 0."""
    try:
        v = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if v <= 0:
        raise argparse.ArgumentTypeError(f"{text!r} must be > 0")
    return v


def read_transcript(args) -> str | None:
    """``--transcript-file`` (UTF-8 text) if given, else ``--transcript``, else None."""
    tfile = getattr(args, "transcript_file", None)
    if not tfile:
        return getattr(args, "transcript", None)
    try:
        return Path(tfile).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise InvalidArgumentError(
            f"--transcript-file={tfile!r} must be a readable UTF-8 text file ({type(e).__name__})"
        ) from None
