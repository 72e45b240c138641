"""The image-to-image workloads of the benchmark: PyTorch's step is the same networks and losses as minigan's."""

import json

import numpy as np
import pytest

from minigan import bench, kernels
from minigan.bench.steps import TRANSLATION, _minigan_step, _torch_available, _torch_step, batches_for

needs_torch = pytest.mark.skipif(not _torch_available(), reason="needs PyTorch")


def _twins(workload: str, batch: int):
    """minigan's step and PyTorch's, the latter given the former's weights, buffers and images."""
    import torch

    ours, theirs = _minigan_step(workload, batch), _torch_step(workload, batch)
    assert list(ours.networks) == list(theirs.networks)
    for name, net in ours.networks.items():
        state = {key: torch.from_numpy(np.array(value.numpy())) for key, value in net.state_dict().items()}
        shapes = {key: tuple(value.shape) for key, value in theirs.networks[name].state_dict().items()}
        assert {key: tuple(value.shape) for key, value in state.items()} == shapes, name
        theirs.networks[name].load_state_dict(state)
    theirs.images[:] = [torch.from_numpy(np.array(image.numpy())) for image in ours.images]
    return ours, theirs


def _close(ours, theirs):
    np.testing.assert_allclose(ours.numpy(), theirs.detach().numpy(), rtol=1e-4, atol=1e-5)


@needs_torch
@pytest.mark.parametrize("workload", list(TRANSLATION))
def test_pytorchs_step_has_minigans_networks_and_losses(workload):
    ours, theirs = _twins(workload, 4)
    for step in (ours, theirs):  # no dropout, batch norm on its running statistics: both are deterministic
        for net in step.networks.values():
            net.eval()
    for our_loss, their_loss in zip(ours.losses(), theirs.losses()):
        _close(our_loss, their_loss)


@needs_torch
def test_pix2pix_networks_give_the_same_outputs_in_both_libraries():
    import torch

    from minigan.ops import cat

    ours, theirs = _twins("pix2pix", 4)
    (x, y), (tx, ty) = ours.images, theirs.images
    G, D, tG, tD = ours.networks["G"], ours.networks["D"], theirs.networks["G"], theirs.networks["D"]
    _close(D(cat([x, y], dim=1)), tD(torch.cat([tx, ty], dim=1)))  # training mode: batch statistics
    G.eval()
    tG.eval()
    _close(G(x), tG(tx))
    for net in (G, tG):  # training mode without dropout: the generator's batch norms on batch statistics
        net.train()
        for module in net.modules():
            if type(module).__name__ == "Dropout":
                module.p = 0.0
    _close(G(x), tG(tx))


@needs_torch
@pytest.mark.parametrize("workload", list(TRANSLATION))
def test_matrix_flops_of_an_image_to_image_step_are_pytorchs_count_of_its_twin(workload):
    from torch.utils.flop_counter import FlopCounterMode

    from minigan.bench.measure import matrix_flops

    step = _torch_step(workload, 1)
    step()  # as matrix_flops: a steady step
    with FlopCounterMode(display=False) as counter:
        step()
    assert matrix_flops(workload, 1) == counter.get_total_flops() > 0
    assert matrix_flops(workload, 2) == 2 * counter.get_total_flops()


def test_image_to_image_workloads_run_at_their_recipes_batch_unless_told():
    assert batches_for("pix2pix") == (TRANSLATION["pix2pix"].batch,) == (16,)
    assert batches_for("dcgan") == (64, 256)
    assert batches_for("pix2pix", [2, 3]) == batches_for("mlp", [2, 3]) == (2, 3)


def test_the_benchmark_times_pix2pix(tmp_path, capsys):
    before = kernels.num_threads()
    try:
        assert bench.main(["--workloads", "pix2pix", "--batch", "2", "--rounds", "1", "--steps", "1", "--no-jit",
                           "--threads", "1", "--json", str(tmp_path / "bench.json")]) == 0
    finally:
        kernels.set_num_threads(before or 1)
    assert "| pix2pix | 2 |" in capsys.readouterr().out
    (row,) = json.loads((tmp_path / "bench.json").read_text())["1 thread each"]["results"]
    assert row["workload"] == "pix2pix" and row["minigan_ms"] > 0 and row["minigan_gflops"] > 0
    if _torch_available():
        assert row["ratio"] == row["minigan_ms"] / row["torch_ms"]
