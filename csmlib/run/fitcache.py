"""Fit once, report many: the fits a wave x segment's notebooks share.

Several notebooks of a study fit the same models to the same wave x segment
(the PLS model with its bootstrap in ``measurement``, ``structural`` and
``index_drivers``, the CB-SEM model in ``measurement`` and ``structural``).
A :class:`FitCache` (``run.fits``, made by :func:`csmlib.run.notebook.open_run`)
estimates each once:

* **Key.**  Every fit is keyed by SHA-256 over the run's inputs -- the bytes
  of the data file and the instrument, the data's encoding and sheet, the
  model, the segment column and segment, the source code of the layers that
  read and estimate (``csmlib/data``, ``spec``, ``estimate`` and the bottom
  modules), the numpy, scipy and pandas versions -- and the estimator's options; a bootstrap adds its own
  options (``n_boot``, ``seed``, ``statistics``, ...) to its fit's key.
  Change any of them and the key changes: a stale entry is never found.
* **Fits** (PLS, CB-SEM) are kept in memory, in the process that made them
  (the notebook's kernel: with ``csm run``'s warm kernels, see
  :mod:`csmlib.run.kernel`, every later notebook of the worker reads them);
  a fit takes a fraction of a second and holds respondent-level data.
* **Bootstraps** are also stored on disk, in the wave x segment's
  ``fits/`` folder (``csm run`` passes it as the ``fit_cache`` parameter),
  as ``bootstrap-<key>.npz``: the statistics' names and full-sample values,
  the draws (``n_boot`` x statistics), the failed and sign-flipped flags, the
  seed and options -- aggregate numbers only, nothing about a respondent,
  and a file name that is a hash.  Written atomically
  (:func:`csmlib.atomic.write_bytes`), read with ``allow_pickle=False``,
  and trusted only when its format, key, shapes, types and a SHA-256 of its
  arrays all check out: a corrupt, truncated, foreign or stale file is
  computed again and replaced.  A BCa bootstrap (its jackknife is one row
  per respondent), a bootstrap without a seed or of a ``statistics``
  function is not stored.
* **Concurrency.**  Two notebooks of one wave x segment running at once
  (two workers) take an exclusive lock (``flock``) on the entry's lock file
  before they look: the first computes and writes, the second waits and
  reads.  Without ``fcntl`` (Windows) both may compute; the seeded results
  are identical and the write is an atomic rename either way.

Results read from the cache are bit-identical to fitting in the notebook
(tested: estimates, bootstrap draws, recorded results).  A folder that
cannot be written (or is not reachable from a remote worker) only means
that the notebook computes its own bootstrap.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import io
import json
import os
import weakref
from collections import OrderedDict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from .. import __version__ as CSMLIB_VERSION
from ..atomic import write_bytes

__all__ = ["FitCache", "CACHE_FORMAT", "run_inputs"]

#: version of the bootstrap file layout; a file of another version is recomputed
CACHE_FORMAT = 1

#: fits kept in memory per process (the last ones used)
MEMO_SIZE = 16

_ARRAYS = ("theta", "draws", "failed", "sign_flipped")
_MEMO: OrderedDict[str, Any] = OrderedDict()
_KEY_OF: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def run_inputs(data_path: str | os.PathLike[str], instrument_path: str | os.PathLike[str], *,
               model: str, segment: str, segment_column: str, data_encoding: str = "",
               data_sheet: str | int = "") -> dict[str, Any]:
    """What a wave x segment's fits depend on, as plain data (the key's base).

    Returns
    -------
    dict
        ``csmlib`` (version), ``code`` (SHA-256 of the reading and estimating
        source), ``libraries`` (numpy, scipy, pandas versions), ``data`` and
        ``instrument`` (SHA-256 of the files' bytes), ``encoding``, ``sheet``,
        ``model``, ``segment_column``, ``segment``.
    """
    import pandas
    import scipy

    return {
        "csmlib": CSMLIB_VERSION, "code": _code_digest(),
        "libraries": [np.__version__, scipy.__version__, pandas.__version__],
        "data": _file_digest(data_path), "instrument": _file_digest(instrument_path),
        "encoding": data_encoding or "", "sheet": data_sheet if data_sheet != "" else "",
        "model": model or "", "segment_column": segment_column or "", "segment": segment,
    }


class FitCache:
    """The fits of one wave x segment, estimated once and shared.

    Parameters
    ----------
    folder : path-like or None
        Where bootstraps are stored (``None``: in memory only).
    inputs : dict or None
        :func:`run_inputs` of the run (``None``: nothing is shared; every
        request is computed).

    Attributes
    ----------
    log : list of (str, str)
        What each request did: ``("pls" | "cbsem", "fitted" | "memory")``,
        ``("bootstrap", "computed" | "memory" | "read" | "recomputed: <why>"
        | "not cached: <why>")``.
    """

    def __init__(self, folder: str | os.PathLike[str] | None,
                 inputs: dict[str, Any] | None) -> None:
        self.folder = Path(folder) if folder else None
        self.inputs = None if inputs is None else dict(inputs)
        self.log: list[tuple[str, str]] = []

    # ------------------------------------------------------------------ fits
    def fit_pls(self, spec: Any, data: Any, **options: Any) -> Any:
        """:func:`csmlib.fit_pls` ``(spec, data, **options)``, once per key.

        ``data`` must be the run's survey (the key names its inputs, not
        its content).

        Returns
        -------
        PlsResults
        """
        from ..estimate.pls import fit_pls

        return self._fit("pls", fit_pls, spec, data, options)

    def fit_cbsem(self, spec: Any, data: Any, **options: Any) -> Any:
        """:func:`csmlib.fit_cbsem` ``(spec, data, **options)``, once per key.

        Returns
        -------
        CbsemResults
        """
        from ..estimate.cbsem import fit_cbsem

        return self._fit("cbsem", fit_cbsem, spec, data, options)

    def _fit(self, method: str, fit: Any, spec: Any, data: Any, options: dict[str, Any]) -> Any:
        key = None if self.inputs is None else _digest(
            {"inputs": self.inputs, "method": method, "spec": _spec_text(spec), "options": options})
        if key is None:   # an option that is not plain data: not shared
            self.log.append((method, "fitted"))
            return fit(spec, data, **options)
        if key in _MEMO:
            _MEMO.move_to_end(key)
            self.log.append((method, "memory"))
            return _MEMO[key]
        results = fit(spec, data, **options)
        _remember(key, results)
        self.log.append((method, "fitted"))
        return results

    # ------------------------------------------------------------- bootstrap
    def bootstrap(self, results: Any, n_boot: int = 5000, seed: int | None = None,
                  ci: str = "percentile", level: float = 0.95, **options: Any) -> Any:
        """:func:`csmlib.bootstrap` of a fit made by this cache, once per key.

        Parameters
        ----------
        results : Results
            A fit returned by :meth:`fit_pls` or :meth:`fit_cbsem` (any other
            fit is bootstrapped without caching).
        n_boot, seed, ci, level, **options
            As :func:`csmlib.bootstrap`.

        Returns
        -------
        BootstrapResults
        """
        from ..estimate.bootstrapping import bootstrap

        def compute() -> Any:
            return bootstrap(results, n_boot, seed, ci, level, **options)

        why = _not_cacheable(results, seed, ci, options)
        key = None if why else _digest({"fit": _KEY_OF.get(results), "n_boot": n_boot, "seed": seed,
                                        "ci": ci, "level": level, "options": _plain(options)})
        if key is None:
            self.log.append(("bootstrap", f"not cached: {why or 'an option is not plain data'}"))
            return compute()
        if key in _MEMO:
            _MEMO.move_to_end(key)
            self.log.append(("bootstrap", "memory"))
            return _MEMO[key]
        path = self._path(key)
        if path is None:
            boot = compute()
            self.log.append(("bootstrap", "computed"))
        else:
            with _locked(path.with_suffix(".lock")):
                boot, why = _read_bootstrap(path, key, results)
                if boot is not None:
                    self.log.append(("bootstrap", "read"))
                else:
                    boot = compute()
                    _write_bootstrap(path, key, boot)
                    self.log.append(("bootstrap", "computed" if why == "absent"
                                     else f"recomputed: {why}"))
        _remember(key, boot)
        return boot

    def _path(self, key: str) -> Path | None:
        """The entry's file, or None when the folder cannot be made (a remote
        worker without the study's folder, a read-only folder)."""
        if self.folder is None:
            return None
        try:   # its parent, the run's output folder, must exist already
            self.folder.mkdir(exist_ok=True)
        except OSError:
            return None
        return self.folder / f"bootstrap-{key}.npz"


# ---------------------------------------------------------------------------
def _remember(key: str, value: Any) -> None:
    _MEMO[key] = value
    _MEMO.move_to_end(key)
    if getattr(value, "method", None) in ("pls", "cbsem"):
        _KEY_OF[value] = key
    while len(_MEMO) > MEMO_SIZE:
        _MEMO.popitem(last=False)


def _not_cacheable(results: Any, seed: Any, ci: str, options: dict[str, Any]) -> str:
    if _KEY_OF.get(results) is None:
        return "the fit was not made by the run's fit cache"
    if seed is None:
        return "no seed"
    if ci != "percentile":
        return "a BCa jackknife is one row per respondent"
    if callable(options.get("statistics")) or options.get("scale_limits") is not None:
        return "a statistics function or scale limits"
    return ""


def _plain(obj: Any) -> Any:
    """Options as JSON data (tuples as lists)."""
    if isinstance(obj, dict):
        return {str(k): _plain(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_plain(v) for v in obj]
    return obj


def _digest(doc: Any) -> str | None:
    """SHA-256 of ``doc`` as canonical JSON, or None if it is not plain data."""
    try:
        text = json.dumps(_plain(doc), sort_keys=True, ensure_ascii=False, allow_nan=True)
    except (TypeError, ValueError):
        return None
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _spec_text(spec: Any) -> str:
    """The model as estimated (a ModelSpec is a frozen dataclass of tuples:
    its repr names every construct, item, mode and path, in order)."""
    return repr(spec)


def _file_digest(path: str | os.PathLike[str]) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


@functools.lru_cache(maxsize=1)
def _code_digest() -> str:
    """SHA-256 of the source that reads data and estimates models."""
    root = Path(__file__).resolve().parent.parent
    files = sorted(root.glob("*.py")) + sorted(
        p for sub in ("data", "spec", "estimate") for p in (root / sub).rglob("*.py"))
    h = hashlib.sha256()
    for p in files:
        h.update(p.relative_to(root).as_posix().encode())
        h.update(p.read_bytes())
    return h.hexdigest()


def _arrays_digest(arrays: dict[str, np.ndarray]) -> str:
    h = hashlib.sha256()
    for name in _ARRAYS:
        a = np.ascontiguousarray(arrays[name])
        h.update(f"{name}:{a.dtype.str}:{a.shape}".encode())
        h.update(a.tobytes())
    return h.hexdigest()


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    """An exclusive lock on ``path`` (waits for the holder); none without
    ``fcntl`` or when the lock file cannot be opened."""
    try:
        import fcntl
    except ImportError:   # pragma: no cover - Windows
        yield
        return
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o666)
    except OSError:
        yield
        return
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)   # releases the lock


def _write_bootstrap(path: Path, key: str, boot: Any) -> None:
    """Store a bootstrap's aggregate numbers (never its fit or jackknife)."""
    arrays = {"theta": np.asarray(boot.theta, dtype=float), "draws": np.asarray(boot.draws, dtype=float),
              "failed": np.asarray(boot.failed, dtype=bool),
              "sign_flipped": np.asarray(boot.sign_flipped, dtype=bool)}
    meta = {"format": CACHE_FORMAT, "key": key, "csmlib": CSMLIB_VERSION,
            "keys": boot.keys.astype(str).to_numpy().tolist(), "key_columns": list(boot.keys.columns),
            "seed": int(boot.seed), "ci": boot.ci, "level": float(boot.level),
            "elapsed": float(boot.elapsed), "engine": boot.engine, "n_jobs": int(boot.n_jobs),
            "sha256": _arrays_digest(arrays)}
    buf = io.BytesIO()
    np.savez(buf, meta=np.array(json.dumps(meta)), **arrays)
    try:
        write_bytes(path, buf.getvalue())
    except OSError:   # a full or read-only disk: the notebook has its bootstrap anyway
        pass


def _read_bootstrap(path: Path, key: str, results: Any) -> tuple[Any, str]:
    """The stored bootstrap of ``key`` on ``results``, or ``(None, why not)``."""
    from ..estimate.bootstrapping import BootstrapResults, keys_frame, warn_failed

    if not path.is_file():
        return None, "absent"
    try:
        with np.load(path, allow_pickle=False) as z:
            meta = json.loads(str(z["meta"][()]))
            arrays = {name: z[name] for name in _ARRAYS}
    except Exception:  # noqa: BLE001 - any unreadable file is recomputed
        return None, "unreadable"
    if not isinstance(meta, dict) or meta.get("format") != CACHE_FORMAT:
        return None, "another format"
    if meta.get("key") != key:
        return None, "another key"
    theta, draws = arrays["theta"], arrays["draws"]
    keys = meta.get("keys")
    ok = (theta.dtype == np.float64 and draws.dtype == np.float64 and theta.ndim == 1
          and draws.ndim == 2 and draws.shape[1] == theta.shape[0]
          and isinstance(keys, list) and len(keys) == theta.shape[0]
          and meta.get("key_columns") == ["group", "lhs", "op", "rhs"]
          and all(arrays[f].dtype == np.bool_ and arrays[f].shape == (draws.shape[0],)
                  for f in ("failed", "sign_flipped")))
    if not ok:
        return None, "malformed"
    if _arrays_digest(arrays) != meta.get("sha256"):
        return None, "checksum"
    failed = arrays["failed"]
    warn_failed(failed, stacklevel=5)   # as the bootstrap itself warns
    boot = BootstrapResults(
        results=results, keys=keys_frame([tuple(row) for row in keys]), theta=theta, draws=draws,
        failed=failed, sign_flipped=arrays["sign_flipped"], jackknife=None, seed=int(meta["seed"]),
        ci=str(meta["ci"]), level=float(meta["level"]), elapsed=float(meta["elapsed"]),
        engine=str(meta["engine"]), n_jobs=int(meta["n_jobs"]))
    return boot, ""
