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

