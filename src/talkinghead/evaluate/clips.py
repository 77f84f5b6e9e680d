"""The 21 real evaluation clips of ``docs/default_model.md`` and who speaks in each.

Paths are relative to the shared data folder (``../shared/data``, or
``$TALKINGHEAD_SHARED_DATA``); ``bench/`` and ``scripts/`` read them from here.
"""

from __future__ import annotations

__all__ = ["GRID_DIR", "EVAL_CLIPS", "EVAL_SPEAKERS"]

GRID_DIR = "rizkiarm__LipNet/evaluation/samples"
#: The clips, relative to the shared data folder.
EVAL_CLIPS: tuple[str, ...] = tuple(
    [f"{GRID_DIR}/GRID/{k}.mpg" for k in (
        "bbaf2n", "brbk7n", "lbax4n", "lbbc2a", "lrwp9a", "lwbsza", "pwij3p", "sbia1a",
        "sbwe5n", "swiz3n")]
    + [f"{GRID_DIR}/id2_vcd_swwp2s.mpg"]
    + [f"OpenTalker__video-retalking/examples/face/{i}.mp4" for i in range(1, 6)]
    + [f"OpenTalker__SadTalker/examples/ref_video/WDA_{n}_000.mp4"
       for n in ("AlexandriaOcasioCortez", "KatieHill")]
    + ["tanshuai0219__EDTalk/test_data/pose_source2.mp4",
       "tanshuai0219__EDTalk/test_data/uncrop_Obama.mp4",
       "tanshuai0219__EDTalk/test_data/mouth_source.mp4"]
)  # fmt: skip

#: Speaker of each clip stem (same person = same label; bbaf2n is GRID s1); others: the stem.
EVAL_SPEAKERS: dict[str, str] = {
    "bbaf2n": "grid_s1", "id2_vcd_swwp2s": "pwij3p", "3": "aoc",
    "WDA_AlexandriaOcasioCortez_000": "aoc", "1": "asian_man", "pose_source2": "asian_man",
}  # fmt: skip
