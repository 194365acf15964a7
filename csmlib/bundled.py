"""Where the files that ship with csm workbench are: datasets and report notebooks.

The sources are the repository's top-level ``data/`` and ``notebooks/``
folders.  A wheel carries copies of them in ``csmlib/_bundled/`` (the build
step in ``setup.py`` fills it; the R reference tables stay out), read here
through :mod:`importlib.resources`.  A clone (an editable install, or
``PYTHONPATH`` pointing at it) reads the top-level folders themselves, so an
edited notebook or dataset is used at once.

>>> from csmlib.bundled import bundled_dir
>>> bundled_dir("notebooks")          # doctest: +SKIP
PosixPath('.../notebooks')
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from .errors import DataError

__all__ = ["bundled_dir", "BUNDLED_FOLDERS"]

#: the folders that ship with the package (``data``: datasets and the demo
#: study; ``notebooks``: the report notebooks)
BUNDLED_FOLDERS = ("data", "notebooks")


def _source_tree() -> Path | None:
    """The repository root when csmlib is imported from a clone, else None."""
    root = Path(__file__).resolve().parents[1]
    if (root / "pyproject.toml").is_file() and (root / "data" / "PROVENANCE.md").is_file():
        return root
    return None


def bundled_dir(name: str) -> Path:
    """The folder of bundled files called ``name`` (``"data"`` or ``"notebooks"``).

    Parameters
    ----------
    name : str
        One of :data:`BUNDLED_FOLDERS`.

    Returns
    -------
    pathlib.Path
        ``<clone>/<name>`` when imported from a clone, else the installed
        package's ``csmlib/_bundled/<name>``.

    Raises
    ------
    DataError
        For an unknown name, or when neither place has the folder (a wheel
        built without its build step, or an install from a zip file).
    """
    if name not in BUNDLED_FOLDERS:
        raise DataError(f"There is no bundled folder called {name!r}.", values=[name],
                        hint=f"use one of: {', '.join(BUNDLED_FOLDERS)}")
    clone = _source_tree()
    if clone is not None and (clone / name).is_dir():
        return clone / name
    packaged = resources.files("csmlib") / "_bundled" / name
    if isinstance(packaged, Path) and packaged.is_dir():
        return packaged
    raise DataError(
        f"The bundled {name} folder is missing from this installation of csm workbench.",
        file=str(packaged),
        hint="reinstall the package from a wheel built with `pip wheel .` or `python -m build` "
             "(the build copies data/ and notebooks/ in), or install a clone with `pip install -e .`",
    )
