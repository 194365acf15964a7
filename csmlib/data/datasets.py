"""Bundled datasets, by name.

Real survey data published inside GPL-licensed R packages (see
``data/PROVENANCE.md``) and the simulated demo study.  They ship with the package (:func:`csmlib.bundled.bundled_dir`; the
sources are the repository's ``data/`` folder).  Each dataset lives in
``data/<name>/<name>.csv``; those with an instrument (codebook) also have
``data/<name>/instrument.yml`` and load as a :class:`~csmlib.data.survey.Survey`.

>>> import csmlib as csm
>>> csm.datasets.names()                      # doctest: +SKIP
['corp_rep_data', 'csem_SQ', 'holzinger_swineford1939', 'mobi', ...]
>>> survey = csm.datasets.load("mobi")         # doctest: +SKIP
>>> frame = csm.datasets.load_frame("political_democracy")   # doctest: +SKIP
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from ..bundled import bundled_dir
from ..errors import DataError

__all__ = ["data_dir", "names", "path", "instrument_path", "load", "load_frame", "demo_paths"]

#: (file name, wave label) of the bundled demo study's waves (the simulator,
#: csmlib.analysis.simulate.write_demo, writes them)
DEMO_WAVES: tuple[tuple[str, str], ...] = (
    ("wave1.csv", "2026Q1"), ("wave2.csv", "2026Q2"), ("wave3.csv", "2026Q3"))

_HINT_DATA = "reinstall csm workbench (pip install . in a clone, or its wheel)"


def data_dir() -> Path:
    """The bundled ``data/`` folder (a clone's ``data/``, or the installed copy).

    Raises
    ------
    DataError
        If the folder is missing (a wheel built without its build step).
    """
    return bundled_dir("data")


def names() -> list[str]:
    """Names of the bundled datasets (those with ``data/<name>/<name>.csv``).

    Returns
    -------
    list of str
        Sorted case-insensitively.
    """
    root = data_dir()
    found = [p.name for p in root.iterdir() if p.is_dir() and (p / f"{p.name}.csv").is_file()]
    return sorted(found, key=str.lower)


def _check_name(name: Any) -> str:
    available = names()
    if not isinstance(name, str) or name not in available:
        raise DataError(f"There is no bundled dataset called {name!r}.", values=[name],
                        hint=f"use one of: {', '.join(available)}")
    return name


def path(name: str) -> Path:
    """The CSV file of a bundled dataset.

    Raises
    ------
    DataError
        For an unknown name (the message lists the available ones).
    """
    name = _check_name(name)
    return data_dir() / name / f"{name}.csv"


def instrument_path(name: str) -> Path | None:
    """The instrument YAML of a bundled dataset, or None if it has none."""
    name = _check_name(name)
    p = data_dir() / name / "instrument.yml"
    return p if p.is_file() else None


def load_frame(name: str) -> pd.DataFrame:
    """A bundled dataset as a plain DataFrame, exactly as stored.

    Missing-value codes are not applied (``corp_rep_data`` codes missing
    answers as -99); use :func:`load` for a cleaned survey.

    Returns
    -------
    pandas.DataFrame
        The columns of the CSV file (see ``data/PROVENANCE.md``).
    """
    file = path(name)
    try:
        return pd.read_csv(file)
    except (OSError, ValueError, pd.errors.ParserError) as exc:
        raise DataError(f"Could not read the bundled dataset {name!r}: {exc}", file=str(file),
                        hint=_HINT_DATA) from exc


def load(name: str):
    """A bundled dataset with an instrument, read as a Survey.

    The data go through :func:`csmlib.read_survey` with the bundled
    ``instrument.yml`` (scale checks, missing codes, reverse coding).

    Returns
    -------
    Survey
        The cleaned survey with its instrument and provenance.

    Raises
    ------
    DataError
        For an unknown name, or a dataset without an instrument (use
        :func:`load_frame`).
    """
    from .instrument import Instrument
    from .survey import read_survey

    inst = instrument_path(name)
    if inst is None:
        with_inst = [n for n in names() if (data_dir() / n / "instrument.yml").is_file()]
        raise DataError(f"The bundled dataset {name!r} has no instrument, so it cannot load as a survey.",
                        file=str(path(name)),
                        hint=f"use csm.datasets.load_frame({name!r}), or one of: {', '.join(with_inst)}")
    return read_survey(path(name), Instrument.from_yaml(inst))


def demo_paths() -> dict[str, Path]:
    """The demo study's wave files and instrument.

    Returns
    -------
    dict
        ``{"instrument": data/demo/instrument.yml, "2026Q1": .../wave1.csv, ...}``.
    """
    folder = data_dir() / "demo"
    out = {"instrument": folder / "instrument.yml"}
    out.update({wave: folder / file for file, wave in DEMO_WAVES})
    missing = [str(p) for p in out.values() if not p.is_file()]
    if missing:
        raise DataError("Files of the demo study are missing.", values=missing,
                        hint="regenerate them with `python -m csmlib.analysis.simulate --demo data/demo`")
    return out
