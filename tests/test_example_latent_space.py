import math

import numpy as np


def test_slerp_keeps_the_latent_norm_that_linear_interpolation_loses(example):
    result = example("latent_space")
    assert result["latent_dim"] == 32
    # the linear midpoint of two near-orthogonal Gaussian latents has 1/sqrt(2) of their norm ...
    assert abs(result["linear_midpoint_ratio"] - 1 / math.sqrt(2)) < 0.03
    assert result["prior_mass_below_midpoint"] < 0.01
    # ... while the great circle stays at the endpoints' norm
    assert result["slerp_mean_deviation"] < 0.02
    assert result["slerp_max_deviation"] < 0.2
    assert result["interpolation_shape"] == (9, *result["image_shape"]) == (9, 1, 8, 8)
    assert sum(result["class_counts"]) > 0 and 1 <= result["classes_found"] <= 10
    assert 0 <= result["class_mean_accuracy"] <= 1
    assert np.isnan(result["transfer_rate"]) or 0 <= result["transfer_rate"] <= 1
    for key in ("figure", "figure_arithmetic"):
        assert result[key].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
