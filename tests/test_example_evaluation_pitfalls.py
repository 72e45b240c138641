from pathlib import Path

import numpy as np

PNG = b"\x89PNG\r\n\x1a\n"


def check_fd_bias(fd):
    same, shifted = fd["same distribution"], fd["shifted 0.05, scaled 1.1"]
    values = same["values"]
    assert values[0] > values[len(values) // 2] > values[-1] > 0    # FD of one distribution falls with N
    assert same["slope"] > 0
    assert abs(same["fd_infinity"]) < 0.1 * values[0]               # far nearer the true 0 than FD at the smallest N
    assert abs(shifted["fd_infinity"] - shifted["true"]) < 0.25 * shifted["true"]
    assert shifted["values"][0] > 3 * shifted["true"]               # at small N the bias dwarfs the real difference


def check_truncation(m):
    psi = np.array(m["psi"])
    most, data, widest = psi.argmin(), list(psi).index(1.0), psi.argmax()
    assert m["precision"][most] > m["precision"][widest] + 0.15
    assert m["recall"][most] < m["recall"][data] - 0.3
    truncated = [m["recall"][i] for i in np.argsort(-psi) if psi[i] <= 1]
    assert all(a >= b for a, b in zip(truncated, truncated[1:]))   # recall falls as psi falls below 1
    assert m["density"][most] > 1 > m["density"][widest]            # truncated fakes crowd the dense cores


def test_evaluation_pitfalls(example):
    result = example("evaluation_pitfalls")
    check_fd_bias(result["fd"])
    check_truncation(result["manifold"])

    clean, outlier = result["outlier"]["clean"], result["outlier"]["one outlier"]
    assert clean["precision"] < 0.05 and outlier["precision"] > 0.8  # one real outlier fools precision...
    assert outlier["density"] - clean["density"] <= 1 / outlier["k"] + 1e-9  # ... density moves by at most 1/k

    c = result["c2st"]                                               # same mean and covariance: FD ~ 0, C2ST not
    assert c["fd"] < 0.05 and c["c2st"] > 0.6 and c["c2st_same"] < 0.6

    d = result["drs"]
    assert d["high_quality_fraction_after"] > d["high_quality_fraction_before"] + 0.3
    assert d["modes_covered_after"] <= d["modes_covered_before"]     # DRS adds no modes
    assert 0 < d["acceptance_rate"] < 1

    assert set(result["figures"]) == {"fd_c2st", "balls", "drs"}
    for path in result["figures"].values():
        assert Path(path).read_bytes()[:8] == PNG
