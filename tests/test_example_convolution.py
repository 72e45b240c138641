import importlib.util
from pathlib import Path

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

IDENTITIES = ("conv2d = W_mat @ unfold", "<unfold x, Y> = <x, fold Y>", "conv_transpose2d = conv2d(zero-inserted)")


def _module():
    path = Path(__file__).resolve().parent.parent / "examples" / "convolution.py"
    spec = importlib.util.spec_from_file_location("examples_convolution_module", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


convolution = _module()


@st.composite
def cases(draw):
    k, stride, dilation = draw(st.integers(1, 3)), draw(st.integers(1, 3)), draw(st.integers(1, 2))
    return {"n": draw(st.integers(1, 2)), "c": draw(st.integers(1, 3)), "o": draw(st.integers(1, 3)),
            "size": draw(st.integers(dilation * (k - 1) + 1, 7)), "k": k, "stride": stride,
            "padding": draw(st.integers(0, dilation * (k - 1))), "dilation": dilation,
            "output_padding": draw(st.integers(0, max(stride, dilation) - 1))}


@settings(max_examples=40)
@given(case=cases(), seed=st.integers(0, 2**16))
def test_the_three_identities_hold_in_float64(case, seed):
    gaps = convolution.identity_gaps(case, np.random.default_rng(seed))
    assert set(gaps) == set(IDENTITIES)
    for key, gap in gaps.items():
        assert gap < 1e-12, (key, case)


def test_zero_insertion_puts_stride_minus_one_zeros_between_pixels():
    x = np.arange(1.0, 5.0).reshape(1, 1, 2, 2)
    grid = convolution.zero_insert_and_pad(x, 3, 1, 1)[0, 0]
    assert grid.shape == (1 + 4 + 1 + 1, 7)
    np.testing.assert_array_equal(grid[1:5:3, 1:5:3], x[0, 0])
    assert grid.sum() == x.sum()


def test_the_example_checks_the_identities_and_draws_both_figures(example):
    result = example("convolution")
    assert result["cases"] >= 10
    assert set(result["max_difference"]) == set(IDENTITIES)
    assert max(result["max_difference"].values()) < 1e-12
    assert result["figure_example_difference"] < 1e-12
    for path in result["figures"].values():
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
