"""Build step: copy the bundled datasets and report notebooks into the wheel.

Everything else about the package is declared in ``pyproject.toml``.  The
sources stay the repository's top-level ``data/`` and ``notebooks/``; a wheel
(``pip install .``, ``pip wheel .``, ``python -m build``) carries copies in
``csmlib/_bundled/`` that :mod:`csmlib.bundled` finds with
``importlib.resources``.  An editable install (``pip install -e .``) copies
nothing: csmlib then reads the top-level folders of the clone.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent


def bundled_files() -> list[tuple[Path, str]]:
    """(source file, path under csmlib/_bundled/) of every file that ships.

    Datasets: ``data/PROVENANCE.md`` and every ``data/<name>/`` folder but
    ``references`` (R reference tables, read by the tests only).  Notebooks:
    ``notebooks/*.ipynb`` but the test notebooks whose names start with ``_``.
    """
    out: list[tuple[Path, str]] = []
    data = ROOT / "data"
    out.append((data / "PROVENANCE.md", "data/PROVENANCE.md"))
    for folder in sorted(p for p in data.iterdir() if p.is_dir() and p.name != "references"):
        for f in sorted(folder.iterdir()):
            if f.is_file() and not f.name.startswith("."):
                out.append((f, f"data/{folder.name}/{f.name}"))
    for nb in sorted((ROOT / "notebooks").glob("*.ipynb")):
        if not nb.name.startswith("_"):
            out.append((nb, f"notebooks/{nb.name}"))
    return out


class BuildPyBundled(build_py):
    """``build_py`` that also copies the bundled files into ``csmlib/_bundled``."""

    def run(self) -> None:
        super().run()
        if getattr(self, "editable_mode", False):
            return   # an editable install reads the clone's own folders
        target = Path(self.build_lib) / "csmlib" / "_bundled"
        shutil.rmtree(target, ignore_errors=True)
        for src, rel in bundled_files():
            dst = target / rel
            dst.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(src, dst)

    def get_outputs(self, include_bytecode: bool = True) -> list[str]:
        outputs = super().get_outputs(include_bytecode)
        if getattr(self, "editable_mode", False):
            return outputs
        target = Path(self.build_lib) / "csmlib" / "_bundled"
        return outputs + [str(target / rel) for _, rel in bundled_files()]


setup(cmdclass={"build_py": BuildPyBundled})
