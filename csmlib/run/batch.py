"""Run a study: every notebook x wave x segment with papermill, resumably.

How a study expands into runs (:func:`plan_runs`)
-------------------------------------------------
* For every wave, for the whole sample (segment ``all``) and every segment
  value, every notebook of the study except the report notebook: one run.
* The report notebook (``report:`` in the study file, default
  ``study_report``) runs **once per wave**, on segment ``all``, after the
  wave's other runs: it receives ``wave_results``, a dict
  ``{"<segment>/<notebook>": results file}`` of the wave's recorded results,
  and ``previous_results_path``, the previous wave's report results, for the
  change since the last wave.  The consultant's report is the last wave's.
* Every run also depends on the same run of the previous wave and receives
  its results file as ``previous_results_path`` (``""`` for the first wave),
  so waves of one segment x notebook run in order and different segments and
  notebooks run in parallel.
* A wave x segment with fewer than ``min_base`` respondents (see
  :meth:`csmlib.run.study.Study.segment_bases`, which reads every wave with
  :func:`csmlib.read_survey`, as the notebooks do) is *suppressed*: not
  estimated, recorded with status ``suppressed``.  Planning therefore fails,
  before any notebook runs, on a wave that does not load through the
  instrument; ``csm validate`` plans the same way.
* The segment folder is :func:`csmlib.run.study.segment_labels` of the value:
  distinct values get distinct, safe, length-limited folder names.

Parameters every notebook receives: ``study, wave, previous_wave, segment``
(``"all"`` or the segment label), ``segment_column`` (``""`` if none),
``segment_value``, ``data_path``, ``data_encoding`` and ``data_sheet`` (the
wave's ``encoding`` and ``sheet``, ``""`` for the default), ``instrument_path,
model`` (a ``csm.models`` name or lavaan text), ``results_path,
previous_results_path, min_base``, ``multiplicity`` (the study's adjustment
of test families), ``wave_start`` and ``wave_end`` (the wave's fieldwork
window as ISO dates, ``""`` without one), and
the study's ``parameters`` (``seed``, ``n_boot``, ...); and ``fit_cache``,
the wave x segment's folder of shared fits (``<out_dir>/fits``; ``""`` with
``fit_once=False``), which is a path, not an input: it is not part of the
input hash nor of the run record's parameters.

Fit once, report many (``run_study(fit_once=True)``, the default): the
notebooks of a wave x segment estimate its models once
(:mod:`csmlib.run.fitcache`: ``run.fit_pls``, ``run.fit_cbsem``,
``run.bootstrap``), and a local worker runs its notebooks one after the
other on one warm kernel, reset to a fresh kernel's state before each
(:mod:`csmlib.run.kernel`), rather than start a kernel and import the
scientific stack for every notebook.  The recorded results are the same
either way (tested); ``csm run --one-fit-per-notebook`` runs the old way.

Outputs, in ``<output>/<study>/<wave>/<segment>/``: ``<notebook>.ipynb``
(executed), ``<notebook>.html`` (report without code, see
:mod:`csmlib.report.htmlexport`), ``<notebook>.results.json`` (recorded results, see
:mod:`csmlib.report.record`) and ``<notebook>.run.json`` (the run record: inputs,
parameters, seed, input hash, data sha256, package versions, times, status,
error).  Every file is written atomically, the run record last.  After all
runs, ``summary.csv`` and ``summary.json`` collect the recorded results.

One run of a study at a time: :func:`run_study` holds a lock on
``<output>/<study>/`` (:func:`study_lock`); a second run of the same study
fails at once with a :class:`~csmlib.errors.StudyError` naming the process
that holds it.  A worker process, its kernel and the fork server end when
the ``csm`` process ends, even by ``kill -9`` (see :class:`LocalPool`).

Resume: a run is skipped when its run record says ``success`` with the same
input hash (notebook, data, instrument and upstream results file bytes, the
parameters and the csmlib version) and its outputs exist.

Executors: runs go to anything with ``submit(fn, *args) -> future`` whose
futures have ``result()`` and ``add_done_callback()`` (a
:class:`concurrent.futures.Executor`, a ``dask.distributed.Client``).  The
worker receives the input files as bytes and returns the outputs as bytes;
the parent writes them, so workers need no shared file system (the staged
copies' paths are mapped back to the user's in the executed notebook).

Faults: a notebook whose kernel dies is a failed run (the others go on); a
kernel that dies or hangs before it answers its first request (no cell ran:
a start-up failure on a busy machine) is tried once more.  A
local worker process that dies (``kill -9``, out of memory) breaks a
``ProcessPoolExecutor`` for good; :class:`LocalPool` is renewed and the runs
that were in flight are tried once more (``MAX_ATTEMPTS``, recorded as
``attempts`` in the run record) before they count as failed; on Dask the
scheduler retries and reports ``KilledWorker``.  An output that cannot be
written (disk full, read-only folder) stops the study with a
:class:`~csmlib.errors.StudyError` naming the file.  ``KeyboardInterrupt``
stops it at once.  In every case the files of finished runs are untouched
(each file is replaced atomically and a run's old record is removed before it
runs again), so running the same command again resumes.

Bootstraps inside a notebook run where the notebook runs (on the Dask worker
for a cluster run) with ``csm.bootstrap(..., n_jobs=...)``; sending a single
bootstrap's resamples to a cluster is not supported.
"""

from __future__ import annotations

import contextlib
import errno
import fnmatch
import functools
import hashlib
import json
import logging
import os
import platform
import queue
import shutil
import tempfile
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timezone
from importlib import metadata
from multiprocessing import get_context
from pathlib import Path
from typing import Any

import pandas as pd

from .. import __version__ as CSMLIB_VERSION
from ..atomic import write_bytes, write_csv, write_json
from ..privacy import mask_text
from ..errors import StudyError
from .study import COMPLAINT_NOTEBOOKS, Study, Wave, load_study

__all__ = [
    "RunSpec",
    "RunOutcome",
    "StudyOutcome",
    "plan_runs",
    "input_hash",
    "execute_run",
    "run_study",
    "make_executor",
    "LocalPool",
    "InlineExecutor",
    "study_lock",
    "collect_summary",
    "KERNEL_NAME",
]

#: papermill always runs notebooks on the project's kernel
KERNEL_NAME = "csm"

#: the folder of a wave x segment's shared fits, in its output folder
FIT_CACHE_FOLDER = "fits"

_PATH_PARAMS = ("data_path", "instrument_path", "previous_results_path", "complaints_log_path",
                "complaints_codebook_path")
#: the complaint log's files, staged for the notebooks that read them (see csmlib.run.study)
_COMPLAINT_FILES = ("complaints_log_path", "complaints_codebook_path")
_VERSION_PACKAGES = (
    "csm-workbench", "numpy", "pandas", "scipy", "statsmodels", "semopy", "matplotlib",
    "seaborn", "papermill", "nbconvert", "nbformat", "ipykernel", "pydantic",
)


# --------------------------------------------------------------------------- plan
@dataclass(frozen=True)
class RunSpec:
    """One notebook run of a study.

    Attributes
    ----------
    run_id : str
        ``"<wave>/<segment>/<notebook>"`` (what ``--only`` globs match).
    study, wave, segment, notebook : str
    kind : str
        ``"notebook"`` or ``"report"``.
    notebook_path, data_path, instrument_path : Path
    segment_column : str or None
    segment_value : object
        The segment's value (``None`` for ``all``).
    model : str
    seed : object
    parameters : dict
        Every parameter passed to the notebook, with the parent's paths.
    out_dir : Path
        ``<output>/<study>/<wave>/<segment>``.
    previous_results_path : Path or None
    wave_results : dict
        Report runs: ``{"<segment>/<notebook>": results file}``.
    depends_on : tuple of str
        Run ids that must finish first.
    n : int
        Respondents in the wave x segment.
    suppressed : bool
        ``n < min_base``: not run.
    timeout : int
        Seconds per cell.
    """

    run_id: str
    study: str
    wave: str
    segment: str
    notebook: str
    kind: str
    notebook_path: Path
    data_path: Path
    instrument_path: Path
    segment_column: str | None
    segment_value: Any
    model: str
    seed: Any
    parameters: dict[str, Any]
    out_dir: Path
    previous_results_path: Path | None = None
    wave_results: dict[str, Path] = field(default_factory=dict)
    depends_on: tuple[str, ...] = ()
    n: int = 0
    suppressed: bool = False
    timeout: int = 1800

    def output(self, suffix: str) -> Path:
        """``out_dir / (notebook + suffix)``; suffix ``.ipynb``, ``.html``,
        ``.results.json`` or ``.run.json``."""
        return self.out_dir / f"{self.notebook}{suffix}"

    @property
    def results_path(self) -> Path:
        return self.output(".results.json")

    @property
    def record_path(self) -> Path:
        return self.output(".run.json")


def plan_runs(study: Study) -> list[RunSpec]:
    """Expand a study into its runs (see the module docstring), in a valid order.

    Returns
    -------
    list of RunSpec
        Dependencies come before the runs that need them.
    """
    bases = study.segment_bases()
    root = study.run_dir
    regular = [nb for nb in study.notebooks if nb.name != study.report]
    report = [nb for nb in study.notebooks if nb.name == study.report]
    runs: list[RunSpec] = []
    prev_wave: str | None = None
    for wave in study.waves:
        wb = bases[bases["wave"] == wave.name]
        wave_runs: list[RunSpec] = []
        for row in wb.itertuples(index=False):
            for nb in regular:
                wave_runs.append(_make_run(study, wave, prev_wave, row.segment,
                                           row.value, int(row.n), nb.name, nb.path, "notebook",
                                           root, {}))
        runs.extend(wave_runs)
        all_n = int(wb.loc[wb["segment"] == "all", "n"].iloc[0])
        for nb in report:
            wave_results = {f"{r.segment}/{r.notebook}": r.results_path for r in wave_runs}
            runs.append(_make_run(study, wave, prev_wave, "all", None, all_n,
                                  nb.name, nb.path, "report", root, wave_results,
                                  extra_deps=tuple(r.run_id for r in wave_runs)))
        prev_wave = wave.name
    return runs


def _make_run(study: Study, wave_of: Wave, prev_wave: str | None, segment: str,
              value: Any, n: int, notebook: str, nb_path: Path, kind: str, root: Path,
              wave_results: dict[str, Path], extra_deps: tuple[str, ...] = ()) -> RunSpec:
    wave, data = wave_of.name, wave_of.data
    out_dir = root / wave / segment
    prev = root / prev_wave / segment / f"{notebook}.results.json" if prev_wave else None
    deps = ((f"{prev_wave}/{segment}/{notebook}",) if prev_wave else ()) + extra_deps
    params: dict[str, Any] = {
        "study": study.name,
        "wave": wave,
        "previous_wave": prev_wave or "",
        "segment": segment,
        "segment_column": study.segment_column or "",
        "segment_value": value,
        "data_path": str(data),
        "data_encoding": wave_of.encoding or "",
        "data_sheet": "" if wave_of.sheet is None else wave_of.sheet,
        "instrument_path": str(study.instrument),
        "model": study.model,
        "results_path": str(out_dir / f"{notebook}.results.json"),
        "previous_results_path": str(prev) if prev else "",
        "min_base": study.min_base,
        "language": study.language,
        "multiplicity": study.multiplicity,
        **wave_of.window_parameters(),
        **study.parameters,
    }
    if study.complaints is not None and notebook in COMPLAINT_NOTEBOOKS:
        c = study.complaints
        params.update(complaints_log_path=str(c.log), complaints_codebook_path=str(c.codebook),
                      complaints_encoding=c.encoding or "",
                      complaints_sheet="" if c.sheet is None else c.sheet)
    if kind == "report":
        params["wave_results"] = {k: str(v) for k, v in wave_results.items()}
        if study.actions:   # the study's improvement actions, tracked by the report
            params["actions"] = [a.as_dict() for a in study.actions]
    return RunSpec(
        run_id=f"{wave}/{segment}/{notebook}", study=study.name, wave=wave, segment=segment,
        notebook=notebook, kind=kind, notebook_path=nb_path, data_path=data,
        instrument_path=study.instrument, segment_column=study.segment_column,
        segment_value=value, model=study.model, seed=study.seed, parameters=params,
        out_dir=out_dir, previous_results_path=prev, wave_results=dict(wave_results),
        depends_on=deps, n=n, suppressed=n < study.min_base, timeout=study.timeout,
    )


# --------------------------------------------------------------------------- hashing
def _sha256(path: Path | None) -> str | None:
    if path is None or not Path(path).is_file():
        return None
    st = Path(path).stat()
    return _sha256_cached(str(path), st.st_mtime_ns, st.st_size)


@functools.lru_cache(maxsize=256)
def _sha256_cached(path: str, mtime_ns: int, size: int) -> str:
    """SHA-256 of a file, cached while its modification time and size stay the same."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def input_hash(run: RunSpec) -> str:
    """SHA-256 over everything a run's outputs depend on.

    The bytes of the notebook, data, instrument, previous wave's results and
    (reports) the wave's results files; the parameters other than file paths;
    the run's base ``n`` and whether it is suppressed; the csmlib version.
    Moving the study folder does not change it; editing any input does.

    Returns
    -------
    str
        Hex digest.
    """
    params = {k: v for k, v in run.parameters.items()
              if k not in _PATH_PARAMS and k not in ("results_path", "wave_results")}
    doc = {
        "csmlib": CSMLIB_VERSION,
        "kernel": KERNEL_NAME,
        "notebook": _sha256(run.notebook_path),
        "data": _sha256(run.data_path),
        "instrument": _sha256(run.instrument_path),
        "previous_results": _sha256(run.previous_results_path),
        "wave_results": {k: _sha256(v) for k, v in sorted(run.wave_results.items())},
        **{key: _sha256(Path(run.parameters[key])) for key in _COMPLAINT_FILES if run.parameters.get(key)},
        "parameters": params,
        "n": run.n,
        "suppressed": run.suppressed,
        "timeout": run.timeout,
    }
    text = json.dumps(doc, sort_keys=True, default=str, ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


# --------------------------------------------------------------------------- worker
@functools.lru_cache(maxsize=1)
def _installed_versions() -> tuple[tuple[str, str], ...]:
    """Looked up once per process (a worker runs many notebooks)."""
    out = []
    for pkg in _VERSION_PACKAGES:
        try:
            out.append((pkg, metadata.version(pkg)))
        except metadata.PackageNotFoundError:
            out.append((pkg, "not installed"))
    return tuple(out)


def _versions() -> dict[str, str]:
    return {"python": platform.python_version(), **dict(_installed_versions())}


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds")


def _build_payload(run: RunSpec, fit_cache: bool = True, warm_kernel: bool = False
                   ) -> dict[str, Any]:
    """Everything a worker needs, as plain data (input files as bytes).

    With ``fit_cache`` the notebook receives ``fit_cache``, the wave x
    segment's folder of shared fits (:mod:`csmlib.run.fitcache`; ``""``:
    it fits its own models); with ``warm_kernel`` it runs on the worker's
    warm kernel (:mod:`csmlib.run.kernel`), else on a fresh one."""

    def blob(p: Path | None) -> tuple[str, bytes] | None:
        if p is None or not Path(p).is_file():
            return None
        return (Path(p).name, Path(p).read_bytes())

    inputs: dict[str, Any] = {
        "data_path": blob(run.data_path),
        "instrument_path": blob(run.instrument_path),
        "previous_results_path": blob(run.previous_results_path),
    }
    for key in _COMPLAINT_FILES:
        if run.parameters.get(key):
            inputs[key] = blob(Path(run.parameters[key]))
    if run.kind == "report":
        inputs["wave_results"] = {k: blob(v) for k, v in run.wave_results.items()}
    return {
        "run_id": run.run_id,
        "title": f"{run.study} \u2013 {run.notebook} \u2013 {run.wave} \u2013 {run.segment}",
        "notebook": (run.notebook_path.name, run.notebook_path.read_bytes()),
        # the user's paths, put back where the worker's copies would appear
        "paths": {"notebook": str(run.notebook_path), "output": str(run.output(".ipynb"))},
        "inputs": inputs,
        "parameters": {**run.parameters,
                       "fit_cache": str(run.out_dir / FIT_CACHE_FOLDER) if fit_cache else ""},
        "timeout": run.timeout,
        "kernel_name": KERNEL_NAME,
        "warm_kernel": bool(warm_kernel),
    }


#: what jupyter_client says when a kernel dies or hangs before it answers its
#: first request: no cell of the notebook has run, so the run is tried again
_KERNEL_START_FAILURES = ("Kernel died before replying to kernel_info", "Kernel didn't respond in")


def _kernel_did_not_start(error: str) -> bool:
    """Whether a failed run's error says its kernel never started."""
    return any(text in error for text in _KERNEL_START_FAILURES)


def _error_message(exc: BaseException) -> str:
    name = type(exc).__name__
    if name == "PapermillExecutionError":
        ename, evalue = getattr(exc, "ename", "Error"), getattr(exc, "evalue", "")
        count = getattr(exc, "exec_count", None)
        where = f" (in cell [{count}])" if count is not None else ""
        return f"{ename}: {evalue}{where}"
    if name == "DeadKernelError":
        return "the notebook's kernel died (killed, out of memory or os._exit) before it finished"
    if name == "CellTimeoutError":
        return f"a cell ran longer than the time limit: {str(exc).splitlines()[0] if str(exc) else ''}"
    if name == "NoSuchKernel":
        return (f"no Jupyter kernel named {KERNEL_NAME!r}: register it with "
                f"'python -m ipykernel install --sys-prefix --name {KERNEL_NAME}'")
    text = str(exc).strip().splitlines()
    return f"{name}: {text[0] if text else ''}".strip()


def _current_folder() -> str | None:
    try:
        here = os.getcwd()
    except FileNotFoundError:
        return None
    return here if os.path.isdir(here) else None


class _InFolder:
    """Stand in ``folder`` while a notebook runs, then go back -- or, if the
    folder we came from has been deleted meanwhile (an earlier run's
    temporary folder, a test folder cleaned up by another session), to the
    temporary directory.  papermill's own ``cwd=`` switch changes back
    unconditionally and fails in that case, failing the run."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def __enter__(self) -> None:
        self.back = _current_folder()
        os.chdir(self.folder)

    def __exit__(self, *exc: Any) -> None:
        back = self.back if self.back and os.path.isdir(self.back) else None
        os.chdir(back or tempfile.gettempdir())


def execute_run(payload: dict[str, Any]) -> dict[str, Any]:
    """Execute one run in a private temporary folder (the worker side).

    Parameters
    ----------
    payload : dict
        From the parent: notebook and input files as ``(name, bytes)``,
        parameters, timeout, kernel name.

    Returns
    -------
    dict
        ``status`` (``"success"``/``"failed"``), ``error`` (the notebook's
        error message or ``None``), ``ipynb``, ``html``, ``results`` (bytes or
        ``None``), ``start``, ``end`` (ISO times), ``host``, ``versions``,
        ``input_sha256`` (``{input: SHA-256}`` of the input bytes the notebook
        was given: what it read, even if the file changed since).
        Never raises: every failure is reported in the returned record,
        except ``KeyboardInterrupt`` (the user stopping the study), which is
        raised after the temporary folder is removed.
    """
    start = _now()
    out: dict[str, Any] = {"status": "failed", "error": None, "ipynb": None, "html": None,
                           "results": None, "start": start, "end": None,
                           "host": platform.node(), "versions": _versions(),
                           "input_sha256": {k: hashlib.sha256(v[1]).hexdigest()
                                            for k, v in payload["inputs"].items()
                                            if isinstance(v, (tuple, list))}}
    tmp = Path(tempfile.mkdtemp(prefix="csm-run-"))
    replacements: dict[str, str] = {}
    try:
        params = dict(payload["parameters"])
        for key, spec in payload["inputs"].items():
            if isinstance(spec, dict):
                staged = {}
                for i, (label, item) in enumerate(sorted(spec.items())):
                    if item is None:
                        continue
                    p = tmp / "inputs" / key / str(i) / item[0]
                    p.parent.mkdir(parents=True, exist_ok=True)
                    p.write_bytes(item[1])
                    replacements[str(p)] = str(params[key][label])
                    staged[label] = str(p)
                params[key] = staged
            elif spec is None:
                params[key] = ""
            else:
                p = tmp / "inputs" / key / spec[0]
                p.parent.mkdir(parents=True, exist_ok=True)
                p.write_bytes(spec[1])
                replacements[str(p)] = str(params[key])
                params[key] = str(p)
        results = tmp / "results.json"
        replacements[str(results)] = str(params["results_path"])
        params["results_path"] = str(results)
        nb_in = tmp / payload["notebook"][0]
        nb_in.write_bytes(payload["notebook"][1])
        nb_out = tmp / "executed.ipynb"
        shown = payload.get("paths", {})
        replacements[str(nb_in)] = shown.get("notebook", payload["notebook"][0])
        replacements[str(nb_out)] = shown.get("output", payload["notebook"][0])
        replacements[str(tmp)] = "."   # papermill's working folder, last (shortest)

        from .kernel import execute_notebook

        pm_log = logging.getLogger("papermill")
        old_level = pm_log.level
        pm_log.setLevel(logging.ERROR)  # "unknown parameter" notices are not errors
        try:
            with _InFolder(tmp):
                execute_notebook(
                    nb_in, nb_out, params, kernel_name=payload["kernel_name"],
                    timeout=payload["timeout"], start_timeout=120,
                    # the kernel's own log lines ("running over TCP without
                    # encryption" -- it listens on 127.0.0.1 only; "KeyboardInterrupt
                    # caught" when it is shut down) would garble the progress bar; a
                    # failing cell or a dying kernel is reported by papermill instead
                    extra_arguments=["--IPKernelApp.log_level=CRITICAL"],
                    warm=bool(payload.get("warm_kernel", False)),
                )
        except KeyboardInterrupt:
            raise   # the user stopped the study: nothing to record
        except BaseException as exc:  # noqa: BLE001 - reported, never raised
            out["error"] = _restore(_error_message(exc), replacements)
        finally:
            pm_log.setLevel(old_level)
        if nb_out.is_file():
            from ..report.htmlexport import mask_notebook_text

            out["ipynb"] = mask_notebook_text(
                _restore(nb_out.read_text(encoding="utf-8"), replacements)).encode()
        if out["error"] is None:
            from ..report.htmlexport import notebook_to_html

            out["html"] = notebook_to_html(out["ipynb"], title=payload.get("title")).encode("utf-8")
            out["results"] = (
                results.read_bytes() if results.is_file()
                else json.dumps({"schema": 1, "values": {}, "frames": {}}).encode()
            )
            out["status"] = "success"
    except KeyboardInterrupt:
        raise
    except BaseException as exc:  # noqa: BLE001
        out["error"] = _restore(_error_message(exc), replacements)
        out["status"] = "failed"
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
        out["end"] = _now()
    return out


def _restore(text: str, replacements: dict[str, str]) -> str:
    """Put the user's file paths back where the worker's staged copies appear."""
    for staged, original in sorted(replacements.items(), key=lambda kv: -len(kv[0])):
        if staged and original:
            text = text.replace(staged, original)
    return text


# --------------------------------------------------------------------------- executors
class InlineExecutor:
    """Runs each job at once in the calling process (``jobs=1``)."""

    def submit(self, fn: Callable[..., Any], *args: Any) -> Future:
        fut: Future = Future()
        try:
            fut.set_result(fn(*args))
        except KeyboardInterrupt:
            raise   # stop at once, do not start the next run
        except BaseException as exc:  # noqa: BLE001
            fut.set_exception(exc)
        return fut

    def shutdown(self, wait: bool = True) -> None:  # noqa: D401 - executor protocol
        """Shut down this thread's warm kernel (:mod:`csmlib.run.kernel`), if any."""
        from .kernel import shutdown_warm_kernel

        shutdown_warm_kernel()


class LocalPool:
    """A local process pool that can be renewed after a worker process dies.

    ``concurrent.futures.ProcessPoolExecutor`` becomes unusable for good when
    one of its processes is killed (out of memory, ``kill -9``): every running
    and later job fails with ``BrokenProcessPool``.  :func:`run_study` calls
    :meth:`renew` and submits the runs that were in flight once more on a
    fresh pool, so one killed worker does not fail the rest of the study.

    A worker process ends itself when the process that made the pool ends,
    however it ends (``kill -9`` too): every worker watches the read end of
    a pipe whose only write end this process holds, and exits at its end of
    file.  Its notebook kernel follows (an IPython kernel ends when its
    parent process has gone), and so do the fork server and the resource
    tracker of :mod:`multiprocessing` (each ends when its last client has).

    Parameters
    ----------
    jobs : int
        Worker processes.
    """

    def __init__(self, jobs: int) -> None:
        self.jobs = jobs
        self.generation = 0
        ctx = _mp_context()
        # the write end stays here, unused, until this process ends
        self._lifeline, self._lifeline_w = ctx.Pipe(duplex=False)
        self._pool = self._new_pool()

    def _new_pool(self) -> ProcessPoolExecutor:
        return ProcessPoolExecutor(max_workers=self.jobs, mp_context=_mp_context(),
                                   initializer=_worker_init, initargs=(self._lifeline,))

    def submit(self, fn: Callable[..., Any], *args: Any) -> Future:
        """Submit ``fn(*args)`` to the current pool."""
        return self._pool.submit(fn, *args)

    def renew(self, generation: int) -> None:
        """Replace the pool if it is still the (broken) one of ``generation``."""
        if generation != self.generation:
            return   # already renewed after the same breakage
        old = self._pool
        self._pool = self._new_pool()
        self.generation += 1
        _stop_pool(old)

    @property
    def _processes(self) -> dict[int, Any]:
        """The current worker processes by pid (as ``ProcessPoolExecutor`` keeps them)."""
        return dict(getattr(self._pool, "_processes", None) or {})

    def shutdown(self, wait: bool = True, cancel_futures: bool = False) -> None:
        """Shut the pool down (see :meth:`ProcessPoolExecutor.shutdown`)."""
        self._pool.shutdown(wait=wait, cancel_futures=cancel_futures)

    def terminate(self) -> None:
        """Stop at once: cancel queued runs and end the worker processes."""
        _stop_pool(self._pool)


def stop_executor(executor: Any) -> None:
    """Stop at once: cancel queued runs and end the local worker processes
    (and with them their kernels).  A :class:`LocalPool` terminates itself; a
    ``ProcessPoolExecutor`` has its workers ended; a Dask client is closed
    (its ``shutdown()`` would stop the whole cluster).  Finished runs are on
    disk already; running the study again resumes."""
    stop = getattr(executor, "terminate", None)   # LocalPool
    if stop is not None:
        stop()
    else:
        _stop_pool(executor)


def _stop_pool(pool: Any) -> None:
    # ProcessPoolExecutor keeps its workers and call queue in private attributes
    # (Python < 3.14 has no public way to stop running work); shutdown() clears
    # them, so take them first
    procs = list((getattr(pool, "_processes", None) or {}).values())
    call_queue = getattr(pool, "_call_queue", None)
    try:
        pool.shutdown(wait=False, cancel_futures=True)
    except (AttributeError, TypeError):   # not a concurrent.futures executor (Dask)
        close = getattr(pool, "close", None)
        if close is not None:
            close()
    except Exception:  # noqa: BLE001 - a broken pool may complain
        pass
    for proc in procs:
        try:
            proc.terminate()
        except (OSError, AttributeError, ValueError):
            pass
    if call_queue is not None:   # do not wait at exit to hand queued runs to dead workers
        try:
            call_queue.cancel_join_thread()
        except (OSError, AttributeError, ValueError):
            pass


def make_executor(jobs: int = 2, scheduler: str | None = None) -> Any:
    """The executor for ``jobs`` local workers, or a Dask cluster.

    Parameters
    ----------
    jobs : int
        Local worker processes (1: run in this process).
    scheduler : str, optional
        A Dask scheduler address (``tcp://host:8786``); default the
        environment variable ``DASK_SCHEDULER_ADDRESS``, else local processes.

    Returns
    -------
    executor
        A ``distributed.Client`` connected to the scheduler (the runs go to
        its workers; close it with ``close()``, since its ``shutdown()`` stops
        the cluster), an :class:`InlineExecutor` for ``jobs=1``, else a
        :class:`LocalPool` of ``jobs`` processes.
    """
    if not isinstance(jobs, int) or isinstance(jobs, bool) or jobs < 1:
        raise StudyError("the number of jobs must be a whole number >= 1", values=[jobs],
                         hint="use --jobs 1, 2, ...")
    scheduler = scheduler or os.environ.get("DASK_SCHEDULER_ADDRESS") or None
    if scheduler:
        try:
            from distributed import Client
        except ImportError:
            raise StudyError(
                "a Dask scheduler was given but Dask is not installed",
                values=[scheduler],
                hint="pip install 'csm-workbench[dist]', or run without --scheduler",
            ) from None
        try:
            return Client(scheduler, timeout=10)
        except Exception as exc:  # noqa: BLE001
            raise StudyError(
                f"cannot connect to the Dask scheduler ({type(exc).__name__}: {exc})",
                values=[scheduler],
                hint="check the address and that the scheduler is running",
            ) from None
    if jobs == 1:
        return InlineExecutor()
    return LocalPool(jobs)


def _worker_init(lifeline: Any = None) -> None:
    """Workers ignore Ctrl-C: the parent handles it (cancels and ends the
    workers).  With a ``lifeline`` (the read end of a pipe whose write end
    only the parent holds) a worker also ends when its parent has ended,
    even by ``kill -9``, rather than wait for work forever."""
    import signal
    import threading

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if lifeline is not None:
        threading.Thread(target=_exit_with_parent, args=(lifeline,), daemon=True,
                         name="csm-parent-watch").start()


def _exit_with_parent(lifeline: Any) -> None:
    """Block until the parent's end of the pipe closes, then end this process."""
    try:
        while True:
            lifeline.recv_bytes()   # the parent never writes; only EOF arrives
    except (EOFError, OSError):
        pass
    os._exit(1)


def _mp_context() -> Any:
    """Worker processes start from a fork server that has imported the runner
    (papermill, nbconvert) once, rather than paying that import per worker;
    spawn where there is no fork server (Windows)."""
    import multiprocessing

    if "forkserver" in multiprocessing.get_all_start_methods():
        ctx = get_context("forkserver")
        ctx.set_forkserver_preload(["csmlib.run.batch", "csmlib.report.htmlexport", "papermill"])
        return ctx
    return get_context("spawn")


# --------------------------------------------------------------------------- outcome
@dataclass(frozen=True)
class RunOutcome:
    """What happened to one run: ``status`` is ``success``, ``failed``,
    ``suppressed`` or ``skipped`` (unchanged since a successful run)."""

    run: RunSpec
    status: str
    error: str | None = None
    seconds: float = 0.0


@dataclass(frozen=True)
class StudyOutcome:
    """The result of :func:`run_study`.

    Attributes
    ----------
    study : Study
    outcomes : tuple of RunOutcome
    summary_csv, summary_json : Path
    report : Path or None
        The report notebook's HTML of the latest wave that has one.
    """

    study: Study
    outcomes: tuple[RunOutcome, ...]
    summary_csv: Path
    summary_json: Path
    report: Path | None

    @property
    def ok(self) -> bool:
        """True when no run failed."""
        return all(o.status != "failed" for o in self.outcomes)

    @property
    def table(self) -> pd.DataFrame:
        """One row per run.

        Returns
        -------
        pandas.DataFrame
            Columns ``run_id, wave, segment, notebook, status, error, seconds``.
        """
        return pd.DataFrame(
            [{"run_id": o.run.run_id, "wave": o.run.wave, "segment": o.run.segment,
              "notebook": o.run.notebook, "status": o.status, "error": o.error,
              "seconds": o.seconds} for o in self.outcomes],
            columns=["run_id", "wave", "segment", "notebook", "status", "error", "seconds"],
        )


# --------------------------------------------------------------------------- records
def _read_record(run: RunSpec) -> dict[str, Any] | None:
    try:
        return json.loads(run.record_path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def _is_current(run: RunSpec, digest: str) -> bool:
    rec = _read_record(run)
    if not rec or rec.get("input_hash") != digest:
        return False
    if rec.get("status") == "suppressed":
        return run.suppressed
    if rec.get("status") != "success":
        return False
    return all(run.output(s).is_file() for s in (".ipynb", ".html", ".results.json"))


def _base_record(run: RunSpec, digest: str) -> dict[str, Any]:
    return {
        "study": run.study,
        "run_id": run.run_id,
        "wave": run.wave,
        "segment": run.segment,
        "segment_column": run.segment_column,
        "segment_value": run.segment_value,
        "notebook": run.notebook,
        "kind": run.kind,
        "n": run.n,
        "seed": run.seed,
        "input_hash": digest,
        "data_sha256": _sha256(run.data_path),
        "inputs": {
            "notebook": {"path": str(run.notebook_path), "sha256": _sha256(run.notebook_path)},
            "data": {"path": str(run.data_path), "sha256": _sha256(run.data_path)},
            "instrument": {"path": str(run.instrument_path),
                           "sha256": _sha256(run.instrument_path)},
            "previous_results": (
                {"path": str(run.previous_results_path),
                 "sha256": _sha256(run.previous_results_path)}
                if run.previous_results_path else None),
        },
        "parameters": _json_safe(run.parameters),
        "csmlib_version": CSMLIB_VERSION,
        "kernel": KERNEL_NAME,
    }


def _json_safe(obj: Any) -> Any:
    """A JSON-compatible copy: NaN/inf become None, unknown types their text."""

    def clean(o: Any) -> Any:
        if isinstance(o, float):
            return o if o == o and o not in (float("inf"), float("-inf")) else None
        if isinstance(o, dict):
            return {str(k): clean(v) for k, v in o.items()}
        if isinstance(o, (list, tuple)):
            return [clean(v) for v in o]
        return o

    return clean(json.loads(json.dumps(obj, default=str)))


def _remove(paths: Iterable[Path]) -> None:
    for p in paths:
        try:
            p.unlink()
        except FileNotFoundError:
            pass


def _write_outcome(run: RunSpec, digest: str, res: dict[str, Any]) -> RunOutcome:
    """Write a worker's outputs (parent side), the run record last.

    The data and instrument hashes recorded are those of the bytes the
    notebook was given (``input_sha256``), not of the files as they are now:
    a file edited while the study runs is recorded as it was read."""
    rec = _base_record(run, digest)
    read = res.get("input_sha256") or {}
    for key, name in (("data_path", "data"), ("instrument_path", "instrument")):
        if key in read:
            rec["inputs"][name]["sha256"] = read[key]
    rec["data_sha256"] = rec["inputs"]["data"]["sha256"]
    if res.get("ipynb") is not None:
        write_bytes(run.output(".ipynb"), res["ipynb"])
    if res["status"] == "success":
        write_bytes(run.output(".html"), res["html"])
        write_bytes(run.output(".results.json"), res["results"])
    else:
        _remove([run.output(".html"), run.output(".results.json")])
    start, end = res.get("start"), res.get("end")
    seconds = _seconds(start, end)
    rec.update({
        "status": res["status"], "error": _masked(res.get("error")), "start": start, "end": end,
        "duration_s": seconds, "host": res.get("host"), "versions": res.get("versions"),
        "attempts": res.get("attempts", 1),
        "outputs": {
            s.lstrip("."): (str(run.output(s)) if run.output(s).is_file() else None)
            for s in (".ipynb", ".html", ".results.json")
        },
    })
    write_json(run.record_path, _json_safe(rec))
    return RunOutcome(run, res["status"], _masked(res.get("error")), seconds)


def _masked(error: str | None) -> str | None:
    """An error message as recorded: through the masking function, whatever
    produced it (defence in depth behind :class:`~csmlib.errors.CsmError`'s own)."""
    return None if error is None else mask_text(str(error))


def _seconds(start: str | None, end: str | None) -> float:
    try:
        return round((datetime.fromisoformat(end) - datetime.fromisoformat(start)).total_seconds(), 3)
    except (TypeError, ValueError):
        return 0.0


def _write_suppressed(run: RunSpec, digest: str, min_base: int) -> RunOutcome:
    _remove([run.output(s) for s in (".ipynb", ".html", ".results.json")])
    rec = _base_record(run, digest)
    msg = f"suppressed: base n={run.n} is below min_base={min_base}"
    now = _now()
    rec.update({"status": "suppressed", "error": msg, "start": now, "end": now,
                "duration_s": 0.0, "host": platform.node(), "versions": _versions(),
                "outputs": {}})
    write_json(run.record_path, _json_safe(rec))
    return RunOutcome(run, "suppressed", msg, 0.0)


# --------------------------------------------------------------------------- run
def run_study(
    study: Study | str | os.PathLike[str],
    *,
    executor: Any = None,
    jobs: int = 2,
    force: bool = False,
    only: str | Iterable[str] | None = None,
    progress: Callable[[RunOutcome], None] | None = None,
    on_plan: Callable[[list[RunSpec]], None] | None = None,
    fit_once: bool = True,
) -> StudyOutcome:
    """Run every notebook x wave x segment of a study.

    Parameters
    ----------
    study : Study or path-like
        A loaded study or the path of its YAML file.
    executor : executor, optional
        Anything with ``submit(fn, *args) -> future`` (futures with ``result()``
        and ``add_done_callback()``); default :func:`make_executor` ``(jobs)``,
        shut down at the end.  A given executor is left open.
    jobs : int
        Local worker processes when no executor is given.
    force : bool
        Run everything even when the outputs are up to date.
    only : str or iterable of str, optional
        Glob(s) on ``"<wave>/<segment>/<notebook>"``; other runs are left as
        they are (runs they depend on are not re-run).
    progress : callable, optional
        Called with each :class:`RunOutcome` as it finishes (skipped ones too).
    on_plan : callable, optional
        Called once with the selected runs before anything runs.
    fit_once : bool
        Fit once, report many: a wave x segment's notebooks share its fits
        (:mod:`csmlib.run.fitcache`) and, on the local executors
        (:class:`LocalPool`, :class:`InlineExecutor`), a worker runs its
        notebooks on one warm kernel (:mod:`csmlib.run.kernel`), which ends
        when the executor is shut down; other executors' workers (Dask,
        a ``ProcessPoolExecutor``) may outlive the study, and so would their
        kernels: they start a fresh kernel per notebook.  ``False``: every
        notebook on a fresh kernel, fitting its own models (slower; the
        recorded results are the same).

    Returns
    -------
    StudyOutcome
        Per-run outcomes, the summary files and the report's path.
    """
    if not isinstance(study, Study):
        study = load_study(study)
    with study_lock(study.run_dir):
        return _run_locked(study, executor, jobs, force, only, progress, on_plan, fit_once)


def _run_locked(study: Study, executor: Any, jobs: int, force: bool,
                only: str | Iterable[str] | None,
                progress: Callable[[RunOutcome], None] | None,
                on_plan: Callable[[list[RunSpec]], None] | None,
                fit_once: bool = True) -> StudyOutcome:
    """:func:`run_study` once the study's output folder is locked."""
    runs = plan_runs(study)
    if only is not None:
        globs = [only] if isinstance(only, str) else list(only)
        selected = [r for r in runs if any(fnmatch.fnmatchcase(r.run_id, g) for g in globs)]
        if not selected:
            raise StudyError(
                "--only matches no run of the study",
                file=str(study.path), values=globs,
                hint=f"run ids look like {runs[0].run_id!r}; use globs such as '*/all/*'"
                if runs else "check the study file",
            )
    else:
        selected = runs
    if on_plan is not None:
        on_plan(selected)
    own_executor = executor is None
    if own_executor:
        executor = make_executor(jobs)
    try:
        # a kernel lives as long as its worker: warm kernels on the local
        # executors, whose workers end with the study (or its caller's shutdown())
        warm = fit_once and isinstance(executor, (LocalPool, InlineExecutor))
        outcomes = _schedule(study, selected, executor, force, progress, fit_once, warm)
    except BaseException:
        if own_executor:   # interrupted or cannot write: do not wait for running notebooks
            stop = getattr(executor, "terminate", None)
            if stop is not None:
                stop()
            else:
                executor.shutdown(wait=False)
        raise
    if own_executor:
        executor.shutdown(wait=True)
    with _writing(study.run_dir):
        summary_csv, summary_json = collect_summary(study, runs)
    report = None   # the latest wave's report that exists
    for r in reversed([r for r in runs if r.kind == "report"]):
        if r.output(".html").is_file():
            report = r.output(".html")
            break
    return StudyOutcome(study, tuple(outcomes), summary_csv, summary_json, report)


#: a run whose worker process died is tried this often before it is failed
MAX_ATTEMPTS = 2

#: the lock file in ``<output>/<study>/`` held by the run of the study
LOCK_NAME = ".csm-run.lock"


@contextlib.contextmanager
def study_lock(folder: Path) -> Iterator[Path]:
    """Hold the study's output folder for one run at a time.

    An exclusive ``flock`` on ``folder / LOCK_NAME``, which also records the
    holder's process id, host and start time.  The operating system releases
    the lock when its holder ends, however it ends, so a lock left by a
    killed run is taken over at once.  Without ``fcntl`` (Windows) the folder
    is not locked.

    Yields
    ------
    pathlib.Path
        The lock file.

    Raises
    ------
    StudyError
        Another process holds the lock: names it (process id, host, start).
    """
    lock = folder / LOCK_NAME
    try:
        import fcntl
    except ImportError:   # pragma: no cover - Windows
        yield lock
        return
    with _writing(folder):
        folder.mkdir(parents=True, exist_ok=True)
        fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o666)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 512, 0).decode("utf-8", "replace").split()
            pid, host, since = (holder + ["?", "?", "?"])[:3]
            raise StudyError(
                f"another csm run of this study is running (process {pid} on {host}, "
                f"since {since}) and holds its output folder",
                file=str(lock),
                hint="wait until it has finished, or stop it; then run the same command again "
                     "(finished runs are kept)",
            ) from None
        with _writing(lock):
            os.ftruncate(fd, 0)
            os.pwrite(fd, f"{os.getpid()} {platform.node()} {_now()}\n".encode(), 0)
        yield lock
    finally:
        os.close(fd)   # releases the lock


def _schedule(study: Study, runs: list[RunSpec], executor: Any, force: bool,
              progress: Callable[[RunOutcome], None] | None,
              fit_cache: bool = True, warm_kernel: bool = False) -> list[RunOutcome]:
    ids = {r.run_id for r in runs}
    waiting = {r.run_id: r for r in runs}
    done: dict[str, RunOutcome] = {}
    finished: queue.Queue = queue.Queue()
    # run id -> (run, input hash, executor generation at submission)
    inflight: dict[str, tuple[RunSpec, str, int]] = {}
    attempts: dict[str, int] = {}

    def finish(outcome: RunOutcome) -> None:
        done[outcome.run.run_id] = outcome
        if progress is not None:
            progress(outcome)

    def submit(run: RunSpec, digest: str) -> None:
        attempts[run.run_id] = attempts.get(run.run_id, 0) + 1
        generation = getattr(executor, "generation", 0)
        inflight[run.run_id] = (run, digest, generation)
        try:
            fut = executor.submit(execute_run, _build_payload(run, fit_cache, warm_kernel))
        except KeyboardInterrupt:
            raise
        except Exception as exc:  # noqa: BLE001 - e.g. a broken pool
            fut = Future()
            fut.set_exception(exc)
        fut.add_done_callback(lambda f, rid=run.run_id: finished.put((rid, f)))

    def submit_ready() -> None:
        # skipped / suppressed runs finish at once and may make others ready
        while True:
            ready = [r for r in waiting.values()
                     if all(d not in ids or d in done for d in r.depends_on)]
            if not ready:
                return
            for run in ready:
                del waiting[run.run_id]
                digest = input_hash(run)
                if not force and _is_current(run, digest):
                    finish(RunOutcome(run, "skipped"))
                    continue
                if run.suppressed:
                    with _writing(run.record_path):
                        finish(_write_suppressed(run, digest, study.min_base))
                    continue
                with _writing(run.out_dir):
                    run.out_dir.mkdir(parents=True, exist_ok=True)
                    # the old record no longer describes what will be on disk
                    _remove([run.record_path])
                submit(run, digest)

    while waiting or inflight:
        submit_ready()
        if not inflight:
            if waiting:  # cannot happen with a valid plan; never spin
                raise StudyError("runs wait on each other in a cycle",
                                 values=sorted(waiting), hint="report this as a bug")
            break
        while True:   # a timeout keeps Ctrl-C prompt in the parent
            try:
                rid, fut = finished.get(timeout=0.5)
                break
            except queue.Empty:
                continue
        run, digest, generation = inflight.pop(rid)
        try:
            res = fut.result()
        except KeyboardInterrupt:
            raise
        except BaseException as exc:  # noqa: BLE001 - the worker itself died
            kind = type(exc).__name__
            if kind == "BrokenProcessPool" and hasattr(executor, "renew"):
                executor.renew(generation)
                if attempts[rid] < MAX_ATTEMPTS:
                    submit(run, digest)   # its worker died, maybe killed by another run
                    continue
            res = {"status": "failed", "error": _error_message(exc), "start": None, "end": None}
            if kind == "BrokenProcessPool":
                res["error"] = (f"the worker process died while running the notebook "
                                f"({attempts[rid]} attempt(s); out of memory or killed?)")
            elif kind == "KilledWorker":
                res["error"] = ("the Dask workers running the notebook died every time it "
                                "was tried (out of memory or killed?)")
        if res.get("status") == "failed" and _kernel_did_not_start(res.get("error") or "") \
                and attempts[rid] < MAX_ATTEMPTS:
            submit(run, digest)   # no cell ran: the kernel failed to start (a busy machine)
            continue
        res["attempts"] = attempts[rid]
        with _writing(run.out_dir):
            finish(_write_outcome(run, digest, res))
    return [done[r.run_id] for r in runs if r.run_id in done]


@contextlib.contextmanager
def _writing(path: Path) -> Iterator[None]:
    """Turn a failed write of the study's outputs (disk full, read-only
    folder, ...) into a :class:`StudyError` that says what to do."""
    try:
        yield
    except OSError as exc:
        reason = exc.strerror or str(exc) or type(exc).__name__
        if exc.errno in (errno.ENOTDIR, errno.EEXIST, errno.EISDIR):
            what = "move the file that stands where an output folder or file must go"
        elif exc.errno == errno.ENAMETOOLONG:
            what = "choose a shorter output folder"
        elif exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
            what = "make the output folder writable"
        else:
            what = "free disk space or make the output folder writable"
        raise StudyError(
            f"cannot write the study's outputs: {reason}",
            file=str(exc.filename or path),
            hint=f"{what} (or choose another with --output), then run the same command again: "
                 "finished runs are kept and not run again",
        ) from None


# --------------------------------------------------------------------------- summary
def _flatten(key: str, value: Any) -> Iterable[tuple[str, Any]]:
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _flatten(f"{key}.{k}", v)
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _flatten(f"{key}[{i}]", v)
    else:
        yield key, value


def _split_value(value: Any) -> tuple[Any, Any]:
    """``(number, text)`` of a recorded scalar: a number (not a boolean) goes
    to the first, anything else (text, true/false, null) to the second."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return value, None
    return None, value


def collect_summary(study: Study, runs: list[RunSpec] | None = None) -> tuple[Path, Path]:
    """Collect every run's record and recorded results into the study summary.

    Writes ``<output>/<study>/summary.csv`` (one row per run x recorded
    scalar; lists and dicts are flattened to ``key[i]`` / ``key.sub``; a
    number goes to ``value_number``, anything else -- text, true/false --
    to ``value_text``, so that a machine reads the numbers as numbers; text
    that a spreadsheet would run as a formula is neutralised, see
    :func:`csmlib.atomic.write_csv`),
    ``summary.json`` (every run's status, error and recorded values and
    tables), and the deliverables: ``scorecard.csv`` and ``scorecard.xlsx``
    (:mod:`csmlib.report.scorecard`) and each wave's ``report.pptx``
    (:mod:`csmlib.report.deck`).  Runs without a successful record
    contribute no rows to the CSV.

    Returns
    -------
    (Path, Path)
        ``summary.csv`` with columns ``study, wave, segment, notebook, key,
        value_number, value_text``, and ``summary.json``.
    """
    runs = plan_runs(study) if runs is None else runs
    rows: list[dict[str, Any]] = []
    entries: list[dict[str, Any]] = []
    for run in runs:
        rec = _read_record(run) or {}
        status = rec.get("status", "not run")
        entry = {"run_id": run.run_id, "wave": run.wave, "segment": run.segment,
                 "notebook": run.notebook, "status": status, "error": _masked(rec.get("error")),
                 "n": run.n, "input_hash": rec.get("input_hash"),
                 "values": {}, "frames": {}}
        if status == "success" and run.results_path.is_file():
            try:
                res = json.loads(run.results_path.read_text(encoding="utf-8"))
            except ValueError:
                res = {}
            entry["values"] = res.get("values", {})
            entry["frames"] = res.get("frames", {})
            for key, value in entry["values"].items():
                for k, v in _flatten(key, value):
                    number, text = _split_value(v)
                    rows.append({"study": study.name, "wave": run.wave, "segment": run.segment,
                                 "notebook": run.notebook, "key": k, "value_number": number,
                                 "value_text": text})
        entries.append(entry)
    root = study.run_dir
    frame = pd.DataFrame(rows, columns=["study", "wave", "segment", "notebook", "key",
                                        "value_number", "value_text"], dtype=object)
    frame["value_number"] = pd.to_numeric(frame["value_number"])
    csv_path = write_csv(root / "summary.csv", frame)
    json_path = write_json(root / "summary.json", {
        "study": study.name, "study_file": str(study.path), "generated": _now(),
        "csmlib_version": CSMLIB_VERSION, "runs": _json_safe(entries),
    })
    write_deliverables(study, entries)
    return csv_path, json_path


def write_deliverables(study: Study, entries: list[dict[str, Any]]) -> list[Path]:
    """Write the scorecard (CSV and workbook) and each wave's deck from the collected runs,
    in the study's language (headings, sentences, construct names).

    Parameters
    ----------
    study : Study
    entries : list of dict
        The collected runs, as in ``summary.json``.

    Returns
    -------
    list of Path
        ``scorecard.csv`` and ``scorecard.xlsx`` in the study's output
        folder, then ``<wave>/report.pptx`` of every wave whose report
        notebook succeeded.
    """
    from ..report.deck import DeckInputs, write_deck
    from ..report.scorecard import report_tables, scorecard, write_scorecard
    from ..report.tables import display_names

    waves = [w.name for w in study.waves]
    names = display_names(study.load_instrument(), study.language)
    card = scorecard(entries, waves=waves, min_base=study.min_base, multiplicity=study.multiplicity)
    params = study.parameters
    method = {"model": study.model if "\n" not in study.model and len(study.model) <= 40
              else "the study's lavaan model", "scheme": params.get("scheme", "path"),
              "n_boot": params.get("n_boot"), "seed": params.get("seed"),
              "multiplicity": study.multiplicity, "min_base": study.min_base}
    tables: dict[str, pd.DataFrame] = {}
    decks: list[Path] = []
    for wave in waves:
        found = {e["notebook"]: e for e in entries
                 if e["wave"] == wave and e["segment"] == "all" and e["status"] == "success"}
        if study.report not in found:
            continue
        tables = report_tables(found[study.report], found.get("index_drivers"))
        deck = DeckInputs(study=study.name, wave=wave, report=found[study.report],
                          drivers=found.get("index_drivers"), metrics=found.get("complaints_loyalty"),
                          base=found[study.report].get("n"), method=method,
                          index_construct=params.get("index_construct", "Satisfaction"),
                          target=params.get("target", "Loyalty"), language=study.language, names=names)
        decks.append(write_deck(study.run_dir / wave / "report.pptx", deck))
    # the workbook carries the latest wave's report tables
    return [*write_scorecard(study.run_dir, card, tables, language=study.language, names=names), *decks]
