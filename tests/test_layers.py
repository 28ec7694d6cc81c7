"""The package's layers: core < nets < studies < publish; no module imports a layer above its own.

Imports are read from the source (every ``import`` statement, including those
inside functions), so a lazy import cannot hide a layer violation. Importing
``lossbook.core`` must not import TensorFlow or torch.
"""
from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "lossbook"
LAYERS = ("core", "nets", "studies", "publish")


def _layer_of(module: str) -> int | None:
    parts = module.split(".")
    if parts[0] != "lossbook" or len(parts) < 2 or parts[1] not in LAYERS:
        return None
    return LAYERS.index(parts[1])


def _imported_modules(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


MODULES = sorted(p for layer in LAYERS for p in (PACKAGE / layer).glob("*.py"))


def test_every_module_sits_in_a_layer():
    loose = sorted(p.name for p in PACKAGE.glob("*.py") if p.name not in {"__init__.py", "__main__.py"})
    assert not loose, f"modules outside the layers: {loose}"
    assert MODULES


@pytest.mark.parametrize("path", MODULES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_no_import_from_a_higher_layer(path):
    own = LAYERS.index(path.parent.name)
    above = sorted(m for m in _imported_modules(path) if (_layer_of(m) or 0) > own)
    assert not above, f"{path.parent.name}/{path.name} imports from a higher layer: {above}"


def test_core_imports_no_framework():
    code = (
        "import sys, importlib, pkgutil, lossbook.core as core\n"
        "for m in pkgutil.iter_modules(core.__path__): importlib.import_module(f'lossbook.core.{m.name}')\n"
        "print(sorted({'tensorflow', 'torch', 'keras'} & set(sys.modules)))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]", f"lossbook.core imported a framework: {out.stdout}"
