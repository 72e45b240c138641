r"""One DCGAN, two frameworks: the same PyTorch-style source runs in PyTorch and in minigan.

The networks, weight initialisation and training step of the PyTorch DCGAN tutorial are written once and built with
PyTorch and with minigan (``import minigan as torch``). From PyTorch's initial weights both take one training step
on the same batch and noise and every number is compared; then a generator trained in minigan samples in PyTorch.

Run: python examples/port_from_pytorch.py  (PyTorch is optional: without it only the minigan half runs)
"""

import argparse
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

import minigan  # noqa: E402
from minigan import viz  # noqa: E402
from minigan.data import digits  # noqa: E402

DEFAULT_OUT = Path(__file__).resolve().parent.parent / "docs" / "images" / "examples"
NZ, BATCH = 32, 64


def dcgan(nn):
    """The tutorial's generator and discriminator for 8x8 images, written with ``torch.nn`` (or ``minigan.nn``)."""
    netG = nn.Sequential(nn.Unflatten(1, (NZ, 1, 1)),  # z (N, nz) as a 1x1 image
                         nn.ConvTranspose2d(NZ, 64, 2, 1, 0, bias=False), nn.BatchNorm2d(64), nn.ReLU(True),  # 2x2
                         nn.ConvTranspose2d(64, 32, 4, 2, 1, bias=False), nn.BatchNorm2d(32), nn.ReLU(True),  # 4x4
                         nn.ConvTranspose2d(32, 1, 4, 2, 1, bias=False), nn.Tanh())  # 8x8
    netD = nn.Sequential(nn.Conv2d(1, 32, 4, 2, 1, bias=False), nn.LeakyReLU(0.2, inplace=True),  # 4x4
                         nn.Conv2d(32, 64, 4, 2, 1, bias=False), nn.BatchNorm2d(64), nn.LeakyReLU(0.2, True),  # 2x2
                         nn.Conv2d(64, 1, 2, 1, 0, bias=False), nn.Sigmoid(), nn.Flatten(0))  # 1x1, then (N,)
    return netG, netD


def weights_init(torch, m):
    """The tutorial's initialisation: N(0, 0.02) convolution weights, N(1, 0.02) BatchNorm scales, zero shifts."""
    if "Conv" in type(m).__name__:
        torch.nn.init.normal_(m.weight.data, 0.0, 0.02)
    elif "BatchNorm" in type(m).__name__:
        torch.nn.init.normal_(m.weight.data, 1.0, 0.02)
        torch.nn.init.constant_(m.bias.data, 0)


def training_step(torch, netG, netD, optG, optD, real, noise) -> dict:
    """One step of the DCGAN tutorial: D on real and fake, then G (non-saturating); returns what to compare."""
    criterion = torch.nn.BCELoss()
    netD.zero_grad()
    fake = netG(noise)
    d_real, d_fake = netD(real), netD(fake.detach())
    errD = criterion(d_real, torch.ones_like(d_real)) + criterion(d_fake, torch.zeros_like(d_fake))
    errD.backward()
    grads_D = {k: p.grad.clone() for k, p in netD.named_parameters()}  # G's backward below adds to them
    optD.step()
    netG.zero_grad()
    errG = criterion(netD(fake), torch.ones_like(d_real))
    errG.backward()
    optG.step()
    return {"G(z)": fake, "D(x)": d_real, "D(G(z))": d_fake, "D loss": errD, "G loss": errG,
            "D gradients": grads_D, "G gradients": {k: p.grad for k, p in netG.named_parameters()},
            "G after Adam": netG.state_dict(), "D after Adam": netD.state_dict()}


def build(torch, state_G=None, state_D=None, lr=2e-4):
    """G, D and their Adam optimisers in the framework ``torch``, with another framework's weights if given."""
    netG, netD = dcgan(torch.nn)
    for net, state in ((netG, state_G), (netD, state_D)):
        net.apply(lambda m: weights_init(torch, m))
        if state is not None:  # state_dict -> NumPy -> load_state_dict
            net.load_state_dict({k: torch.from_numpy(v.numpy()) for k, v in state.items()})
    return netG, netD, *(torch.optim.Adam(net.parameters(), lr=lr, betas=(0.5, 0.999)) for net in (netG, netD))


def max_difference(a, b) -> float:
    """max |a - b| between two arrays or tensors of either framework, or over every entry of two dicts of them."""
    if isinstance(a, dict):
        return max(max_difference(a[k], b[k]) for k in a)
    a, b = (np.asarray(x.detach().numpy() if hasattr(x, "detach") else x, dtype=np.float64) for x in (a, b))
    return float(np.abs(a - b).max())


def train_minigan(steps: int, seed: int):
    """The DCGAN trained in minigan with the shared step, at ten times the tutorial's learning rate (faster)."""
    minigan.manual_seed(seed)
    netG, netD, optG, optD = build(minigan, lr=2e-3)
    images, rng = digits("train").images, np.random.default_rng(seed)
    for _ in range(steps):
        real = minigan.from_numpy(rng.choice(images, BATCH, replace=False))
        training_step(minigan, netG, netD, optG, optD, real, minigan.randn(BATCH, NZ))
    return netG


def plot(panels: dict, path) -> None:
    """One grid of 64 images per panel, side by side."""
    fig, axes = plt.subplots(1, len(panels), figsize=(4 * len(panels), 4.3), squeeze=False)
    for ax, (title, images) in zip(axes[0], panels.items()):
        ax.imshow(viz.image_grid(images, nrow=8), cmap="gray", vmin=0, vmax=255)
        ax.set(title=title, xticks=[], yticks=[])
    fig.suptitle("a generator trained in minigan, sampled from the same z")
    fig.savefig(path, dpi=120, bbox_inches="tight")
    plt.close(fig)


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="short settings for a smoke test")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="folder for the figure")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    rng, differences = np.random.default_rng(args.seed), {}
    try:
        import torch
    except ImportError:
        torch = None
        print("PyTorch is not installed: the comparison with PyTorch is skipped; minigan's half runs alone")
    if torch is not None:  # PyTorch -> minigan: the same initial weights, batch and noise; one training step in each
        torch.manual_seed(args.seed)
        theirs = build(torch)
        ours = build(minigan, theirs[0].state_dict(), theirs[1].state_dict())
        real = rng.choice(digits("train").images, BATCH, replace=False)
        noise = rng.standard_normal((BATCH, NZ)).astype(np.float32)
        step_theirs = training_step(torch, *theirs, torch.from_numpy(real), torch.from_numpy(noise))
        step_ours = training_step(minigan, *ours, minigan.from_numpy(real), minigan.from_numpy(noise))
        differences = {k: max_difference(step_ours[k], v) for k, v in step_theirs.items()}
    netG = train_minigan(10 if args.quick else 200, args.seed).eval()  # minigan -> PyTorch: both sample one z
    z = rng.standard_normal((64, NZ)).astype(np.float32)
    with minigan.no_grad():
        samples = {"minigan": netG(minigan.from_numpy(z)).numpy()}
    if torch is not None:
        torch_G = build(torch, netG.state_dict())[0].eval()
        with torch.no_grad():
            samples["PyTorch, minigan's weights"] = torch_G(torch.from_numpy(z)).numpy()
        differences["samples"] = max_difference(*samples.values())
        samples["|difference| (black 0, white 1e-6)"] = np.abs(np.subtract(*samples.values())) * 2e6 - 1
        print("max |minigan - PyTorch| (float32): one training step from PyTorch's weights; samples from minigan's")
        for key, value in differences.items():
            print(f"  {key:<14} {value:.2e}")
    figure = args.out / "port_from_pytorch.png"
    plot(samples, figure)
    print(f"figure: {figure}")
    return {"torch": torch is not None, "max_difference": differences, "sample_shape": samples["minigan"].shape,
            "figure": figure}


if __name__ == "__main__":
    main()
