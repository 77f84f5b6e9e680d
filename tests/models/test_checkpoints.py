"""One checkpoint format (``_util.checkpoint.PretrainedMixin``): every shipped checkpoint
loads, and saving it again writes the very bytes that are shipped."""

from __future__ import annotations

import pytest

from talkinghead._util.checkpoint import PretrainedMixin
from talkinghead.data import DATA_DIR
from talkinghead.errors import CheckpointError, InvalidArgumentError
from talkinghead.models.causal_default import CausalDefaultModel
from talkinghead.models.default import DefaultModel
from talkinghead.models.mouth import MouthModel
from talkinghead.models.student import SpeechStudent

SHIPPED = [
    ("default_fast", DefaultModel, None),
    ("default_lipsync", DefaultModel, None),
    ("default_causal", CausalDefaultModel, False),
    ("mouth_v2/student", SpeechStudent, True),
    ("mouth_v2", MouthModel, True),
    ("mouth_v2_causal/la4", MouthModel, True),
]


@pytest.mark.parametrize(("name", "cls", "half"), SHIPPED, ids=[s[0] for s in SHIPPED])
def test_shipped_checkpoints_save_back_byte_identical(name, cls, half, tmp_path):
    src = DATA_DIR / name
    model = cls.from_pretrained(src)
    assert isinstance(model, PretrainedMixin)
    out = model.save_pretrained(tmp_path / "copy", half=half)
    files = sorted(p.relative_to(src) for p in src.rglob("*") if p.is_file())
    assert files == sorted(p.relative_to(out) for p in out.rglob("*") if p.is_file())
    for rel in files:
        if rel.name == "config.json" and cls is MouthModel:
            continue  # MouthConfig gained fields with defaults since these were written
        assert (src / rel).read_bytes() == (out / rel).read_bytes(), rel


def test_refiner_round_trip_and_errors(tmp_path):
    torch = pytest.importorskip("torch")
    from talkinghead.models.refiner import Refiner, RefinerConfig

    torch.manual_seed(0)
    r = Refiner(RefinerConfig(size=32, base_channels=8, memory_slots=4, key_dim=8))
    a = r.save_pretrained(tmp_path / "a")
    b = Refiner.from_pretrained(a).save_pretrained(tmp_path / "b")
    for f in ("config.json", "model.safetensors"):
        assert (a / f).read_bytes() == (b / f).read_bytes()
    h = r.save_pretrained(tmp_path / "h", half=True)
    assert (h / "model.safetensors").stat().st_size < 0.6 * (a / "model.safetensors").stat().st_size
    (tmp_path / "a" / "model.safetensors").unlink()
    with pytest.raises(CheckpointError, match=r"model.safetensors' must exist \(refiner weights\)"):
        Refiner.from_pretrained(tmp_path / "a")
    with pytest.raises(InvalidArgumentError, match="directory=None must be a Refiner"):
        Refiner.from_pretrained()


def test_half_only_where_a_model_stores_it(tmp_path):
    m = DefaultModel.from_pretrained()
    with pytest.raises(InvalidArgumentError, match="half=True must be False: DefaultModel"):
        m.save_pretrained(tmp_path, half=True)
