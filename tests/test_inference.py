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


def test_load_upgrades_a_file_saved_before_the_upper_face_once(tmp_path, example_speech):
    import numpy as np

    from talkinghead.models.blendshape_bridge import animation_to_blendshapes
    from talkinghead.models.expression import driving_landmarks, upper_face_motion

    a = animate(example_speech, model="phonetic")
    a.save(tmp_path / "new.npz")
    with np.load(tmp_path / "new.npz") as z:  # the format before head, brows and blinks
        old = {k: z[k] for k in z.files if k not in ("rotation", "brow", "blink")}
    np.savez(tmp_path / "old.npz", **old)
    b = Animation.load(tmp_path / "old.npz")
    up = upper_face_motion(y=None, sr=None, fps=a.fps, n_frames=a.n_frames, seed=0)
    np.testing.assert_array_equal(b.rotation, up.rotation)
    np.testing.assert_array_equal(b.blink, up.blink)
    np.testing.assert_array_equal(b.brow, up.brow)
    shut = int(np.argmax(up.blink))
    assert up.blink[shut] > 0.9  # the upgraded landmarks close the lids on the blinks
    lid = np.linalg.norm(b.landmarks[:, 37] - b.landmarks[:, 41], axis=1)
    assert lid[shut] < 0.5 * np.median(lid)
    # every output now reads the same face: no renderer re-derives an old one
    assert driving_landmarks(b, blinks=True)[1] is False
    bs = animation_to_blendshapes(b)
    np.testing.assert_allclose(bs.rotation, up.rotation, atol=1e-6)
    # files of today load as saved
    c = Animation.load(tmp_path / "new.npz")
    np.testing.assert_array_equal(c.landmarks, a.landmarks.astype(np.float32))
    np.testing.assert_array_equal(c.blink, a.blink)


def test_closures_are_refused_where_no_classifier_reads_them(example_speech):
    import copy

    from talkinghead import Model
    from talkinghead.models.shipped import shipped_model

    with pytest.raises(InvalidArgumentError, match=r"closures='lips' must be None or one of"):
        animate(example_speech, closures="lips")
    with pytest.raises(InvalidArgumentError, match="must come with a learned model"):
        animate(example_speech, model="phonetic", closures="whisper")
    bare = Model(name="bare", net=copy.copy(shipped_model("default")))
    bare.net.closure = None  # a mouth checkpoint without a classifier
    with pytest.raises(InvalidArgumentError, match="needs a mouth model with a /p b m/ classifier"):
        animate(example_speech, model=bare, closures="whisper")
    with pytest.raises(InvalidArgumentError, match="must come with a learned model"):
        __import__("talkinghead").load_model("phonetic", closures="whisper")


def test_whisper_model_takes_the_default_models_closures(example_speech):
    """``model="whisper", closures="whisper"``: the ridge read-out plus the shipped default's
    classifier on the same Whisper frames (encoded once): lips only ever close, some do."""
    pytest.importorskip("ctranslate2")
    import numpy as np

    plain = animate(example_speech, model="whisper")
    shut = animate(example_speech, model="whisper", closures="whisper")
    assert shut.model == "whisper" and shut.n_frames == plain.n_frames
    assert np.all(shut.mouth_open <= plain.mouth_open + 1e-6)
    assert np.sum(shut.mouth_open < 0.5 * plain.mouth_open - 0.01) >= 3
    np.testing.assert_array_equal(shut.landmarks[:, 17:48], plain.landmarks[:, 17:48])
