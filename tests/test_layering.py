"""The package's layering, read from the source with ``ast`` (docstrings and doctests are not imports).

Imports point down this list only (ARCHITECTURE.md):

    rec_utils/__init__.py        (re-exports)
    rec_utils.notebook           (the course's layer: nothing else in the package imports it)
    rec_utils.rl, rec_utils.systems
    rec_utils.models
    rec_utils.evaluation         (takes any fitted object with score(): never imports models)
    rec_utils.data
    rec_utils._checks, rec_utils._console   (import nothing from the package)

and three more rules: no import cycle between modules, and no private name (leading underscore)
imported from another module of the package — the private *modules* _checks and _console are
the exception, their names are public. Every import counts, including those inside functions.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "rec_utils"
SHARED_PRIVATE_MODULES = {"_checks", "_console"}

LAYERS = {  # module-name prefix -> layer; a module may import only from its layer or below
    "rec_utils._checks": 0, "rec_utils._console": 0,
    "rec_utils.data": 1,
    "rec_utils.evaluation": 2,
    "rec_utils.models": 3,
    "rec_utils.rl": 4, "rec_utils.systems": 4,
    "rec_utils.notebook": 5,
    "rec_utils": 6,
}


@dataclass(frozen=True)
class Import:
    source: str  # the importing module
    target: str  # the module imported from
    name: str | None  # the name taken from it (None for "import target")
    line: int


def module_names(root: Path, package: str) -> dict[str, Path]:
    """Dotted module name -> file, for every .py file under ``root`` (a package's __init__ is the package)."""
    modules = {}
    for path in sorted(root.rglob("*.py")):
        parts = list(path.relative_to(root).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        modules[".".join([package, *parts])] = path
    return modules


def imports_of(name: str, path: Path, modules: dict[str, Path], package: str) -> list[Import]:
    """The package-internal imports of one module, anywhere in its code."""
    is_package = path.name == "__init__.py"
    here = name if is_package else name.rpartition(".")[0]
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name == package or alias.name.startswith(package + "."):
                    found.append(Import(name, alias.name, None, node.lineno))
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = here.split(".")
                base = base[:len(base) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if not (target == package or target.startswith(package + ".")):
                continue
            for alias in node.names:
                submodule = f"{target}.{alias.name}"
                if submodule in modules:  # "from . import metrics": the submodule itself
                    found.append(Import(name, submodule, None, node.lineno))
                else:
                    found.append(Import(name, target, alias.name, node.lineno))
    return found


def layer_of(module: str, layers: dict[str, int] = LAYERS) -> int:
    """The layer of the longest prefix of ``layers`` that names ``module`` or one of its packages."""
    best = max((prefix for prefix in layers if module == prefix or module.startswith(prefix + ".")), key=len)
    return layers[best]


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (or a module importing itself)."""
    index, low, on_stack, stack, found, counter = {}, {}, set(), [], [], [0]

    def visit(node):
        index[node] = low[node] = counter[0]
        counter[0] += 1
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(edges.get(node, ())):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1 or node in edges.get(node, ()):
                found.append(sorted(component))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return found


def problems(root: Path, package: str = "rec_utils", layers: dict[str, int] = LAYERS) -> dict[str, list[str]]:
    """Everything that breaks the layering rules, by rule."""
    modules = module_names(root, package)
    all_imports = [imp for name, path in modules.items() for imp in imports_of(name, path, modules, package)]
    edges: dict[str, set[str]] = {name: set() for name in modules}
    upward, notebook, private, unknown = [], [], [], []
    for imp in all_imports:
        where = f"{modules[imp.source].relative_to(root.parent)}:{imp.line}"
        if imp.target not in modules:
            unknown.append(f"{where} imports {imp.target}, which does not exist")
            continue
        edges[imp.source].add(imp.target)
        if imp.target == imp.source:
            continue
        if imp.target == f"{package}.notebook" and imp.source != package:
            notebook.append(f"{where}: {imp.source} imports the notebook layer ({package}.notebook)")
        elif layer_of(imp.target, layers) > layer_of(imp.source, layers):
            upward.append(f"{where}: {imp.source} (layer {layer_of(imp.source, layers)}) imports {imp.target} "
                          f"(layer {layer_of(imp.target, layers)})")
        private_module = imp.target.rpartition(".")[2]
        if imp.name and imp.name.startswith("_") and not imp.name.startswith("__"):
            private.append(f"{where}: {imp.source} imports the private name {imp.name} from {imp.target}")
        elif (imp.name is None and private_module.startswith("_")
              and private_module not in SHARED_PRIVATE_MODULES and not private_module.startswith("__")):
            private.append(f"{where}: {imp.source} imports the private module {imp.target}")
    return {"cycles": [" -> ".join(c) for c in cycles(edges)], "upward imports": upward,
            "imports of the notebook layer": notebook, "private names across modules": private,
            "imports of missing modules": unknown}


# --------------------------------------------------------------------------- the package

@pytest.mark.parametrize("rule", ["cycles", "upward imports", "imports of the notebook layer",
                                  "private names across modules", "imports of missing modules"])
def test_the_package_follows_its_layering(rule):
    found = problems(PACKAGE)[rule]
    assert not found, f"{rule} in rec_utils:\n" + "\n".join(found)


def test_the_shared_private_modules_import_nothing_from_the_package():
    modules = module_names(PACKAGE, "rec_utils")
    for name in ("rec_utils._checks", "rec_utils._console"):
        assert imports_of(name, modules[name], modules, "rec_utils") == [], f"{name} must stay at the bottom"


def test_every_module_has_a_layer():
    for name in module_names(PACKAGE, "rec_utils"):
        assert layer_of(name) in LAYERS.values()
    assert layer_of("rec_utils.models.sasrec") == 3 and layer_of("rec_utils") == 6


# --------------------------------------------------------------------------- the checker itself

def _package(tmp_path: Path, files: dict[str, str]) -> Path:
    root = tmp_path / "pkg"
    for relative, source in {"__init__.py": "", **files}.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(source)
    return root


def test_the_checker_finds_a_cycle_an_upward_import_and_a_private_name(tmp_path):
    root = _package(tmp_path, {
        "_checks.py": "",
        "data/__init__.py": "",
        "data/a.py": "from .b import helper\n",
        "data/b.py": "def helper():\n    from . import a  # inside a function: still an edge\n",
        "evaluation/__init__.py": "",
        "evaluation/m.py": "from .._checks import _private_ok_module_name\nfrom ..data.a import _secret\n",
        "data/c.py": '"""Docs.\n\n>>> from pkg.models import x\n"""\nfrom ..evaluation import m\n',
        "models/__init__.py": "",
        "models/x.py": "from ..notebook import setup\nfrom .._checks import check_number\n",
        "notebook.py": "from .data import a\n",
    })
    found = problems(root, "pkg", {key.replace("rec_utils", "pkg"): value for key, value in LAYERS.items()})
    assert found["cycles"] == ["pkg.data.a -> pkg.data.b"]
    assert len(found["upward imports"]) == 1 and "pkg.data.c (layer 1) imports pkg.evaluation.m" in \
        found["upward imports"][0]  # the doctest's import of pkg.models is not counted
    assert len(found["imports of the notebook layer"]) == 1 and "pkg.models.x" in found["imports of the notebook layer"][0]
    assert [p.split(": ", 1)[1] for p in found["private names across modules"]] == [
        "pkg.evaluation.m imports the private name _private_ok_module_name from pkg._checks",
        "pkg.evaluation.m imports the private name _secret from pkg.data.a"]
    assert found["imports of missing modules"] == []
