"""The layers import downward only (README.md, "Architecture").

Every module of csmlib is parsed with ``ast``; every import in it -- at the
top or inside a function (a lazy import is a dependency all the same) -- is
resolved to the csmlib module it names, and an import of a higher layer
fails the test.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "csmlib"

#: layer of each top-level part of csmlib, lowest first (README.md, Architecture)
LAYERS = {
    "errors": 0, "atomic": 0, "bundled": 0, "privacy": 0,
    "data": 1, "spec": 2, "estimate": 3, "analysis": 4, "report": 5, "run": 6,
}
#: names of the package itself that any layer may import (no module behind them)
PACKAGE_NAMES = {"__version__"}
#: upward imports known when the rule was written, each with its way out; the
#: test fails on any other, and on an entry here that is no longer needed
KNOWN_UPWARD: set[tuple[str, str]] = set()


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> list[tuple[int, str, list[str]]]:
    """(line, absolute module, imported names) of every import in ``path``."""
    name = _module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    out = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            out.extend((node.lineno, a.name, []) for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            out.append((node.lineno, module, [a.name for a in node.names]))
    return out


def _layer(module: str) -> tuple[str, int] | None:
    """(part, layer) of a csmlib module; None outside csmlib or for the package itself."""
    parts = module.split(".")
    if parts[0] != "csmlib" or len(parts) < 2:
        return None
    return parts[1], LAYERS[parts[1]]


MODULES = sorted(p for p in PACKAGE.rglob("*.py") if p != PACKAGE / "__init__.py")


def test_every_part_of_csmlib_has_a_layer():
    parts = {p.relative_to(PACKAGE).parts[0].removesuffix(".py") for p in MODULES}
    parts = {p for p in parts if not p.startswith("_")}
    assert parts == set(LAYERS), "give every new top-level module or subpackage a layer"


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(ROOT)))
def test_imports_go_downward_only(path):
    here = _layer(_module_name(path))
    assert here is not None
    rel = path.relative_to(ROOT).as_posix()
    upward, known = [], set()
    for line, module, names in _imports(path):
        if module == "csmlib" and not names:
            upward.append(f"line {line}: {here[0]} imports the csmlib facade (import csmlib)")
            continue
        if module == "csmlib":
            # `from csmlib import x`: the submodule x, or a name of the package
            targets = [f"csmlib.{n}" for n in names if n not in PACKAGE_NAMES]
        else:
            targets = [module]
        for target in targets:
            there = _layer(target)
            if there is None or there[1] <= here[1]:
                continue
            if (rel, target) in KNOWN_UPWARD:
                known.add((rel, target))
            else:
                upward.append(f"line {line}: {here[0]} imports {target} ({there[0]})")
    assert not upward, "upward imports:\n" + "\n".join(upward)
    stale = {k for k in KNOWN_UPWARD if k[0] == rel} - known
    assert not stale, f"no longer imported: remove from KNOWN_UPWARD: {sorted(stale)}"


def test_the_rule_catches_an_upward_lazy_import(tmp_path, monkeypatch):
    """The check itself: a lazy import of the run layer from the data layer fails."""
    fake = PACKAGE / "data" / "_layer_probe.py"
    source = "def f():\n    from ..run.batch import run_study\n    return run_study\n"
    monkeypatch.setattr(Path, "read_text", lambda self, **kw: source if self == fake
                        else Path.read_bytes(self).decode("utf-8"))
    with pytest.raises(AssertionError, match=r"line 2: data imports csmlib.run.batch \(run\)"):
        test_imports_go_downward_only(fake)
