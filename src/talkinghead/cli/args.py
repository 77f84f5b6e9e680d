"""Argument helpers shared by the modules of :mod:`talkinghead.cli`: argparse types with
limits (and the limits of the shared options), the parser class whose errors are one
``talkinghead: error: NAME=VALUE must ...`` line, output-extension checks and reading a
transcript file."""

from __future__ import annotations

import argparse
import math
import re
from pathlib import Path

from ..errors import InvalidArgumentError

__all__ = [
    "CLIParser",
    "int_in",
    "float_in",
    "positive_int",
    "read_transcript",
    "check_suffix",
    "VIDEO_EXTS",
    "FPS",
    "VIDEO_SIZE",
    "TRACK_SIZE",
]


class CLIParser(argparse.ArgumentParser):
    """ArgumentParser whose usage errors are one line, like the commands' own errors.

    ``argument --fps: '1e9' must be ...`` becomes
    ``talkinghead: error: --fps='1e9' must be ... (see 'talkinghead animate --help')``,
    exit status 2. Sub-parsers made by ``add_subparsers`` inherit the class.
    """

    def error(self, message: str):  # noqa: D102 - argparse API
        m = re.match(r"argument ([^:]+): ('.*?') (must .*)$", message, re.S)
        if m:  # a type error of ours: NAME=VALUE must ...
            name = max(m.group(1).split("/"), key=len)
            message = f"{name}={m.group(2)} {m.group(3)}"
        self.exit(2, f"talkinghead: error: {message} (see '{self.prog} --help')\n")


def _number(text: str, kind: type):
    try:
        v = kind(text)
    except ValueError:
        what = "a whole number" if kind is int else "a number"
        raise argparse.ArgumentTypeError(f"{text!r} must be {what}") from None
    if kind is float and not math.isfinite(v):
        raise argparse.ArgumentTypeError(f"{text!r} must be a finite number")
    return v


def int_in(lo: int, hi: int | None = None):
    """argparse type: a whole number in ``[lo, hi]`` (``hi=None``: no upper limit)."""

    def parse(text: str) -> int:
        v = _number(text, int)
        if v < lo or (hi is not None and v > hi):
            rng = f"in [{lo}, {hi}]" if hi is not None else f">= {lo}"
            raise argparse.ArgumentTypeError(f"{text!r} must be a whole number {rng}")
        return v

    parse.__name__ = f"int_in_{lo}_{hi}"
    return parse


def float_in(lo: float, hi: float, *, lo_open: bool = False):
    """argparse type: a finite number in ``[lo, hi]`` (``(lo, hi]`` with ``lo_open``)."""

    def parse(text: str) -> float:
        v = _number(text, float)
        if v < lo or v > hi or (lo_open and v == lo):
            rng = f"{'(' if lo_open else '['}{lo:g}, {hi:g}]"
            raise argparse.ArgumentTypeError(f"{text!r} must be a number in {rng}")
        return v

    parse.__name__ = f"float_in_{lo}_{hi}"
    return parse


def positive_int(text: str) -> int:
    """argparse type: a whole number > 0."""
    v = _number(text, int)
    if v <= 0:
        raise argparse.ArgumentTypeError(f"{text!r} must be > 0")
    return v


def read_transcript(args) -> str | None:
    """``--transcript-file`` (UTF-8 text) if given, else ``--transcript``, else None."""
    tfile = args.transcript_file
    if not tfile:
        return args.transcript
    try:
        return Path(tfile).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise InvalidArgumentError(
            f"--transcript-file={tfile!r} must be a readable UTF-8 text file ({type(e).__name__})"
        ) from None


#: Extensions read as a video (its audio track is the speech).
VIDEO_EXTS = {".mp4", ".mpg", ".mpeg", ".avi", ".flv", ".mov", ".mkv", ".webm", ".m4v"}

#: Limits of the numeric options (checked by argparse, before any work)
FPS = float_in(1, 240)
VIDEO_SIZE = int_in(16, 4096)
TRACK_SIZE = int_in(32, 8192)


def check_suffix(path: str, allowed: tuple[str, ...], name: str = "output") -> str:
    """The lower-case extension of ``path``; raises InvalidArgumentError unless in ``allowed``."""
    ext = Path(path).suffix.lower()
    if ext not in allowed:
        raise InvalidArgumentError(f"{name}={path!r} must end in one of {list(allowed)}")
    return ext
