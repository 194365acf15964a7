"""Notebook kernels for a study's runs: one warm kernel per worker process.

Starting a Jupyter kernel and importing the scientific stack into it
(pandas, scipy, matplotlib, semopy, csmlib) costs several seconds of CPU per
notebook run, more than most notebooks of the demo study spend computing
(``benchmarks/README.md``, "Study").  A worker process therefore keeps one
kernel and runs its notebooks on it one after the other
(:func:`execute_notebook` with ``warm=True``).  Before each notebook the
kernel is put back into the state of a fresh kernel
(:func:`csmlib.run.session.reset_session`): the user namespace, the output
history and the execution counter start anew, open figures are closed, matplotlib's settings and
the warning filters restored as they were in the fresh kernel (a warning
shown by one notebook is shown again by the next), results recording
detached, the working folder set to the run's own.  Imported modules stay
imported: that is the saving.

A kernel whose notebook did not end normally (an error, a time-out, a
kernel that died) is shut down; the next run starts a new one.  The kernel
ends with its worker process (:func:`shutdown_warm_kernel` at exit; an
IPython kernel also ends by itself when its parent process has gone).

``warm=False`` is the one-kernel-per-notebook method (papermill's own):
the same notebooks give the same recorded results either way (tested).
"""

from __future__ import annotations

import atexit
import multiprocessing.util
import os
import threading
from pathlib import Path
from typing import Any

__all__ = ["execute_notebook", "shutdown_warm_kernel", "warm_kernel_runs"]

#: the papermill engine that runs a notebook on the worker's warm kernel
ENGINE_NAME = "csm-warm-kernel"


class _Warm(threading.local):
    """This thread's warm kernel: kernel manager, client, what it was started
    with, and how many notebooks it has run (one kernel per thread: a
    kernel runs one notebook at a time)."""

    def __init__(self) -> None:
        self.km: Any = None
        self.kc: Any = None
        self.signature: Any = None
        self.runs = 0
        self.pid = os.getpid()   # a forked child inherits the object, not the kernel
        with _LOCK:
            _ALL.append(self)


_LOCK = threading.Lock()
_ALL: list[_Warm] = []   # every thread's, for the shut-down at exit
_WARM = _Warm()


def execute_notebook(nb_in: Path, nb_out: Path, parameters: dict[str, Any], *, kernel_name: str,
                     timeout: int, start_timeout: int, extra_arguments: list[str],
                     warm: bool) -> None:
    """Execute a notebook with papermill, on this process's warm kernel or a fresh one.

    Parameters
    ----------
    nb_in, nb_out : Path
        The notebook and where papermill writes the executed copy; the
        kernel works in ``nb_in``'s folder.
    parameters : dict
        Papermill parameters.
    kernel_name : str
        The Jupyter kernel.
    timeout, start_timeout : int
        Seconds per cell, and for the kernel to start.
    extra_arguments : list of str
        Arguments of the kernel process.
    warm : bool
        Run on the warm kernel (started if there is none), reset to a fresh
        kernel's state first; else on a new kernel shut down at the end.

    Raises
    ------
    Exception
        Whatever papermill raises for a failing notebook (the caller
        reports it); the warm kernel is shut down first.
    """
    import papermill as pm

    kwargs: dict[str, Any] = {}
    if warm:
        _register_engine()
        kwargs = {"engine_name": ENGINE_NAME, "session_folder": str(Path(nb_in).parent)}
    pm.execute_notebook(
        str(nb_in), str(nb_out), parameters=parameters, kernel_name=kernel_name, cwd=None,
        progress_bar=False, log_output=False, execution_timeout=timeout,
        start_timeout=start_timeout, extra_arguments=list(extra_arguments),
        # nobody watches the worker's copy: written once at the end (also
        # when a cell fails or the kernel dies), not after every cell
        request_save_on_cell_execute=False, **kwargs)


def warm_kernel_runs() -> int:
    """Notebooks run on this thread's current warm kernel (0: none running)."""
    return int(_WARM.runs)


def shutdown_warm_kernel(warm: _Warm | None = None) -> None:
    """Shut this thread's warm kernel (or ``warm``) down; nothing if there is none."""
    warm = _WARM if warm is None else warm
    km, kc = warm.km, warm.kc
    warm.km, warm.kc, warm.signature, warm.runs = None, None, None, 0
    if warm.pid != os.getpid():   # the parent's kernel, seen from a forked child
        return
    if kc is not None:
        try:
            kc.stop_channels()
        except Exception:  # noqa: BLE001 - a dead kernel's channels may complain
            pass
    if km is not None:
        try:
            from jupyter_core.utils import run_sync

            if run_sync(km.is_alive)():
                run_sync(km.shutdown_kernel)(now=True)
            run_sync(km.cleanup_resources)()
        except Exception:  # noqa: BLE001 - already gone
            pass


def _shutdown_all() -> None:
    with _LOCK:
        every = list(_ALL)
    for warm in every:
        shutdown_warm_kernel(warm)


atexit.register(_shutdown_all)
# a worker process of a process pool ends without running atexit handlers,
# but runs multiprocessing's finalizers
_FINALIZER = multiprocessing.util.Finalize(None, _shutdown_all, exitpriority=10)

_REGISTERED: list[bool] = []


def _register_engine() -> None:
    """Register the warm-kernel engine with papermill (once per process)."""
    if _REGISTERED:
        return
    from papermill.clientwrap import PapermillNotebookClient
    from papermill.engines import NBClientEngine, papermill_engines
    from papermill.log import logger
    from papermill.utils import merge_kwargs, remove_args

    class WarmClient(PapermillNotebookClient):
        """Papermill's client, resetting the kernel's session before the first cell."""

        def __init__(self, nb_man: Any, *, session_code: str, **kw: Any) -> None:
            super().__init__(nb_man, **kw)
            self._session_code = session_code

        def papermill_execute_cells(self) -> None:
            msg_id = self.kc.execute(self._session_code, silent=True, store_history=False,
                                     allow_stdin=False)
            reply = self.wait_for_reply(msg_id)
            content = (reply or {}).get("content", {})
            if content.get("status") != "ok":
                raise RuntimeError("the warm kernel could not be reset for the next notebook: "
                                   f"{content.get('ename', 'no reply')}: {content.get('evalue', '')}")
            super().papermill_execute_cells()

    class WarmKernelEngine(NBClientEngine):
        """Papermill's nbclient engine on the process's warm kernel."""

        @classmethod
        def execute_managed_notebook(cls, nb_man: Any, kernel_name: str, log_output: bool = False,
                                     stdout_file: Any = None, stderr_file: Any = None,
                                     start_timeout: int = 60, execution_timeout: Any = None,
                                     **kwargs: Any) -> Any:
            folder = kwargs.pop("session_folder")
            kwargs = remove_args(["input_path", "timeout", "startup_timeout"], **kwargs)
            final = merge_kwargs(kwargs, timeout=execution_timeout, startup_timeout=start_timeout,
                                 kernel_name=kernel_name, log=logger, log_output=log_output,
                                 stdout_file=stdout_file, stderr_file=stderr_file)
            _check_warm(kernel_name, final.get("extra_arguments"))
            client = WarmClient(nb_man, km=_WARM.km, session_code=_session_code(folder),
                                **final)
            client.kc = _WARM.kc
            ended = False
            try:
                nb = client.execute(cleanup_kc=False)
                # papermill records a failing cell and raises only afterwards
                ended = not nb_man.nb.metadata.get("papermill", {}).get("exception")
                return nb
            finally:
                _WARM.km, _WARM.kc, _WARM.pid = client.km, client.kc, os.getpid()
                if ended:
                    _WARM.runs += 1
                else:   # an error, a time-out, a dead kernel: its state is unknown
                    shutdown_warm_kernel()

    papermill_engines.register(ENGINE_NAME, WarmKernelEngine)
    _REGISTERED.append(True)


def _check_warm(kernel_name: str, extra_arguments: Any) -> None:
    """Keep the warm kernel if it is alive and was started the same way, else shut it down."""
    signature = (kernel_name, tuple(extra_arguments or ()))
    if _WARM.pid != os.getpid():   # a forked child: the kernel is its parent's
        shutdown_warm_kernel()
    km = _WARM.km
    if km is None:
        _WARM.signature = signature
        return
    from jupyter_core.utils import run_sync

    try:
        alive = bool(run_sync(km.is_alive)())
    except Exception:  # noqa: BLE001
        alive = False
    if not alive or _WARM.signature != signature:
        shutdown_warm_kernel()
        _WARM.signature = signature


def _session_code(folder: str) -> str:
    """The code run (silently) in the warm kernel before a notebook."""
    return (f"__import__('os').chdir({folder!r})\n"   # an import looks in the working folder
            "__import__('csmlib.run.session', fromlist=['reset_session'])"
            f".reset_session({folder!r})\n")
