"""PyTorch GAN scripts run in minigan with only their import lines changed.

Each script in ``tests/ports/`` is written for PyTorch in the style of
community GAN code (``Variable``, ``Tensor = torch.FloatTensor``, ``.data``,
loss modules, ``save_image``, ``--netG`` to load weights). :func:`ported`
swaps its import lines for minigan's and nothing else. Both versions train
for one epoch on the bundled 8x8 digits from the same initial weights and the
same NumPy noise, and the losses they print agree at every iteration.

PyTorch runs when it is installed. Where torchvision is not (or does not load),
the PyTorch run saves its pictures with ``minigan.utils.save_image``, which
takes any array; the losses compared do not depend on it.
"""

from __future__ import annotations

import re
import runpy
import sys
from pathlib import Path

import numpy as np
import pytest

import minigan as mg

PORTS = Path(__file__).parent / "ports"
SCRIPTS = sorted(p.stem for p in PORTS.glob("*.py"))

IMPORTS = {  # a PyTorch import line -> minigan's
    "import torch": "import minigan as torch",
    "import torch.nn as nn": "import minigan.nn as nn",
    "import torch.nn.functional as F": "import minigan.nn.functional as F",
    "import torch.autograd as autograd": "import minigan.autograd as autograd",
    "from torch.autograd import Variable": "from minigan.autograd import Variable",
    "from torch.utils.data import DataLoader, TensorDataset":
        "from minigan.utils.data import DataLoader, TensorDataset",
    "from torchvision.utils import save_image": "from minigan.utils import save_image",
    "import torchvision.utils as vutils": "import minigan.utils as vutils",
}
EPOCHS = {"wgan_gp": 4, "wgan": 4}  # a critic of five steps per generator step prints a fifth as often
LOSSES = re.compile(r"\[D loss: (\S+)\] \[G loss: (\S+)\]")


def ported(source: str, imports: dict[str, str] = IMPORTS) -> str:
    """``source`` with each import line in ``imports`` replaced, and every other line as it was."""
    lines = source.splitlines(keepends=True)
    swapped = [imports[line.strip()] + "\n" if line.strip() in imports else line for line in lines]
    assert sum(a != b for a, b in zip(lines, swapped)) == sum(line.strip() in imports for line in lines)
    return "".join(swapped)


def _torch_imports() -> dict[str, str]:
    """The PyTorch run's imports: its own, and minigan's picture saver only where torchvision cannot load."""
    try:
        import torchvision.utils  # noqa: F401
    except Exception:  # torchvision missing, or built for another torch
        return {"from torchvision.utils import save_image": "from minigan.utils import save_image"}
    return {}


def _run(source: str, tmp: Path, name: str, *args: str, capsys) -> list[tuple[float, float]]:
    """Run ``source`` as ``__main__`` with ``args``; the (D loss, G loss) pairs it printed."""
    script = tmp / f"{name}.py"
    script.write_text(source)
    argv = sys.argv
    sys.argv = [str(script), "--out", str(tmp / name), "--no_shuffle", *args]
    try:
        capsys.readouterr()
        runpy.run_path(str(script), run_name="__main__")
    finally:
        sys.argv = argv
    return [(float(d), float(g)) for d, g in LOSSES.findall(capsys.readouterr().out)]


def _initial_weights(tmp: Path, name: str, source: str, capsys) -> tuple[str, str]:
    """Weights a zero-epoch minigan run saves, as ``--netG`` and ``--netD`` read them."""
    assert _run(source, tmp, f"{name}_init", "--n_epochs", "0", capsys=capsys) == []
    return str(tmp / f"{name}_init" / "generator.pth"), str(tmp / f"{name}_init" / "discriminator.pth")


def _as_torch_file(path: str, torch) -> str:
    """A minigan weights file rewritten with ``torch.save``, for the PyTorch run's ``torch.load``."""
    state = {k: torch.from_numpy(np.array(v.numpy())) for k, v in mg.load(path).items()}
    torch.save(state, path + ".torch")
    return path + ".torch"


@pytest.mark.parametrize("name", SCRIPTS)
def test_the_port_trains_and_its_losses_match_pytorch(name, tmp_path, capsys):
    source = (PORTS / f"{name}.py").read_text()
    minigan_source = ported(source)
    assert not re.search(r"^(import|from) torch", minigan_source, re.MULTILINE)
    netG, netD = _initial_weights(tmp_path, name, minigan_source, capsys)
    epochs = str(EPOCHS.get(name, 1))
    ours = _run(minigan_source, tmp_path, f"{name}_minigan", "--n_epochs", epochs, "--netG", netG, "--netD", netD,
                capsys=capsys)
    assert len(ours) >= 20 and np.isfinite(ours).all()
    assert (tmp_path / f"{name}_minigan" / "images" / "0.png").stat().st_size > 0
    again = _run(minigan_source, tmp_path, f"{name}_again", "--n_epochs", epochs, "--netG", netG, "--netD", netD,
                 capsys=capsys)
    assert again == ours  # the same seed and weights give the same run

    torch = pytest.importorskip("torch")
    theirs = _run(ported(source, _torch_imports()), tmp_path, f"{name}_torch", "--n_epochs", epochs,
                  "--netG", _as_torch_file(netG, torch), "--netD", _as_torch_file(netD, torch), capsys=capsys)
    assert len(theirs) == len(ours)
    np.testing.assert_allclose(ours, theirs, rtol=1e-4, atol=2e-6)


def test_the_sed_command_in_the_porting_guide_ports_the_dcgan_script_as_the_tests_do(tmp_path):
    """docs/porting.md shows the DCGAN script ported with ``sed``: its output is exactly :func:`ported`'s."""
    import shutil
    import subprocess

    if shutil.which("sed") is None:
        pytest.skip("needs sed")
    guide = (PORTS.parent.parent / "docs" / "porting.md").read_text()
    command = re.search(r"^(sed .*?) > dcgan_minigan\.py$", guide, re.MULTILINE | re.DOTALL).group(1)
    out = subprocess.run(command.replace("\\\n", " "), shell=True, cwd=PORTS.parent.parent, capture_output=True,
                         text=True, check=True).stdout
    assert out == ported((PORTS / "dcgan.py").read_text())
