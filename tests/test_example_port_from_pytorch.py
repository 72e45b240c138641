import builtins

import pytest

STEP = ("G(z)", "D(x)", "D(G(z))", "D loss", "G loss", "D gradients", "G gradients", "G after Adam", "D after Adam")


def test_the_same_dcgan_source_gives_the_same_numbers_in_pytorch_and_minigan(example):
    pytest.importorskip("torch")
    result = example("port_from_pytorch")
    assert result["torch"]
    assert set(result["max_difference"]) == {*STEP, "samples"}
    for key, difference in result["max_difference"].items():
        assert difference < 1e-5, key  # float32 rounding, nothing more
    assert result["sample_shape"] == (64, 1, 8, 8)
    assert result["figure"].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_without_pytorch_the_minigan_half_runs_and_the_comparison_is_skipped(example, monkeypatch, capsys):
    real_import = builtins.__import__

    def no_torch(name, *args, **kwargs):
        if name == "torch" or name.startswith("torch."):
            raise ImportError("No module named 'torch'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_torch)
    result = example("port_from_pytorch")
    assert not result["torch"] and result["max_difference"] == {}
    assert "skipped" in capsys.readouterr().out
    assert result["sample_shape"] == (64, 1, 8, 8)
    assert result["figure"].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
