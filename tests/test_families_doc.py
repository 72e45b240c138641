"""docs/families.md: its family of one's own trains as the page says, and it names every shipped family."""

import re
from pathlib import Path

import pytest

from minigan.games import GAMES
from minigan.train.checkpoint import CHECKPOINT, load_checkpoint

DOC = Path(__file__).resolve().parent.parent / "docs" / "families.md"


def python_blocks() -> list[str]:
    return re.findall(r"```python\n(.*?)```", DOC.read_text(encoding="utf-8"), re.S)


@pytest.fixture
def namespace(monkeypatch):
    """The page's first block, run as written: it registers the feature-matching family (for this test only)."""
    monkeypatch.setattr(GAMES, "_classes", dict(GAMES._classes))
    scope = {}
    exec(python_blocks()[0], scope)
    return scope


def test_a_family_of_ones_own_trains_through_the_generic_trainer(namespace, tmp_path):
    from minigan.runner import run_training

    def short_run(config, out):  # the page's second block, with a short, small training in a temporary folder
        config["train"].update(steps=3, checkpoint_every=2, sample_every=2, n_samples=4)
        config["model"].update(g_width=4, d_width=4)
        return run_training(config, tmp_path / Path(out).name, progress=False)

    block = python_blocks()[1].replace("from minigan.runner import run_training\n", "")
    exec(block, {"run_training": short_run})
    state = load_checkpoint(tmp_path / "feature-matching" / CHECKPOINT)
    assert state["config"]["game"]["name"] == "feature-matching" and state["step"] == 3
    assert set(state["networks"]) == {"G", "D"} and set(state["optimizers"]) == {"D", "G"}


def test_every_shipped_family_has_a_section():
    headings = [line for line in DOC.read_text(encoding="utf-8").splitlines() if line.startswith("## ")]
    for name in ("gan", "cgan", "acgan", "infogan", "vaegan", "catgan", "stylegan", "ebgan", "began", "pix2pix",
                 "cyclegan", "srgan"):
        assert any(f"(`{name}`)" in heading for heading in headings), name
