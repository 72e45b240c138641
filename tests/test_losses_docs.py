"""docs/losses.md explains every registered loss, under a heading that names it."""

import re
from pathlib import Path

import pytest

from minigan import losses

DOC = Path(__file__).resolve().parent.parent / "docs" / "losses.md"


def headings() -> list[str]:
    return [line for line in DOC.read_text(encoding="utf-8").splitlines() if re.match(r"#{1,6} ", line)]


@pytest.mark.parametrize("name", losses.available())
def test_every_registered_loss_has_a_section(name):
    assert any(f"`{name}`" in heading for heading in headings()), f"docs/losses.md has no heading with `{name}`"


@pytest.mark.parametrize("name", ["gradient_penalty", "r1_penalty", "r2_penalty", "dragan_penalty",
                                  *losses.PENALTIES.available()])
def test_every_penalty_has_a_section(name):
    assert any(f"`{name}`" in heading for heading in headings()), f"docs/losses.md has no heading with `{name}`"


def test_notation_is_fixed_first():
    assert any(re.match(r"#+ Notation", heading) for heading in headings())



def test_the_penalty_of_ones_own_trains_as_the_page_shows(monkeypatch):
    from minigan.train import config as cfg
    from minigan.train.trainer import Trainer

    monkeypatch.setattr(losses.PENALTIES, "_classes", dict(losses.PENALTIES._classes))  # registered for this test only
    block = re.search(r"```python\n(from minigan.losses import PENALTIES.*?)```", DOC.read_text(encoding="utf-8"), re.S)
    exec(block.group(1), {})
    config = cfg.apply_overrides(cfg.load_recipe("ring8"), ["penalty.name=r1-lite", "penalty.weight=5",
                                                            "model.pack=1", "data.batch_size=8"])
    assert config["penalty"] == {"name": "r1-lite", "every": 1, "weight": 5.0}
    stats = Trainer(config).train_step()
    assert stats["penalty"] > 0
