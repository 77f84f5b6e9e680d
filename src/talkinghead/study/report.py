"""Results of a study (``talkinghead study report``): preferences and MOS with intervals.

* A/B: the answers are unblinded with the manifest (``A`` = the left video). For the
  system pair, the preference rate of the first system is ``k / n`` over all answers,
  with its Wilson interval and the exact two-sided binomial test against 0.5
  (:mod:`.stats`); per rater too.
* MOS: per system, the mean of the 1-5 ratings with a Student-t interval and a percentile
  bootstrap interval (seeded).

Only the first answer of a session to an item counts (the server refuses repeats;
a hand-merged answers file could still hold some).
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path

from .._util.atomic import write_text_atomic
from .manifest import load_study
from .stats import binomial_test, bootstrap_interval, t_interval, wilson_interval
from .store import read_jsonl

__all__ = ["study_report", "report_markdown", "write_study_report"]


def _clean(v):
    if isinstance(v, float):
        return None if not math.isfinite(v) else v
    if isinstance(v, dict):
        return {k: _clean(x) for k, x in v.items()}
    if isinstance(v, list | tuple):
        return [_clean(x) for x in v]
    return v


def study_report(
    study_dir: str | os.PathLike,
    *,
    answers_path=None,
    level: float = 0.95,
    n_boot: int = 10000,
    seed: int = 0,
) -> dict:
    """Unblind and summarise the answers of a study.

    Parameters
    ----------
    study_dir : path
    answers_path : path, optional
        Default ``study_dir/answers.jsonl``.
    level : float
        Confidence level of every interval (0.95).
    n_boot : int
        Bootstrap resamples of the MOS interval.
    seed : int
        Seed of the bootstrap.

    Returns
    -------
    dict
        ``{"systems", "level", "n_raters", "n_sessions", "ab": {...}, "mos": {system: {...}}}``;
        ``ab`` has ``n``, ``wins`` (system -> count), ``rate`` (of the first system),
        ``ci``, ``p_value`` and ``by_rater``; each MOS entry has ``n``, ``mean``, ``sd``,
        ``t_ci``, ``bootstrap_ci`` and ``histogram`` (counts of 1..5).
    """
    study = load_study(study_dir)
    a, b = study.systems
    items = {it["item"]: it for it in study.items}
    seen: set[tuple[str, str]] = set()
    ab_rows, mos = [], {a: [], b: []}
    sessions, raters = set(), set()
    for rec in read_jsonl(answers_path or Path(study_dir) / "answers.jsonl"):
        key = (str(rec.get("session")), str(rec.get("item")))
        it = items.get(key[1])
        if it is None or key in seen:
            continue
        seen.add(key)
        sessions.add(key[0])
        raters.add(str(rec.get("rater")))
        r = rec.get("response")
        if it["kind"] == "ab" and r in ("A", "B"):
            chosen = it["media"][0 if r == "A" else 1]["system"]
            ab_rows.append((str(rec.get("rater")), chosen, it["media"][0]["system"]))
        elif it["kind"] == "mos" and r in (1, 2, 3, 4, 5):
            mos[it["media"][0]["system"]].append(int(r))
    n = len(ab_rows)
    k = sum(1 for _, c, _ in ab_rows if c == a)
    by_rater = {}
    for rater in sorted({r for r, _, _ in ab_rows}):
        rows = [c for r, c, _ in ab_rows if r == rater]
        kr = sum(1 for c in rows if c == a)
        by_rater[rater] = {
            "n": len(rows),
            "wins": {a: kr, b: len(rows) - kr},
            "rate": kr / len(rows),
            "ci": list(wilson_interval(kr, len(rows), level=level)),
        }
    left = sum(1 for _, c, l in ab_rows if c == l)
    ab = {
        "n": n,
        "wins": {a: k, b: n - k},
        "rate": k / n if n else float("nan"),
        "ci": list(wilson_interval(k, n, level=level)),
        "p_value": binomial_test(k, n),
        "left_rate": left / n if n else float("nan"),
        "by_rater": by_rater,
    }
    mos_out = {}
    for s in (a, b):
        x = mos[s]
        m, lo, hi = t_interval(x, level=level)
        _, blo, bhi = bootstrap_interval(x, level=level, n_boot=n_boot, seed=seed)
        sd = math.sqrt(sum((v - m) ** 2 for v in x) / (len(x) - 1)) if len(x) > 1 else float("nan")
        mos_out[s] = {
            "n": len(x),
            "mean": m,
            "sd": sd,
            "t_ci": [lo, hi],
            "bootstrap_ci": [blo, bhi],
            "histogram": [x.count(i) for i in range(1, 6)],
        }
    return _clean(
        {
            "systems": [a, b],
            "level": level,
            "n_raters": len(raters),
            "n_sessions": len(sessions),
            "ab": ab,
            "mos": mos_out,
        }
    )


def _f(v, fmt=".3f") -> str:
    return "-" if v is None else format(v, fmt)


def report_markdown(rep: dict) -> str:
    """The report of :func:`study_report` as Markdown."""
    a, b = rep["systems"]
    pct = round(100 * rep["level"])
    ab = rep["ab"]
    lines = [
        f"# Perceptual study: {a} vs {b}",
        "",
        f"{rep['n_raters']} raters, {rep['n_sessions']} sessions.",
        "",
        "## A/B preference",
        "",
        f"| answers | {a} preferred | {b} preferred | rate of {a} | {pct} % Wilson CI | "
        "binomial p (vs 0.5) | left chosen |",
        "|---:|---:|---:|---:|---|---:|---:|",
        f"| {ab['n']} | {ab['wins'][a]} | {ab['wins'][b]} | {_f(ab['rate'])} | "
        f"[{_f(ab['ci'][0])}, {_f(ab['ci'][1])}] | {_f(ab['p_value'], '.3g')} | "
        f"{_f(ab['left_rate'])} |",
        "",
    ]
    if ab["by_rater"]:
        lines += [f"| rater | answers | rate of {a} | {pct} % Wilson CI |", "|---|---:|---:|---|"]
        for r, d in ab["by_rater"].items():
            lines.append(
                f"| {r} | {d['n']} | {_f(d['rate'])} | [{_f(d['ci'][0])}, {_f(d['ci'][1])}] |"
            )
        lines.append("")
    lines += [
        "## Mean opinion score (1-5)",
        "",
        f"| system | ratings | MOS | sd | {pct} % t CI | {pct} % bootstrap CI | "
        "1 / 2 / 3 / 4 / 5 |",
        "|---|---:|---:|---:|---|---|---|",
    ]
    for s in (a, b):
        d = rep["mos"][s]
        lines.append(
            f"| {s} | {d['n']} | {_f(d['mean'], '.2f')} | {_f(d['sd'], '.2f')} | "
            f"[{_f(d['t_ci'][0], '.2f')}, {_f(d['t_ci'][1], '.2f')}] | "
            f"[{_f(d['bootstrap_ci'][0], '.2f')}, {_f(d['bootstrap_ci'][1], '.2f')}] | "
            + " / ".join(str(c) for c in d["histogram"])
            + " |"
        )
    return "\n".join(lines) + "\n"


def write_study_report(rep: dict, *, json_path=None, md_path=None) -> None:
    """Write the report as JSON and / or Markdown, atomically."""
    if json_path:
        write_text_atomic(json_path, json.dumps(rep, indent=1, allow_nan=False) + "\n")
    if md_path:
        write_text_atomic(md_path, report_markdown(rep))
