"""The general refiner recipe (Yi et al. 2020's multi-person stage) on real clips, tiny."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from talkinghead.errors import InvalidArgumentError
from talkinghead.models.refiner import RefinerConfig
from talkinghead.recipes.yi2020 import pretrain_refiner

torch.set_num_threads(1)
CLIPS = (
    "rizkiarm__LipNet/evaluation/samples/GRID/bbaf2n.mpg",
    "rizkiarm__LipNet/evaluation/samples/GRID/swiz3n.mpg",
)
TINY = RefinerConfig(size=32, base_channels=8, memory_slots=4, key_dim=8)


def test_pairs_from_several_people_failures_counted_and_cached(shared_data, tmp_path):
    broken = tmp_path / "broken.mp4"
    broken.write_bytes(b"not a video")
    videos = [shared_data / c for c in CLIPS] + [broken]
    res = pretrain_refiner(videos, tmp_path / "w", size=32, steps=2, max_pairs_per_video=5,
                           config=TINY, progress=False)  # fmt: skip
    assert res.n_pairs == 10 and sorted(res.videos.values()) == [5, 5]
    assert list(res.failed) == [f"{tmp_path.name}__broken"]
    assert res.failed[f"{tmp_path.name}__broken"].startswith("VideoDecodeError: path=")
    log = (tmp_path / "w" / "pairs.log").read_text().splitlines()
    assert sum(line.startswith("done") for line in log) == 2
    assert sum(line.startswith("failed") for line in log) == 1
    with np.load(next((tmp_path / "w" / "pairs").glob("*bbaf2n.npz"))) as z:
        x, y = z["inputs"], z["targets"]
    assert x.shape == y.shape == (5, 32, 32, 3) and x.dtype == np.uint8
    # the input is the warped reference: close to, but not, the real frame
    assert 0 < np.abs(x.astype(int) - y).mean() < 40
    assert (tmp_path / "w" / "train" / "model.safetensors").is_file()
    # a rerun reuses the cached pairs and the finished training
    again = pretrain_refiner(videos[:2], tmp_path / "w", size=32, steps=2, config=TINY,
                             max_pairs_per_video=5, progress=False)  # fmt: skip
    assert again.n_pairs == 10 and again.seconds["pairs"] < res.seconds["pairs"]
    with pytest.raises(InvalidArgumentError, match="none of the 1 videos"):
        pretrain_refiner([broken], tmp_path / "w2", size=32, steps=1, config=TINY,
                         progress=False)  # fmt: skip
