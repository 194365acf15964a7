"""``csm init``: a new study folder, empty, with the demo study in it, or
drafted from a survey export.

A study folder holds ``study.yml``, ``instrument.yml``, ``data/`` (the
survey exports) and a short ``README.md``.  Without ``demo`` the instrument
is a commented template (the ACSI questionnaire with the model library's item
names) and ``data/`` is empty; with ``demo`` the folder holds the bundled demo
study (its instrument and its simulated waves) and runs as it is::

    csm init mystudy --demo && csm run mystudy/study.yml

With ``from_file`` (``csm init mystudy --from export.sav``) the instrument is
drafted from the export's own metadata (:func:`csmlib.data.draft.draft_instrument`),
the export is copied into ``data/`` as the first wave, and the study file
runs the data-quality notebook on it with a measurement model of the
suggested constructs::

    csm init mystudy --from export.sav && csm validate mystudy/study.yml
"""

from __future__ import annotations

import re
from importlib import resources
from pathlib import Path

import yaml

from ..atomic import write_bytes
from ..errors import StudyError

__all__ = ["init_study"]


def _template(name: str) -> str:
    return (resources.files("csmlib.run") / "templates" / name).read_text(encoding="utf-8")


def _study_name(folder: Path) -> str:
    name = re.sub(r"[^A-Za-z0-9._\- ]+", "-", folder.resolve().name).strip("-. ")
    return name if name and name[0].isalnum() else "my-study"


def _demo_study() -> tuple[str, list[dict], int, Path]:
    """Name, waves, bootstrap resamples and folder of the bundled demo study."""
    from ..data.datasets import data_dir

    folder = data_dir() / "demo"
    raw = yaml.safe_load((folder / "study.yml").read_text(encoding="utf-8"))
    return raw["name"], list(raw["waves"]), int(raw["parameters"]["n_boot"]), folder


def _drafted(target: Path, source: Path) -> dict[str, bytes]:
    """instrument.yml, study.yml and the copied export of ``csm init --from``."""
    import json

    from ..data.draft import draft_instrument

    if not source.is_file():
        raise StudyError("the export to draft the study from was not found", file=str(source),
                         hint="give the path of an SPSS .sav, Stata .dta or Qualtrics / plain CSV export")
    draft = draft_instrument(source)
    stem = re.sub(r"[^A-Za-z0-9._\-]+", "-", source.stem).strip("-.") or "wave1"
    data_name = f"data/{stem}{source.suffix.lower()}"
    model = draft.model_text()
    plain = [it["name"] for it in draft.instrument["other_items"]
             if re.fullmatch(r"[A-Za-z][A-Za-z0-9_]*", it["name"])]
    if model:
        model_yaml = "|\n" + "\n".join("  " + line for line in model.splitlines())
    elif len(plain) >= 2:   # no two items share a prefix: one construct, so that data quality runs
        model_yaml = ("|   # replace: no two items share a name prefix, so this one-construct model only "
                      "lets the data-quality notebook run\n  Draft =~ " + " + ".join(plain))
    else:
        model_yaml = "acsi    # replace: no construct could be drafted from the item names"
    segment = (draft.instrument.get("segment_columns") or ["region"])[0]
    # the file's own wave label when it holds one wave and it makes a safe folder name
    wave = draft.wave if draft.wave and re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._\-]{0,39}", draft.wave) else "wave1"
    study = _template("study_drafted.yml").format(
        name=_study_name(target), model=model_yaml,
        waves=f"  - {{name: {json.dumps(wave)}, data: {json.dumps(data_name)}}}",
        segment=json.dumps(segment, ensure_ascii=False).replace("\n", " "))
    return {"instrument.yml": draft.to_yaml().encode("utf-8"), "study.yml": study.encode("utf-8"),
            data_name: source.read_bytes()}


def init_study(folder: str | Path, *, demo: bool = False, waves: int | None = None,
               from_file: str | Path | None = None) -> list[Path]:
    """Write a new study folder.

    Parameters
    ----------
    folder : path-like
        The study folder; created if needed, and it must not hold any of the
        files written here.
    demo : bool
        Copy the bundled demo study (instrument and simulated waves) instead
        of the templates.
    waves : int, optional
        With ``demo``: copy only the first ``waves`` waves (1 to 3; default
        all).  A one-wave demo runs in a few minutes.
    from_file : path-like, optional
        A survey export (SPSS ``.sav``, Stata ``.dta``, Qualtrics or plain
        CSV, Excel): draft the instrument from its metadata and copy it
        into ``data/`` as the first wave (not with ``demo``).

    Returns
    -------
    list of pathlib.Path
        The files written: ``study.yml``, ``instrument.yml``, ``README.md``
        and, with ``demo``, ``data/<wave file>`` for each wave (with
        ``from_file``, the copied export).

    Raises
    ------
    StudyError
        ``folder`` is a file, or already holds a file this would overwrite;
        ``waves`` out of range, or given without ``demo``; ``from_file``
        with ``demo``, or not found.
    DataError
        ``from_file`` cannot be read, or has no numeric column.
    """
    target = Path(folder).expanduser()
    if target.exists() and not target.is_dir():
        raise StudyError("the study folder is a file", file=str(target),
                         hint="give the name of a new folder")
    files: dict[str, bytes] = {}
    if from_file is not None and (demo or waves is not None):
        raise StudyError("--from drafts a study from an export; --demo and --waves copy the demo study",
                         values=[str(from_file)], hint="use one or the other")
    if from_file is not None:
        name = _study_name(target)
        files.update(_drafted(target, Path(from_file).expanduser()))
    elif demo:
        name, demo_waves, n_boot, source = _demo_study()
        if waves is not None and not 1 <= waves <= len(demo_waves):
            raise StudyError(f"the demo study has {len(demo_waves)} waves", values=[waves],
                             hint=f"give --waves between 1 and {len(demo_waves)}")
        chosen = demo_waves[: waves or len(demo_waves)]
        files["instrument.yml"] = (source / "instrument.yml").read_bytes()
        for w in chosen:
            files[f"data/{w['data']}"] = (source / w["data"]).read_bytes()
        wave_lines = [f"  - {{name: {w['name']}, data: data/{w['data']}}}" for w in chosen]
    else:
        if waves is not None:
            raise StudyError("--waves chooses how many demo waves to copy", values=[waves],
                             hint="use it together with --demo")
        name, n_boot = _study_name(target), 2000
        files["instrument.yml"] = _template("instrument.yml").encode("utf-8")
        wave_lines = ["  - {name: 2026Q1, data: data/wave1.csv}   # put the export of the first wave here"]
    if from_file is None:
        files["study.yml"] = _template("study.yml").format(
            name=name, waves="\n".join(wave_lines), n_boot=n_boot).encode("utf-8")
    files["README.md"] = _template("README.md").format(name=name).encode("utf-8")

    existing = sorted(rel for rel in files if (target / rel).exists())
    if existing:
        raise StudyError("the study folder already holds files that csm init would overwrite",
                         file=str(target), values=existing,
                         hint="give the name of a new folder, or move those files away")
    (target / "data").mkdir(parents=True, exist_ok=True)
    return [write_bytes(target / rel, content) for rel, content in files.items()]
