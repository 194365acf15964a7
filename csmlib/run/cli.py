"""The ``csm`` command.

::

    csm init DIR [--demo [--waves N] | --from EXPORT]
    csm run STUDY.yml [--jobs N] [--force] [--only GLOB] [--scheduler ADDR] [--output DIR]
    csm validate STUDY.yml | INSTRUMENT.yml | DATA --instrument INSTRUMENT.yml
    csm simulate --demo DIR
    csm --version

``csm validate STUDY.yml`` makes every check ``csm run`` makes before it
starts a notebook (it loads and plans the study the same way, reading every
wave through the instrument) and reports the same error.

Exit codes: 0 everything succeeded; 1 at least one run failed (the others
finished); 2 the input was unusable (a :class:`~csmlib.errors.CsmError`,
reported as one message without a traceback).
"""

from __future__ import annotations

import argparse
import sys
import warnings
from pathlib import Path
from typing import Any, TextIO

from .. import __version__
from ..errors import CsmError, StudyError

__all__ = ["main", "build_parser"]


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``csm`` (exposed for documentation and tests)."""
    parser = argparse.ArgumentParser(
        prog="csm",
        description="csm workbench: customer-satisfaction measurement studies.",
    )
    parser.add_argument("--version", action="version", version=f"csm {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    init = sub.add_parser("init", help="start a study folder (study.yml, instrument.yml, data/)")
    init.add_argument("folder", help="the new study folder")
    init.add_argument("--demo", action="store_true",
                      help="fill it with the bundled demo study (instrument and simulated waves)")
    init.add_argument("--waves", type=int, metavar="N",
                      help="with --demo: copy only the first N waves (a 1-wave demo runs fastest)")
    init.add_argument("--from", dest="from_file", metavar="EXPORT",
                      help="draft the instrument from a survey export's metadata (.sav, .dta, "
                           "Qualtrics or plain .csv) and copy it into data/ as the first wave")

    run = sub.add_parser("run", help="run every notebook x wave x segment of a study")
    run.add_argument("study", help="the study YAML file")
    run.add_argument("--jobs", "-j", type=int, default=2,
                     help="notebooks run at the same time (default 2)")
    run.add_argument("--force", action="store_true",
                     help="run everything again, even runs whose inputs have not changed")
    run.add_argument("--only", action="append", metavar="GLOB",
                     help="run only wave/segment/notebook matching the glob "
                          "(e.g. '2026Q2/*/*'); repeatable")
    run.add_argument("--scheduler", metavar="ADDR",
                     help="Dask scheduler address (tcp://host:8786); "
                          "default $DASK_SCHEDULER_ADDRESS, else local processes")
    run.add_argument("--output", metavar="DIR",
                     help="output folder (overrides the study file's 'output')")
    run.add_argument("--no-progress", action="store_true", help="no progress bar")
    run.add_argument("--one-fit-per-notebook", action="store_true",
                     help="run every notebook on a fresh kernel, fitting its own models "
                          "(slower, same results; default: fit once per wave x segment, "
                          "one warm kernel per worker)")

    val = sub.add_parser("validate", help="check a study, instrument or data file")
    val.add_argument("path", help="a study .yml, an instrument .yml, or a data file")
    val.add_argument("--instrument", metavar="INSTRUMENT",
                     help="the instrument YAML (required to validate a data file)")

    sim = sub.add_parser("simulate", help="write simulated survey data")
    sim.add_argument("--demo", metavar="DIR", required=True,
                     help="write the demo study (instrument, waves, study.yml) to DIR")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the ``csm`` command; returns the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help(sys.stderr)
        return 2
    try:
        if args.command == "init":
            return _init(args, sys.stdout)
        if args.command == "run":
            with warnings.catch_warnings():
                warnings.showwarning = _print_warning   # one line each, no source lines
                return _run(args, sys.stdout, sys.stderr)
        if args.command == "validate":
            return _validate(args, sys.stdout)
        if args.command == "simulate":
            return _simulate(args, sys.stdout)
    except CsmError as exc:
        print(f"csm: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("csm: interrupted; run the same command again to resume", file=sys.stderr)
        return 130
    parser.error(f"unknown command {args.command!r}")
    return 2


def _print_warning(message: Warning | str, category: type, filename: str, lineno: int,
                   file: TextIO | None = None, line: str | None = None) -> None:
    print(f"csm: warning: {message}", file=sys.stderr)


# --------------------------------------------------------------------------- init
def _init(args: argparse.Namespace, out: TextIO) -> int:
    from .scaffold import init_study

    written = init_study(args.folder, demo=args.demo, waves=args.waves, from_file=args.from_file)
    folder = Path(args.folder)
    print(f"study folder written: {folder}", file=out)
    for p in written:
        print(f"  {p}", file=out)
    if not _kernel_registered():
        from .batch import KERNEL_NAME

        print(f"first register the notebooks' kernel in this environment: {sys.executable} -m "
              f"ipykernel install --sys-prefix --name {KERNEL_NAME}", file=out)
    if args.demo:
        print(f"run it with: csm run {folder / 'study.yml'}", file=out)
    elif args.from_file:
        print(f"next: check the draft {folder / 'instrument.yml'} (scales, missing codes, personal data; "
              f"move items into constructs), then: csm validate {folder / 'study.yml'}", file=out)
    else:
        print(f"next: edit {folder / 'instrument.yml'}, put the survey exports into "
              f"{folder / 'data'}, then: csm validate {folder / 'study.yml'}", file=out)
    return 0


def _kernel_registered() -> bool:
    """Whether Jupyter finds the kernel ``csm run`` executes notebooks on."""
    from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel

    from .batch import KERNEL_NAME

    try:
        KernelSpecManager().get_kernel_spec(KERNEL_NAME)
    except NoSuchKernel:
        return False
    return True


# --------------------------------------------------------------------------- run
def _run(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from .batch import make_executor, run_study, stop_executor
    from .study import load_study

    study = load_study(args.study, output=args.output)
    executor = make_executor(args.jobs, args.scheduler)
    bar: Any = None

    def on_plan(runs: list) -> None:
        nonlocal bar
        if not args.no_progress:
            from tqdm import tqdm

            bar = tqdm(total=len(runs), desc=study.name, unit="run", file=err,
                       dynamic_ncols=True)

    def progress(outcome: Any) -> None:
        if bar is not None:
            bar.set_postfix_str(f"{outcome.run.run_id}: {outcome.status}", refresh=False)
            bar.update(1)

    interrupted = False
    try:
        result = run_study(study, executor=executor, force=args.force, only=args.only,
                           progress=progress, on_plan=on_plan,
                           fit_once=not args.one_fit_per_notebook)
    except KeyboardInterrupt:
        interrupted = True
        stop_executor(executor)   # finished runs are on disk; running again resumes
        raise
    finally:
        if bar is not None:
            bar.close()
        if not interrupted:
            # a Dask client is closed (its shutdown() would stop the cluster)
            close = getattr(executor, "close", None) or getattr(executor, "shutdown", None)
            if close is not None:
                close()
    table = result.table
    counts = table["status"].value_counts()
    print(f"study {study.name}: " + ", ".join(f"{n} {s}" for s, n in counts.items()), file=out)
    failed = table[table["status"] == "failed"]
    for row in failed.itertuples(index=False):
        print(f"FAILED {row.run_id}: {row.error}", file=err)
    if result.report is not None:
        print(f"report: {result.report}", file=out)
    print(f"summary: {result.summary_csv}", file=out)
    card = result.summary_csv.with_name("scorecard.xlsx")
    if card.is_file():
        print(f"scorecard: {card}", file=out)
    return 0 if result.ok else 1


# --------------------------------------------------------------------------- validate
def _validate(args: argparse.Namespace, out: TextIO) -> int:
    path = Path(args.path)
    suffix = path.suffix.lower()
    if suffix in {".yml", ".yaml"} and args.instrument is None:
        import yaml

        from ..data.instrument import load_yaml

        try:   # (the reader of instrument and study files: a date that does not exist is a YAML error)
            raw = load_yaml(path.read_text(encoding="utf-8"))
        except (yaml.YAMLError, UnicodeDecodeError, OSError):
            raw = None
        if isinstance(raw, dict) and "constructs" in raw and "waves" not in raw:
            return _validate_instrument(path, out)
        return _validate_study(path, out)   # load_study reports a missing file as csm run does
    if not path.exists():
        raise StudyError("file not found", file=str(path), hint="check the path")
    if args.instrument is None:
        raise StudyError(
            "validating a data file needs its instrument",
            file=str(path), hint="add --instrument INSTRUMENT.yml",
        )
    return _validate_data(path, Path(args.instrument), out)


def _validate_study(path: Path, out: TextIO) -> int:
    """Every check ``csm run`` makes before it runs a notebook: the study file,
    the instrument, the model against the instrument, the parameters, and every
    wave read through the instrument by the notebooks' reader (the planner's
    bases).  The same error as ``csm run``, exit code 2."""
    from .batch import plan_runs
    from .study import load_study

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        study = load_study(path)
        runs = plan_runs(study)     # reads every wave, as csm run does
    print(f"study file OK: {study.path}", file=out)
    print(f"  name: {study.name}", file=out)
    print(f"  instrument: {study.instrument}", file=out)
    model = study.model if "\n" not in study.model else "(lavaan text)"
    print(f"  model: {model}", file=out)
    print(f"  notebooks: {', '.join(n.name for n in study.notebooks)}", file=out)
    print(f"  output: {study.run_dir}", file=out)
    print("  bases (respondents per wave x segment):", file=out)
    seen = set()
    for r in runs:
        if (r.wave, r.segment) in seen:
            continue
        seen.add((r.wave, r.segment))
        flag = "  suppressed (below min_base)" if r.suppressed else ""
        print(f"    {r.wave:>12} {r.segment:<16} n={r.n}{flag}", file=out)
    n_sup = sum(r.suppressed for r in runs)
    print(f"  runs: {len(runs)} ({n_sup} suppressed)", file=out)
    for w in caught:
        print(f"  warning: {w.message}", file=out)
    return 0


def _validate_instrument(path: Path, out: TextIO) -> int:
    try:
        from ..data.instrument import Instrument
    except ImportError:
        raise StudyError("instrument validation is not available in this version",
                         file=str(path), hint="update csm workbench") from None
    inst = Instrument.from_yaml(path)
    print(f"instrument OK: {path}", file=out)
    from ..report.markup import visible

    print(f"  name: {visible(getattr(inst, 'name', '?'))}", file=out)
    constructs = getattr(inst, "constructs", None)
    if constructs is not None:
        print(f"  constructs: {len(constructs)}", file=out)
    return 0


def _validate_data(path: Path, instrument: Path, out: TextIO) -> int:
    try:
        from ..data.instrument import Instrument
        from ..data.survey import read_survey
    except ImportError:
        raise StudyError("data validation is not available in this version",
                         file=str(path), hint="update csm workbench") from None
    inst = Instrument.from_yaml(instrument)
    survey = read_survey(path, inst)
    print(f"data OK: {path}", file=out)
    data = getattr(survey, "data", None)
    if data is not None:
        print(f"  respondents: {len(data)}; columns: {data.shape[1]}", file=out)
    prov = getattr(survey, "provenance", None)
    if prov is not None:
        for label, attr in (("rows read", "rows_read"), ("rows kept", "rows_kept"),
                            ("missing codes set to missing", "missing_codes_applied")):
            value = getattr(prov, attr, None)
            if value is not None:
                print(f"  {label}: {value}", file=out)
        for label, attr in (("personal data columns dropped", "pii_dropped"),
                            ("reverse-coded items", "reverse_coded"),
                            ("columns not in the instrument", "ignored_columns"),
                            ("notes", "notes")):
            value = getattr(prov, attr, None)
            if value:
                print(f"  {label}: {', '.join(map(str, value))}", file=out)
        dropped = getattr(prov, "dropped", None)
        dropped = dropped() if callable(dropped) else dropped
        if dropped is not None and len(dropped):
            print("  rows dropped:", file=out)
            print("    " + dropped.to_string(index=False).replace("\n", "\n    "), file=out)
    return 0


# --------------------------------------------------------------------------- simulate
def _simulate(args: argparse.Namespace, out: TextIO) -> int:
    try:
        from ..analysis import simulate
    except ImportError:
        raise StudyError("the simulator is not available in this version",
                         hint="update csm workbench") from None
    writer = getattr(simulate, "write_demo", None)
    if writer is None:
        raise StudyError("the simulator has no demo writer (csmlib.analysis.simulate.write_demo)",
                         hint="update csm workbench")
    written = [Path(p) for p in (writer(args.demo) or [])]
    # the simulator writes the waves; the hand-kept instrument and study file
    # complete the folder into a study that `csm run DIR/study.yml` runs
    from ..data.datasets import data_dir

    bundled = data_dir() / "demo"
    target = Path(args.demo)
    for name in ("instrument.yml", "study.yml"):
        src, dst = bundled / name, target / name
        if src.is_file() and not dst.exists():
            from ..atomic import write_bytes

            write_bytes(dst, src.read_bytes())
            written.append(dst)
    print(f"demo study written to {target}", file=out)
    for p in written:
        print(f"  {p}", file=out)
    if (target / "study.yml").is_file():
        print(f"run it with: csm run {target / 'study.yml'}", file=out)
    return 0


if __name__ == "__main__":  # pragma: no cover - python -m csmlib.run.cli
    sys.exit(main())
