"""Put a warm notebook kernel back into the state of a fresh one.

Run inside the kernel by :mod:`csmlib.run.kernel` before each notebook
(after IPython's ``reset(new_session=True)``, which clears the user
namespace and the output history and sets the execution counter to 1).  The first call, in the fresh kernel, takes a snapshot of
what notebooks may change and later calls restore it: kept light, since it
is imported into every warm kernel.
"""

from __future__ import annotations

import copy
import os
import sys
import warnings
from typing import Any

__all__ = ["reset_session"]

_SNAPSHOT: dict[str, Any] = {}


def reset_session(folder: str) -> None:
    """Reset the kernel's session for the next notebook.

    Parameters
    ----------
    folder : str
        The run's working folder (the kernel changes into it).

    Notes
    -----
    Restores the warning filters (and with them forgets which warnings were
    shown: each module's registry is invalidated when the filters change),
    closes every figure and restores matplotlib's settings, detaches results
    recording (:func:`csmlib.report.record.set_results_path`) and changes
    into ``folder``.  Imported modules stay imported.
    """
    import matplotlib
    import matplotlib.pyplot as plt

    if not _SNAPSHOT:   # the fresh kernel, before its first notebook
        _SNAPSHOT["filters"] = list(warnings.filters)
        _SNAPSHOT["rc"] = copy.deepcopy({k: dict.__getitem__(matplotlib.rcParams, k)
                                         for k in dict.keys(matplotlib.rcParams)})
    plt.close("all")
    dict.update(matplotlib.rcParams, copy.deepcopy(_SNAPSHOT["rc"]))
    warnings.simplefilter("default")   # bumps the filters' version: registries are stale
    warnings.filters[:] = _SNAPSHOT["filters"]
    record = sys.modules.get("csmlib.report.record")
    if record is not None:
        record.set_results_path(None)
    os.chdir(folder)
