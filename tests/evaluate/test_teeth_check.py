"""The teeth check of the photo path (issue 18): a bright band under the upper lip over a
dark cavity passes; a uniform or blurred fill of the same opening does not; a closed mouth
is not judged."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from talkinghead.evaluate.photo_metrics import (
    TEETH_MIN_OPEN,
    TEETH_MIN_SCORE,
    inner_mouth_profile,
    teeth_score,
    teeth_visible,
)
from talkinghead.face.normalize import neutral_face_68


def _open_face(gap_iod: float) -> np.ndarray:
    lm = neutral_face_68() * 120.0 + np.array([100.0, 40.0])
    iod = np.linalg.norm(lm[42:48].mean(0) - lm[36:42].mean(0))
    lm[[61, 62, 63]] -= [0, gap_iod * iod / 2]
    lm[[65, 66, 67]] += [0, gap_iod * iod / 2]
    return lm


def _painted(lm: np.ndarray, teeth: bool) -> np.ndarray:
    img = np.full((240, 200, 3), 170, np.uint8)  # skin
    cv2.fillPoly(img, [np.round(lm[48:60]).astype(np.int32)], (150, 80, 80))  # lips
    inner = np.zeros(img.shape[:2], np.uint8)
    cv2.fillPoly(inner, [np.round(lm[60:68] * 4).astype(np.int32)], 1, cv2.LINE_8, 2)
    top, bot = lm[[61, 62, 63], 1].mean(), lm[[65, 66, 67], 1].mean()
    ys = np.arange(img.shape[0])[:, None] * np.ones(img.shape[1])
    cavity = np.where(ys < top + 0.3 * (bot - top), 230, 30) if teeth else np.full(ys.shape, 90)
    img[inner > 0] = np.repeat(cavity[inner > 0, None], 3, 1).astype(np.uint8)
    return img


def test_teeth_band_passes_a_flat_or_blurred_fill_fails():
    lm = _open_face(0.3)
    p = inner_mouth_profile(_painted(lm, True), lm)
    assert p["opening"] == pytest.approx(0.3, abs=0.01)
    assert np.nanargmax(p["rows"]) < len(p["rows"]) / 3  # the bright rows are on top
    teeth = _painted(lm, True)
    assert teeth_score(teeth, lm) > 1.0 and teeth_visible(teeth, lm) is True
    flat = _painted(lm, False)
    assert teeth_score(flat, lm) == pytest.approx(0.0, abs=0.02)
    assert teeth_visible(flat, lm) is False
    inner = np.zeros(teeth.shape[:2], np.uint8)
    cv2.fillPoly(inner, [np.round(lm[60:68]).astype(np.int32)], 1)
    blurred = teeth.copy()
    blurred[inner > 0] = cv2.GaussianBlur(teeth, (0, 0), 12)[inner > 0]
    assert teeth_score(blurred, lm) < teeth_score(teeth, lm) / 2
    # exposure does not matter: the score is relative to the lips' grey
    darker = (teeth.astype(np.float64) * 0.6).astype(np.uint8)
    assert teeth_score(darker, lm) == pytest.approx(teeth_score(teeth, lm), rel=0.05)


def test_closed_mouth_is_not_judged():
    lm = _open_face(TEETH_MIN_OPEN / 2)
    assert teeth_visible(_painted(lm, True), lm) is None
    assert 0 < TEETH_MIN_SCORE < 1
