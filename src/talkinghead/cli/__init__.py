"""The ``talkinghead`` command line: a thin layer over the library, one module per command
group (each adds its sub-commands with ``register(subparsers)``) and one :func:`main`.

Every command reads real media, writes its output atomically and shows a
progress bar on long work; errors print one line (``talkinghead: error: ...``)
and exit with status 2, never a traceback. Parsing imports nothing heavy: every handler
imports the library code it runs.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
import types

from .._util.cores import idle_cores as _idle_cores
from ..errors import TalkingHeadError
from .args import CLIParser

__all__ = ["build_parser", "main"]

#: The command groups, in the order ``--help`` lists them (the data flow), with the
#: sub-commands each registers: a command line that names one builds only its group.
_COMMAND_MODULES = {
    "talkinghead.cli.analyze": ("track", "features"),
    "talkinghead.cli.animate": ("animate", "say"),
    "talkinghead.cli.export": ("export",),
    "talkinghead.cli.render": ("render",),
    "talkinghead.cli.corpus": ("prepare", "corpus"),
    "talkinghead.cli.train": ("train",),
    "talkinghead.cli.evaluate": ("evaluate",),
    "talkinghead.cli.serve": ("serve",),
    "talkinghead.cli.personalize": ("personalize",),
    "talkinghead.cli.study": ("study",),
}


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The command-line parser: every command group's, or with ``command`` (a sub-command
    name) only the group that registers it (importing and building all ten groups is
    ~20-30 ms of a ~0.4 s ``animate``; an unknown name builds them all, for the error)."""
    p = CLIParser(
        prog="talkinghead",
        description="Speech in, a talking face out: track faces, compute the papers' "
        "features, animate a face from speech and render it.",
    )
    p.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bars")
    sub = p.add_subparsers(dest="command", metavar="COMMAND", required=True)
    mods = [m for m, names in _COMMAND_MODULES.items() if command in names] or _COMMAND_MODULES
    for mod in mods:
        importlib.import_module(mod).register(sub)
    return p


def _version() -> str:
    from .. import __version__

    return __version__


def _oserror_message(e: OSError) -> str:
    """``path='...' must be ...`` for an OSError no command turned into its own error."""
    name = os.fspath(e.filename) if e.filename is not None else None
    what = f"path={name!r} must be accessible" if name else "a file operation failed"
    return f"{what}: {e.strerror or e} (errno {e.errno})"


#: Commands whose numpy work is short (start-up dominates): one BLAS thread per idle core.
_SHORT_JOBS = frozenset({"animate", "say", "export", "render"})


class _DeferredSecrets(types.ModuleType):
    """Stand-in for :mod:`secrets`: ``randbits`` as the real module defines it
    (``random.SystemRandom().getrandbits``: os.urandom), anything else loads the real one."""

    def __getattr__(self, name):
        if isinstance(sys.modules.get("secrets"), _DeferredSecrets):
            del sys.modules["secrets"]
        return getattr(importlib.import_module("secrets"), name)


def _defer_secrets() -> None:
    """``numpy.random`` imports :mod:`secrets` for ``randbits`` (the entropy of its global
    unseeded generator, drawn at import), and with it :mod:`hmac` and OpenSSL's libcrypto
    (~10 ms of a cold ``animate``, measured under load). Short jobs get a stand-in with the
    same ``randbits``; the real module loads on the first use of anything else."""
    if "secrets" not in sys.modules and "numpy.random" not in sys.modules:
        import random

        stub = _DeferredSecrets("secrets")
        stub.randbits = random.SystemRandom().getrandbits  # == secrets.randbits
        sys.modules["secrets"] = stub


def _keep_freed_memory() -> None:
    """Let glibc keep freed memory for reuse instead of handing it back to the kernel at once.

    By default it returns the top of the heap as soon as more than twice the (dynamic)
    mmap threshold is free, and maps big arrays fresh: a short job that allocates and frees
    arrays of a few megabytes over and over then pays a page fault for every page each time
    (``animate`` of 60 s of speech to npz: 32k minor faults; 15k with this, measured). Up to
    256 MB freed stay in the heap until the process exits (the peak memory is unchanged).
    Does nothing where ``mallopt`` is not there (not glibc)."""
    try:
        import ctypes

        mallopt = ctypes.CDLL(None).mallopt
    except (ImportError, OSError, AttributeError, TypeError):  # TypeError: CDLL(None), Windows
        return
    m_trim_threshold, m_top_pad, m_mmap_threshold = -1, -2, -3  # <malloc.h>
    mallopt(m_mmap_threshold, 32 << 20)  # glibc's largest on 64-bit; fixed: no re-mapping
    mallopt(m_trim_threshold, 256 << 20)
    mallopt(m_top_pad, 16 << 20)


def main(argv: list[str] | None = None) -> int:
    from .._util.signals import Terminated, terminate_raises

    argv = sys.argv[1:] if argv is None else list(argv)
    # the sub-command named on the line (the top-level options are flags without values)
    parser = build_parser(next((a for a in argv if not a.startswith("-")), None))
    args = parser.parse_args(argv)
    if args.quiet:
        os.environ["TALKINGHEAD_PROGRESS"] = "0"
    # torch (personalize, train, --refine, --person) and OpenMP code: one thread per idle
    # core, read when torch is first imported. Two threads where one core is busy made
    # `personalize`'s learned-mouth fine-tuning 3.6x and its refiner 10x slower (measured,
    # docs/benchmarks.md, session 13); on an idle machine it is every core, as before
    cores = str(_idle_cores())
    os.environ.setdefault("OMP_NUM_THREADS", cores)
    if args.command in _SHORT_JOBS and "numpy" not in sys.modules:
        # second-long jobs: one BLAS thread per idle core. On a loaded machine one thread is
        # 1.6-1.8x faster than two (OpenBLAS threads spin); on an idle one the default
        # model's convolutions split over the cores (bench/cold_start.py, docs/benchmarks.md)
        os.environ.setdefault("OPENBLAS_NUM_THREADS", cores)
        _defer_secrets()
        _keep_freed_memory()
    import warnings

    formatwarning = warnings.formatwarning
    warnings.formatwarning = _warning_format(formatwarning)
    try:
        with terminate_raises():  # SIGTERM unwinds: temporary files are removed
            return int(args.func(args) or 0)
    except TalkingHeadError as e:
        print(f"talkinghead: error: {e}", file=sys.stderr)
        return 2
    except OSError as e:  # e.g. a full disk met outside an atomic write
        print(f"talkinghead: error: {_oserror_message(e)}", file=sys.stderr)
        return 2
    except MemoryError as e:  # an input far larger than this machine's memory
        print(f"talkinghead: error: the input must fit in memory: MemoryError {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("talkinghead: interrupted", file=sys.stderr)
        return 130
    except Terminated:
        print("talkinghead: terminated", file=sys.stderr)
        return 143
    finally:
        warnings.formatwarning = formatwarning


def _warning_format(default):
    """Our own warnings on the command line read like its errors (``talkinghead: warning:
    ...``), without the Python file, line and source line of the default format; other
    packages' warnings keep ``default``."""
    package = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep

    def fmt(message, category, filename, lineno, line=None) -> str:
        if os.path.abspath(filename).startswith(package):
            return f"talkinghead: warning: {message}\n"
        return default(message, category, filename, lineno, line)

    return fmt


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
