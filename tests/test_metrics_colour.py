"""The colour-histogram distance of two sets of RGB images (minigan.metrics.colour_distance)."""

import numpy as np
import pytest

from minigan.metrics import colour_distance


def test_known_answers():
    red = np.zeros((2, 3, 4, 4), np.float32)
    red[:, 0] = 1.0                                     # (1, 0, 0): cells (7, 4, 4) of 8
    grey = np.zeros((3, 3, 5, 5), np.float32)           # (0, 0, 0): cell (4, 4, 4)
    assert colour_distance(red, red) == {"tv": 0.0, "mean_gap": 0.0, "std_gap": 0.0}
    assert colour_distance(red, grey)["tv"] == 1.0 and colour_distance(red, grey)["mean_gap"] == 1.0
    half = np.concatenate([red[:1], grey[:1, :, :4, :4]])  # half the pixels red, half grey
    scores = colour_distance(red, half)
    assert scores["tv"] == pytest.approx(0.5) and scores["mean_gap"] == pytest.approx(0.5)
    assert scores["std_gap"] == pytest.approx(0.5)      # the red channel of `half` is 0 or 1: std 0.5
    assert colour_distance(red, grey, bins=1)["tv"] == 0.0  # one cell holds every colour


def test_it_matches_a_direct_count_and_is_symmetric():
    rng = np.random.default_rng(0)
    a, b = rng.uniform(-1, 1, (5, 3, 6, 6)), np.tanh(rng.normal(0.3, 1, (7, 3, 6, 6)))
    pixels = [x.transpose(0, 2, 3, 1).reshape(-1, 3) for x in (a, b)]
    p, q = (np.histogramdd(x, bins=4, range=[(-1, 1)] * 3)[0].ravel() / len(x) for x in pixels)
    assert colour_distance(a, b, bins=4)["tv"] == pytest.approx(0.5 * np.abs(p - q).sum(), abs=1e-12)
    assert colour_distance(a, b) == pytest.approx(colour_distance(b, a))


@pytest.mark.parametrize("real,bins,message", [
    (np.zeros((2, 1, 4, 4)), 8, r"real must be RGB images \(N, 3, H, W\)"),
    (np.full((2, 3, 4, 4), np.nan), 8, "real images hold NaN"),
    (np.zeros((2, 3, 4, 4)), 0, "bins must be a positive integer"),
])
def test_bad_input_is_refused_with_one_line(real, bins, message):
    with pytest.raises(ValueError, match=message):
        colour_distance(real, np.zeros((2, 3, 4, 4)), bins=bins)
