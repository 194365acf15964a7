"""Put a warm notebook kernel back into the state of a fresh one.

Run inside the kernel by :mod:`csmlib.run.kernel` before each notebook.
The first call, in the fresh kernel, takes a snapshot of what notebooks may
change and later calls restore it.  Kept light: it is imported into every
warm kernel.
"""

from __future__ import annotations

import contextlib
import copy
import gc
import os
import sys
import warnings
from collections.abc import Iterator
from typing import Any

__all__ = ["reset_session"]

_SNAPSHOT: dict[str, Any] = {}


def reset_session(folder: str) -> None:
    """Reset the kernel's session for the next notebook.

    Parameters
    ----------
    folder : str
        The run's working folder (the kernel changes into it first: the last
        run's folder is gone, and an import looks in the working folder).

    Notes
    -----
    IPython's ``reset(new_session=True)`` clears the user namespace and the
    output history and sets the execution counter back to 1 (without its
    full garbage collection, a third of a second on a loaded kernel: a fresh
    kernel does not collect either, and the collector runs by itself).
    Then: the warning filters are restored (and with them which warnings were
    shown is forgotten: each module's registry is invalidated when the
    filters change), every figure closed and matplotlib's settings restored,
    results recording detached (:func:`csmlib.report.record.set_results_path`).
    Imported modules stay imported.
    """
    os.chdir(folder)
    import matplotlib
    import matplotlib.pyplot as plt

    if not _SNAPSHOT:   # the fresh kernel, before its first notebook
        _SNAPSHOT["filters"] = list(warnings.filters)
        _SNAPSHOT["rc"] = copy.deepcopy({k: dict.__getitem__(matplotlib.rcParams, k)
                                         for k in dict.keys(matplotlib.rcParams)})
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover - always there in a kernel
        get_ipython = None   # type: ignore[assignment]
    shell = get_ipython() if get_ipython is not None else None
    if shell is not None:
        with _no_full_collection():
            shell.reset(new_session=True)
    plt.close("all")
    dict.update(matplotlib.rcParams, copy.deepcopy(_SNAPSHOT["rc"]))
    warnings.simplefilter("default")   # bumps the filters' version: registries are stale
    warnings.filters[:] = _SNAPSHOT["filters"]
    record = sys.modules.get("csmlib.report.record")
    if record is not None:
        record.set_results_path(None)


@contextlib.contextmanager
def _no_full_collection() -> Iterator[None]:
    """``gc.collect()`` does nothing meanwhile (IPython's reset calls it)."""
    collect = gc.collect
    gc.collect = lambda *args, **kwargs: 0
    try:
        yield
    finally:
        gc.collect = collect
