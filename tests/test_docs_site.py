"""The documentation site: its figures all come from a script, its nav names every page, its code runs."""

import importlib.util
import os
import re
import subprocess
from pathlib import Path

import numpy as np
import pytest

import minigan as mg

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"


def load(path: Path, name: str):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_every_picture_in_the_docs_is_drawn_by_an_example_or_a_recipe():
    figures = load(DOCS / "figures.py", "docs_figures")
    examples = {script.stem for script in (ROOT / "examples").glob("*.py")}
    for picture in (DOCS / "images").glob("*.png"):
        assert picture.name in figures.RECIPE_PICTURES, f"{picture.name}: no recipe draws it"
    for picture in (DOCS / "images" / "examples").glob("*.png"):
        assert picture.stem.split("-")[0] in examples, f"{picture.name}: no example draws it"
    for picture in (DOCS / "images" / "sweeps").glob("*.png"):
        assert picture.name in figures.SWEEP_PICTURES, f"{picture.name}: no sweep draws it"
    assert {p.parent.name for p in (DOCS / "images").rglob("*.png")} <= {"images", "examples", "sweeps"}
    assert {recipe for recipe, _ in figures.RECIPE_PICTURES.values()} <= {
        toml.stem for toml in (ROOT / "minigan" / "train" / "recipes").glob("*.toml")}


def test_every_page_and_picture_a_page_links_exists():
    for page in DOCS.rglob("*.md"):
        for target in re.findall(r"\]\(([^)#\s]+\.(?:md|png))(?:#[^)]*)?\)", page.read_text(encoding="utf-8")):
            assert (page.parent / target).resolve().exists(), f"{page.relative_to(ROOT)} links {target}"


def test_the_nav_names_every_page_and_every_example_has_a_page():
    nav = set(re.findall(r"([\w/-]+\.md)", (ROOT / "mkdocs.yml").read_text(encoding="utf-8")))
    pages = {str(page.relative_to(DOCS)) for page in DOCS.rglob("*.md")}
    assert pages == nav
    for script in (ROOT / "examples").glob("*.py"):
        assert f"examples/{script.stem}.md" in pages, f"examples/{script.name} has no page"


def test_docstrings_in_restructuredtext_become_markdown_math():
    pytest.importorskip("griffe", reason="the docs extra: pip install -e .[docs]")
    convert = load(DOCS / "rst_to_markdown.py", "rst_to_markdown").rst_to_markdown
    text = ("Sigmoid.\n\n    .. math::\n\n        \\sigma(x) = 1 / (1 + e^{-x})\n\n"
            "    Derivative :math:`\\sigma(1 - \\sigma)`, see :func:`~minigan.sigmoid` and ``x``.")
    assert convert(text) == ("Sigmoid.\n\n    $$\n    \\sigma(x) = 1 / (1 + e^{-x})\n    $$\n\n"
                             "    Derivative $\\sigma(1 - \\sigma)$, see `minigan.sigmoid` and `x`.")


def test_the_getting_started_script_learns_the_mixture():
    """The page's training loop, as written: after it, G covers the three modes, as the page says."""
    from minigan.metrics import mode_coverage

    (block,) = re.findall(r"```python\n(.*?)```", (DOCS / "getting-started.md").read_text(encoding="utf-8"), re.S)
    scope = {}
    exec(block, scope)
    with mg.no_grad():
        samples = scope["G"](mg.randn(2000, 4)).numpy()
    data = scope["data"]
    coverage = mode_coverage(samples, data.centres, data.std)
    assert coverage["modes_covered"] == 3 and coverage["high_quality_fraction"] > 0.85, coverage
    assert np.isfinite(samples).all()


@pytest.mark.skipif(importlib.util.find_spec("mkdocs") is None, reason="needs the docs extra: pip install -e .[docs]")
@pytest.mark.slow
def test_the_site_builds_with_warnings_as_errors(tmp_path):
    result = subprocess.run(["mkdocs", "build", "--strict", "--quiet", "--site-dir", str(tmp_path)], cwd=ROOT,
                            capture_output=True, text=True, env={**os.environ, "NO_MKDOCS_2_WARNING": "1"})
    assert result.returncode == 0, result.stderr
