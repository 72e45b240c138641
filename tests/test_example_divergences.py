import numpy as np


def test_fgan_critics_reach_the_variational_bound_on_each_divergence(example):
    result = example("divergences")
    divergences = result["divergences"]
    assert set(divergences) == {"fgan-kl", "fgan-reverse-kl", "fgan-pearson", "fgan-hellinger", "fgan-js", "fgan-tv"}
    for name, r in divergences.items():
        assert r["divergence"] > 0.05, name
        # at T* = f'(p/q) the bound, with minigan's g_f and f* o g_f, is the divergence
        assert abs(r["bound_optimal"] - r["divergence"]) < 1e-6, name
        # any critic's bound is below the divergence (Fenchel-Young), a trained one close to it
        assert r["bound_trained"] <= r["divergence"] + 1e-6, name
        assert r["bound_trained"] > 0.75 * r["divergence"], name
    for figure in result["figures"]:
        png = figure.read_bytes()
        assert png.startswith(b"\x89PNG") and len(png) > 10_000
    # the quadrature itself, against the closed forms for Gaussians
    (m1, s1), (m2, s2) = (0.0, 1.0), (1.0, 1.5)  # P and Q of the example
    kl = np.log(s2 / s1) + (s1**2 + (m1 - m2) ** 2) / (2 * s2**2) - 0.5
    reverse_kl = np.log(s1 / s2) + (s2**2 + (m1 - m2) ** 2) / (2 * s1**2) - 0.5
    bhattacharyya = np.sqrt(2 * s1 * s2 / (s1**2 + s2**2)) * np.exp(-((m1 - m2) ** 2) / (4 * (s1**2 + s2**2)))
    assert abs(divergences["fgan-kl"]["divergence"] - kl) < 1e-9
    assert abs(divergences["fgan-reverse-kl"]["divergence"] - reverse_kl) < 1e-9
    assert abs(divergences["fgan-hellinger"]["divergence"] - 2 * (1 - bhattacharyya)) < 1e-9
