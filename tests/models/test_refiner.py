"""Refiner (U-Net + key-value memory) and its training loop."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from talkinghead.errors import CheckpointError, InvalidArgumentError
from talkinghead.models.refiner import MemoryBlock, PatchDiscriminator, Refiner, RefinerConfig
from talkinghead.training.refiner_train import train_refiner

torch.set_num_threads(1)
TINY = RefinerConfig(size=32, base_channels=8, memory_slots=4, key_dim=8)


def test_shapes_and_identity_start():
    torch.manual_seed(0)
    m = Refiner(TINY)
    x = torch.rand(2, 3, 32, 32) * 2 - 1
    y = m(x)
    assert y.shape == (2, 3, 32, 32)
    torch.testing.assert_close(y, x)  # zero-initialised output layer: identity at start
    assert PatchDiscriminator(8)(x, y).shape == (2, 1, 4, 4)
    with pytest.raises(InvalidArgumentError, match="multiples of 8"):
        m(torch.zeros(1, 3, 30, 30))
    assert 0.5e6 < Refiner(RefinerConfig()).n_params < 2e6


def test_memory_block_shapes():
    torch.manual_seed(0)
    mem = MemoryBlock(16, slots=5, key_dim=6)
    x = torch.randn(2, 16, 4, 3)
    w = mem.attention(x)
    assert w.shape == (2, 12, 5)
    torch.testing.assert_close(w.sum(-1), torch.ones(2, 12))
    assert mem(x).shape == x.shape
    assert mem.keys.shape == (5, 6) and mem.values.shape == (5, 16)


def test_save_load_identical(tmp_path):
    torch.manual_seed(1)
    m = Refiner(TINY)
    with torch.no_grad():
        for p in m.parameters():
            p.add_(0.05 * torch.randn_like(p))
    m.eval()
    m2 = Refiner.from_pretrained(m.save_pretrained(tmp_path / "r"))
    assert m2.config == TINY
    x = torch.rand(1, 3, 32, 32) * 2 - 1
    torch.testing.assert_close(m2(x), m(x), rtol=0, atol=0)
    img = np.random.default_rng(0).integers(0, 256, (32, 32, 3), dtype=np.uint8)
    assert m.refine(img).shape == (32, 32, 3)
    with pytest.raises(CheckpointError, match="config.json"):
        Refiner.from_pretrained(tmp_path / "missing")


def _pairs(n=4, s=32):
    """Targets: smooth colour blobs; inputs: the targets darkened and shifted in colour."""
    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[0:s, 0:s] / s
    tg = []
    for _ in range(n):
        c = rng.uniform(0.3, 0.7, 2)
        blob = np.exp(-((xx - c[0]) ** 2 + (yy - c[1]) ** 2) / 0.05)
        tg.append(np.stack([blob, 0.5 * blob + 0.3, 1 - blob], -1) * 200 + 20)
    tg = np.asarray(tg).astype(np.uint8)
    inp = np.clip(tg.astype(int) * 0.7 + [30, -10, 0], 0, 255).astype(np.uint8)
    return inp, tg


def test_training_lowers_l1_and_resumes(tmp_path):
    x, y = _pairs()

    def l1(m):
        return float(np.abs(m.refine(x).astype(float) - y).mean())

    before = float(np.abs(x.astype(float) - y).mean())
    r = train_refiner(x, y, tmp_path / "a", config=TINY, steps=30, lr=2e-3, adv_start=0.0,
                      save_every=10, log_every=1, progress=False)  # fmt: skip
    assert r.steps == 30 and len(r.history) == 30
    assert l1(r.model) < 0.7 * before
    assert (tmp_path / "a" / "model.safetensors").is_file()
    assert (tmp_path / "a" / "last" / "discriminator.safetensors").is_file()
    # stopped at 20 steps then resumed to 30 == 30 steps straight
    train_refiner(x, y, tmp_path / "b", config=TINY, steps=20, lr=2e-3, adv_start=0.0,
                  save_every=10, progress=False)  # fmt: skip
    rb = train_refiner(x, y, tmp_path / "b", config=TINY, steps=30, lr=2e-3, adv_start=0.0,
                       save_every=10, progress=False)  # fmt: skip
    assert rb.resumed_from == 20
    for (k, a), (_, b) in zip(r.model.state_dict().items(), rb.model.state_dict().items(),
                              strict=True):  # fmt: skip
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-6, msg=k)


def test_bad_inputs(tmp_path):
    x, y = _pairs()
    with pytest.raises(InvalidArgumentError, match="targets.shape"):
        train_refiner(x, y[:2], tmp_path, config=TINY, steps=1, progress=False)
    with pytest.raises(InvalidArgumentError, match="config.size"):
        train_refiner(x, y, tmp_path, config=RefinerConfig(size=64), steps=1, progress=False)


def test_half_checkpoint_and_fine_tuning_from_init(tmp_path):
    x, y = _pairs()
    a = train_refiner(x, y, tmp_path / "a", config=TINY, steps=30, lr=2e-3, adv_start=0.0,
                      progress=False)  # fmt: skip
    # float16 copy: half the size, loads back as float32 within float16 rounding
    full, half = tmp_path / "a", a.model.save_pretrained(tmp_path / "half", half=True)
    size = lambda d: (d / "model.safetensors").stat().st_size  # noqa: E731
    assert size(half) < 0.6 * size(full)
    h = Refiner.from_pretrained(half)
    for (k, p), (_, q) in zip(a.model.state_dict().items(), h.state_dict().items(), strict=True):
        assert q.dtype == p.dtype
        torch.testing.assert_close(q, p, rtol=2e-3, atol=1e-3, msg=k)
    # fine-tuning starts from the given weights: one small step stays near them and far
    # from a fresh start; the L1 after it is already that of the trained model
    ft = train_refiner(x, y, tmp_path / "ft", config=TINY, steps=1, lr=1e-5, adv_start=1.0,
                       init=full, progress=False)  # fmt: skip
    fresh = train_refiner(x, y, tmp_path / "fresh", config=TINY, steps=1, lr=1e-5,
                          adv_start=1.0, progress=False)  # fmt: skip

    def dist(m, n):
        return sum(
            float((p - q).detach().abs().sum())
            for p, q in zip(m.parameters(), n.parameters(), strict=True)
        )

    assert dist(ft.model, a.model) < 0.01 * dist(fresh.model, a.model)
    l1 = lambda m: float(np.abs(m.refine(x).astype(float) - y).mean())  # noqa: E731
    assert l1(ft.model) < l1(fresh.model) - 1.0
    with pytest.raises(InvalidArgumentError, match="init="):
        train_refiner(x, y, tmp_path / "bad", config=RefinerConfig(size=32, base_channels=4,
                      memory_slots=4, key_dim=4), steps=1, init=full, progress=False)  # fmt: skip
