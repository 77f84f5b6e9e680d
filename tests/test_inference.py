"""Animation save/load: phones are computed only when something reads them."""

import pytest

from talkinghead.audio.io import load_audio
from talkinghead.errors import InvalidArgumentError
from talkinghead.inference import Animation, LazyPhones, animate, recognized_phones


def test_saving_does_not_compute_phones_and_loading_keeps_them_uncomputed(tmp_path, example_speech):
    anim = animate(example_speech)
    assert isinstance(anim.phones, LazyPhones) and not anim.phones.computed
    anim.save(tmp_path / "a.npz")
    assert not anim.phones.computed  # saving ran no phone recognition
    back = Animation.load(tmp_path / "a.npz")
    assert back.n_frames == anim.n_frames and not back.phones.computed
    for _ in range(2):  # an output that needs phones says how to get them, every time
        with pytest.raises(InvalidArgumentError, match="must hold phones.*--audio"):
            list(back.phones)
    back.save(tmp_path / "b.npz")  # still uncomputed: round trip without phones
    assert not Animation.load(tmp_path / "b.npz").phones.computed
    y, sr = load_audio(example_speech, sr=16000)
    back.phones = recognized_phones(y, sr)
    labels = [p[0] for p in back.phones]
    assert back.phones.computed and len(labels) > 10 and "SIL" in labels and len(set(labels)) > 5
    back.save(tmp_path / "c.npz")
    assert Animation.load(tmp_path / "c.npz").phones == list(back.phones)
