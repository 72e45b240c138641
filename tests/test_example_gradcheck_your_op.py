import numpy as np


def test_gradcheck_your_op(example):
    result = example("gradcheck_your_op")

    # the correct primitive passed gradcheck and gradgradcheck on every hypothesis draw (a failure would raise)
    assert result["swish_examples"] >= 3 and result["relu_examples"] >= 3

    # the forgotten product-rule term is reported as a wrong gradient, with the values that differ
    buggy = result["buggy"]
    assert buggy["error"] == "GradcheckError"
    assert "wrong gradient" in buggy["message"] and str(buggy["element"]) in buggy["message"]
    x = result["point"][buggy["element"]]
    sigma = 1 / (1 + np.exp(-x))
    # analytic / numeric = sigma / swish'(x) at the reported element (same upstream gradient in both)
    np.testing.assert_allclose(buggy["analytic"] / buggy["numeric"], sigma / (sigma + x * sigma * (1 - sigma)),
                               rtol=1e-6)

    # relu at 0 is reported as not differentiable (not as wrong), with slopes v and 0 on either side
    kink = result["kink"]
    assert kink["error"] == "NonDifferentiableError" and "not differentiable" in kink["message"]
    assert kink["element"] == (1, 1) and result["point"][1, 1] == 0.0
    assert kink["backward"] == 0.0 and kink["analytic"] == 0.0
    np.testing.assert_allclose(kink["numeric"], kink["forward"] / 2, rtol=1e-6)

    # abs at 0: the symmetric kink passes by luck
    assert result["abs_at_zero"] is None

    assert result["figure"].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and result["figure"].stat().st_size > 10_000
