import numpy as np


def test_game_dynamics(example):
    result = example("game_dynamics")
    eta, gamma = result["eta"], result["gamma"]

    # Eigenvalues of the autograd (double backward) Jacobian equal the closed forms
    for game in ("bilinear", "Dirac-GAN"):
        for method, error in result["eigenvalue_error"][game].items():
            assert error < 1e-10, (game, method, error)
    bilinear = result["eigenvalues"]["bilinear"]
    np.testing.assert_allclose(bilinear["simultaneous"], [1 - 1j * eta, 1 + 1j * eta], atol=1e-12)
    np.testing.assert_allclose(result["jacobians"]["bilinear"]["simultaneous"], [[1, -eta], [eta, 1]], atol=1e-12)
    np.testing.assert_allclose(result["jacobians"]["bilinear"]["R1 penalty"], [[1, -eta], [eta, 1 - eta * gamma]],
                               atol=1e-12)
    moduli = result["moduli"]["bilinear"]
    assert abs(moduli["simultaneous"] - np.sqrt(1 + eta**2)) < 1e-10
    assert abs(moduli["alternating"] - 1.0) < 1e-10
    assert moduli["extragradient"] < 1 and moduli["consensus"] < 1 and moduli["R1 penalty"] < 1
    assert result["moduli"]["Dirac-GAN"]["simultaneous"] > 1

    # Trajectories from the same start in the Dirac-GAN
    start, final = result["start_distance"], result["final_distance"]["Dirac-GAN"]
    assert final["simultaneous"] > 1.5 * start
    assert 0.8 * start < final["alternating"] < 1.25 * start
    for method in ("R1 penalty", "consensus", "extragradient"):
        assert final[method] < 0.1 * start, (method, final[method])
    assert result["final_distance"]["bilinear"]["simultaneous"] > 100 * start

    for path in result["figures"].values():
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and path.stat().st_size > 10_000
