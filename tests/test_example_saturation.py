import numpy as np
import pytest


def test_saturation_autograd_matches_closed_forms(example):
    result = example("saturation")
    assert result["max_error"]["minimax"] < 1e-10
    assert result["max_error"]["nonsaturating"] < 1e-10
    # at D(G(z)) = 0.01: minimax d/d logit = -0.01, non-saturating -0.99, 99 times larger
    assert result["grad_at_0.01"]["minimax"] == pytest.approx(-0.01, rel=1e-9)
    assert result["grad_at_0.01"]["nonsaturating"] == pytest.approx(-0.99, rel=1e-9)
    assert result["ratio_at_0.01"] == pytest.approx(99.0, rel=1e-9)
    png = result["figure"].read_bytes()
    assert png.startswith(b"\x89PNG") and len(png) > 10_000


def test_saturation_second_panel_has_every_generator_loss(example):
    result = example("saturation")
    curves, f = result["curves"], result["raw_outputs"]
    assert {"minimax", "nonsaturating", "lsgan", "hinge", "wasserstein", "fgan-kl"} <= set(curves)
    np.testing.assert_allclose(curves["wasserstein"], -1.0, atol=1e-12)
    np.testing.assert_allclose(curves["lsgan"], f - 1.0, atol=1e-12)  # c = 1: (f - c)
    np.testing.assert_allclose(curves["fgan-js"], curves["nonsaturating"], atol=1e-12)
    # the minimax gradient vanishes as D(G(z)) -> 0 (f -> -inf), the non-saturating one as D(G(z)) -> 1
    assert abs(curves["minimax"][0]) < 0.02 < abs(curves["minimax"][-1])
    assert abs(curves["nonsaturating"][-1]) < 0.02 < abs(curves["nonsaturating"][0])
