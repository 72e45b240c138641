"""The import graph of minigan follows the layer order written in its package docstring.

Every ``import`` and ``from ... import`` of every module counts, at module level or inside a function, except
under ``if TYPE_CHECKING:``; relative imports are resolved. A module belongs to the layer of its first name below
``minigan`` (``minigan.nn.conv`` to ``nn``, ``minigan.serialization`` to ``serialization``). The package's own
``__init__`` re-exports its lower layers, so importing ``minigan`` itself counts as importing the highest layer
that ``__init__`` imports. Checked: every subpackage and top-level module is listed, no module imports from a
higher layer, no import cycle joins two subpackages, and no import cycle joins two modules of one subpackage.
"""

import ast
import re
from collections import deque
from pathlib import Path
from typing import NamedTuple

import pytest

import minigan

PACKAGE = "minigan"


class Edge(NamedTuple):
    importer: str  # a module: "minigan.nn.conv"
    imported: str
    line: int


# -- the checker ------------------------------------------------------------------------------------------------

def read_package(directory: Path = Path(minigan.__file__).parent) -> dict[str, str]:
    """``{"minigan/nn/conv.py": source, ...}`` for every module of the package."""
    return {f"{PACKAGE}/{path.relative_to(directory).as_posix()}": path.read_text()
            for path in sorted(directory.rglob("*.py")) if "__pycache__" not in path.parts}


def module_name(path: str) -> tuple[str, bool]:
    """``"minigan/nn/__init__.py"`` -> ``("minigan.nn", True)``: the dotted name, and whether it is a package."""
    parts = path.removesuffix(".py").split("/")
    is_package = parts[-1] == "__init__"
    return ".".join(parts[:-1] if is_package else parts), is_package


def layer_ranks(docstring: str) -> dict[str, int]:
    """``{name: rank}`` from the indented block after the ``Layers`` paragraph; names on one line share a rank."""
    block = docstring[docstring.index("\nLayers"):].split("::\n\n", 1)[1].split("\n\n", 1)[0]
    names_per_line = [re.split(r"\s{2,}", line.strip(), maxsplit=1)[0] for line in block.splitlines()]
    return {name.strip(): rank for rank, names in enumerate(names_per_line) for name in names.split(",")}


def _nodes(node: ast.AST):
    """Every node below ``node`` except those in the body of ``if TYPE_CHECKING:``."""
    for child in ast.iter_child_nodes(node):
        type_only = isinstance(child, ast.If) and ast.unparse(child.test) in ("TYPE_CHECKING", "typing.TYPE_CHECKING")
        for kept in child.orelse if type_only else [child]:
            yield kept
            yield from _nodes(kept)


def imports_of(module: str, is_package: bool, source: str, modules: set[str]) -> list[tuple[str, int]]:
    """The minigan modules ``source`` imports, with line numbers: ``from a import b`` is ``a.b`` if that is a module."""
    found = []
    for node in _nodes(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [(alias.name, node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: from the package holding this module, then one package up per extra dot
                package = module.split(".")[:len(module.split(".")) - (not is_package) - (node.level - 1)]
                base = ".".join(package + ([node.module] if node.module else []))
            found += [(f"{base}.{a.name}" if f"{base}.{a.name}" in modules else base, node.lineno) for a in node.names]
    return [(name, line) for name, line in found if name == PACKAGE or name.startswith(PACKAGE + ".")]


def import_edges(sources: dict[str, str]) -> list[Edge]:
    named = {path: module_name(path) for path in sources}
    modules = {name for name, _ in named.values()}
    edges = [Edge(name, imported, line) for path, (name, is_package) in named.items()
             for imported, line in imports_of(name, is_package, sources[path], modules)]
    return list(dict.fromkeys(edges))  # `from a import b, c` is one edge


def unit(module: str) -> str:
    """The subpackage or top-level module that ``module`` is part of (``"nn"``), or ``"minigan"`` for the package."""
    return module.split(".")[1] if "." in module else PACKAGE


def check_layers(sources: dict[str, str]) -> list[str]:
    """What breaks the layer order of ``minigan/__init__.py``'s docstring, one message each; [] if nothing."""
    ranks = layer_ranks(ast.get_docstring(ast.parse(sources[f"{PACKAGE}/__init__.py"])))
    edges = import_edges(sources)
    units = {unit(module_name(path)[0]) for path in sources} - {PACKAGE}
    problems = [f"{PACKAGE}.{u} is in no layer: add it to the layer list in {PACKAGE}/__init__.py's docstring"
                for u in sorted(units - set(ranks))]
    ranks[PACKAGE] = max((ranks.get(unit(e.imported), -1) for e in edges if e.importer == PACKAGE), default=-1)
    for e in edges:
        a, b = unit(e.importer), unit(e.imported)
        if a in ranks and b in ranks and ranks[b] > ranks[a]:
            problems.append(f"{e.importer} (layer {a}) imports {e.imported} (layer {b}, higher) on line {e.line}")
    between_units = {(a, b) for a, b in ((unit(e.importer), unit(e.imported)) for e in edges) if a != b}
    problems += [f"import cycle between layers: {' -> '.join(c)}" for c in cycles(between_units)]
    return problems


def module_cycles(sources: dict[str, str], subpackage: str) -> list[str]:
    """Import cycles among the modules of ``minigan.<subpackage>``, one message each."""
    inside = {(e.importer, e.imported) for e in import_edges(sources)
              if unit(e.importer) == unit(e.imported) == subpackage and e.importer != e.imported}
    return [f"import cycle inside {PACKAGE}.{subpackage}: {' -> '.join(c)}" for c in cycles(inside)]


def cycles(edges: set[tuple[str, str]]) -> list[list[str]]:
    """One cycle ``[a, b, ..., a]`` per set of nodes that forms one; [] if the graph is acyclic."""
    graph: dict[str, set[str]] = {}
    for a, b in edges:
        graph.setdefault(a, set()).add(b)
    found, seen = [], set()
    for a, b in sorted(edges):
        path = _shortest_path(graph, b, a)
        if path and frozenset(path) not in seen:
            seen.add(frozenset(path))
            found.append([a, *path])
    return found


def _shortest_path(graph: dict[str, set[str]], start: str, goal: str) -> list[str] | None:
    previous = {start: None}
    queue = deque([start])
    while queue:
        node = queue.popleft()
        if node == goal:
            path = []
            while node is not None:
                path.append(node)
                node = previous[node]
            return path[::-1]
        for successor in sorted(graph.get(node, ())):
            if successor not in previous:
                previous[successor] = node
                queue.append(successor)
    return None


# -- minigan itself ---------------------------------------------------------------------------------------------

SOURCES = read_package()
SUBPACKAGES = sorted({unit(module_name(path)[0]) for path in SOURCES if path.count("/") > 1})


def test_the_layers_follow_the_package_docstring():
    problems = check_layers(SOURCES)
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("subpackage", SUBPACKAGES)
def test_no_import_cycle_between_the_modules_of_a_subpackage(subpackage):
    problems = module_cycles(SOURCES, subpackage)
    assert not problems, "\n".join(problems)


def test_nothing_in_the_library_imports_testing():
    """``minigan.testing`` is public API for users' tests, not a dependency of the library."""
    users = [e for e in import_edges(SOURCES) if unit(e.imported) == "testing" != unit(e.importer)]
    assert not users, "\n".join(f"{e.importer} imports {e.imported} on line {e.line}" for e in users)


def test_the_docstring_lists_the_layers_in_the_design_order():
    ranks = layer_ranks(minigan.__doc__)
    order = ["kernels", "autograd", "serialization", "registry", "ops", "nn", "optim", "losses", "data", "models",
             "metrics", "viz", "games", "train", "testing", "runner"]
    assert [ranks[name] for name in order] == sorted(ranks[name] for name in order)
    assert len({ranks[name] for name in order}) == len(order)
    assert ranks["runner"] == ranks["cli"] == ranks["bench"] == ranks["__main__"] == max(ranks.values())


# -- the checker on a made-up package, so that it cannot pass by seeing nothing ---------------------------------

FAKE_DOC = '''"""A made-up package.

Layers, lowest first::

    kernels   arrays
    ops       primitives
    nn        layers
    a, b      two modules sharing the top layer
"""
from minigan import nn
'''

FAKE = {
    "minigan/__init__.py": FAKE_DOC,
    "minigan/kernels/__init__.py": "",
    "minigan/kernels/arrays.py": "",
    "minigan/ops/__init__.py": "from . import binary\n",
    "minigan/ops/binary.py": "import numpy\n\n\ndef late():\n    import minigan.nn.functional as F\n",
    "minigan/nn/__init__.py": "from .functional import relu\n",
    "minigan/nn/functional.py": ("from typing import TYPE_CHECKING\nfrom ..kernels import softplus\n"
                                 "if TYPE_CHECKING:\n    from minigan.a import Thing\nelse:\n"
                                 "    from minigan.kernels.arrays import xp\n"),
    "minigan/nn/conv.py": "from minigan.nn import init\n",
    "minigan/nn/init.py": "def dcgan_init_(m):\n    from minigan.nn.conv import Conv2d\n",
    "minigan/a.py": "from minigan import b\n",
    "minigan/b.py": "from minigan.a import run\n",
    "minigan/extra/__init__.py": "import minigan\n",
}


def test_the_checker_finds_upward_imports_cycles_and_unlisted_subpackages():
    assert check_layers(FAKE) == [
        "minigan.extra is in no layer: add it to the layer list in minigan/__init__.py's docstring",
        "minigan.ops.binary (layer ops) imports minigan.nn.functional (layer nn, higher) on line 5",
        "import cycle between layers: a -> b -> a",
    ]
    nn_cycle = "minigan.nn.conv -> minigan.nn.init -> minigan.nn.conv"
    assert module_cycles(FAKE, "nn") == [f"import cycle inside minigan.nn: {nn_cycle}"]


def test_the_checker_resolves_relative_imports_and_skips_type_checking_blocks():
    edges = {(e.importer, e.imported) for e in import_edges(FAKE)}
    assert ("minigan.ops", "minigan.ops.binary") in edges  # from . import binary, in a package's __init__
    assert ("minigan.nn", "minigan.nn.functional") in edges  # from .functional import relu
    assert ("minigan.nn.functional", "minigan.kernels") in edges  # from ..kernels import softplus (not a module)
    assert ("minigan.nn.functional", "minigan.kernels.arrays") in edges  # the else of if TYPE_CHECKING counts
    assert ("minigan.nn.functional", "minigan.a") not in edges
    assert not any(imported == "numpy" for _, imported in edges)


def test_importing_the_package_counts_as_its_highest_import():
    """The made-up ``__init__`` imports nn, so ``import minigan`` from ops would be an upward import."""
    problems = check_layers({**FAKE, "minigan/ops/shape.py": "import minigan as mg\n"})
    assert "minigan.ops.shape (layer ops) imports minigan (layer minigan, higher) on line 1" in problems
