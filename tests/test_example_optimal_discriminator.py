import numpy as np


def test_optimal_discriminator_measures_the_jensen_shannon_divergence(example):
    result = example("optimal_discriminator")
    # V(D*, G) = -log 4 + 2 JSD, both sides integrated independently
    assert abs(result["v_optimal"] - (-np.log(4) + 2 * result["jsd"])) < 1e-6
    assert result["identity_error"] < 1e-6
    assert 0 < result["jsd"] < np.log(2)
    # D* maximises V pointwise: a trained D reaches at most V(D*), and close to it
    assert result["v_trained"] <= result["v_optimal_grid"] + 1e-9
    assert result["v_optimal_grid"] - result["v_trained"] < 0.02
    assert abs(result["v_optimal_grid"] - result["v_optimal"]) < 1e-6
    assert result["max_abs_d_error"] < 0.15
    png = result["figure"].read_bytes()
    assert png.startswith(b"\x89PNG") and len(png) > 10_000
