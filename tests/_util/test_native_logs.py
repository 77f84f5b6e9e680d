"""The native-log filter drops exactly mediapipe's known start-up lines and keeps the rest."""

from __future__ import annotations

import os

from talkinghead._util.native_logs import filtered_stderr, keep_line

BENIGN = [
    "INFO: Created TensorFlow Lite XNNPACK delegate for CPU.\n",
    "WARNING: All log messages before absl::InitializeLog() is called are written to STDERR\n",
    "W0000 00:00:1796669186.267943   10624 inference_feedback_manager.cc:114] Feedback manager "
    "requires a model with a single signature inference. Disabling support for feedback tensors.\n",
    "W0000 00:00:1796669186.315490   10623 landmark_projection_calculator.cc:186] Using NORM_RECT "
    "without IMAGE_DIMENSIONS is only supported for the square ROI.\n",
]


def test_known_lines_are_dropped_and_others_written_back(capfd, monkeypatch):
    monkeypatch.delenv("TALKINGHEAD_NATIVE_LOGS", raising=False)
    other = "E0000 00:00:1.0 1 face_landmarker.cc:1] something a user must see\n"
    with filtered_stderr():
        for line in BENIGN[:2]:
            os.write(2, line.encode())
        os.write(2, other.encode())
        for line in BENIGN[2:]:
            os.write(2, line.encode())
        os.write(2, b"no newline at the end")
    err = capfd.readouterr().err
    assert err == other + "no newline at the end"
    assert not any(keep_line(b) for b in BENIGN) and keep_line(other)


def test_the_filter_can_be_turned_off(capfd, monkeypatch):
    monkeypatch.setenv("TALKINGHEAD_NATIVE_LOGS", "1")
    with filtered_stderr():
        os.write(2, BENIGN[0].encode())
    assert capfd.readouterr().err == BENIGN[0]


def test_overlapping_filters_restore_stderr_once(capfd, monkeypatch):
    """Two trackers' filters overlapping (A starts, B starts, A stops, B stops): stderr works
    afterwards and both blocks' other lines are kept."""
    from talkinghead._util.native_logs import StderrFilter

    monkeypatch.delenv("TALKINGHEAD_NATIVE_LOGS", raising=False)
    a, b = StderrFilter().start(), StderrFilter().start()
    os.write(2, b"from a\n" + BENIGN[0].encode())
    a.stop()
    os.write(2, b"from b\n")
    b.stop()
    b.stop()  # twice: nothing
    os.write(2, b"after\n")
    assert capfd.readouterr().err == "from a\nfrom b\nafter\n"
