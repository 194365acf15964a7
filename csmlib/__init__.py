"""csmlib: customer-satisfaction measurement, exactly.

Survey instruments and data, ACSI / ECSI model specifications,
covariance-based SEM and PLS path modelling, reliability and validity, the
0-100 satisfaction index, importance-performance analysis, bootstrap
intervals, and wave-to-wave tracking.

>>> import csmlib as csm
>>> inst = csm.Instrument.from_yaml("data/demo/instrument.yml")   # doctest: +SKIP
>>> survey = csm.read_survey("data/demo/wave1.csv", inst)          # doctest: +SKIP
>>> pls = csm.fit_pls(csm.models.acsi(), survey)                   # doctest: +SKIP
>>> csm.satisfaction_index(pls, construct="Satisfaction")          # doctest: +SKIP

Public names are imported lazily, so ``import csmlib`` stays fast and a
notebook that only reads surveys never imports the estimators.
"""

from __future__ import annotations

import importlib
from typing import Any

from .errors import (  # noqa: F401  (re-exported)
    CsmError,
    CsmWarning,
    DataError,
    DataWarning,
    EstimationError,
    EstimationWarning,
    SpecError,
    StudyError,
)
from .spec import Construct, ModelSpec, Relation  # noqa: F401

__version__ = "0.1.0"

# public name -> module that defines it
_LAZY: dict[str, str] = {
    "Instrument": "instrument",
    "Item": "instrument",
    "Survey": "survey",
    "read_survey": "survey",
    "Results": "results",
    "fit_cbsem": "cbsem",
    "fit_pls": "pls",
    "bootstrap": "bootstrapping",
    "BootstrapResults": "bootstrapping",
    "satisfaction_index": "index",
    "ipma": "index",
    "reliability": "measurement",
    "reliability_assessment": "measurement",
    "htmt": "measurement",
    "fornell_larcker": "measurement",
    "cross_loadings": "measurement",
    "item_descriptives": "measurement",
    "measurement_invariance": "invariance",
    "constructs": "builders",
    "reflective": "builders",
    "composite": "builders",
    "single_item": "builders",
    "multi_items": "builders",
    "relationships": "builders",
    "paths": "builders",
    "specify": "builders",
    "satisfaction_indices": "index",
    "noninvariant_items": "invariance",
    "micom": "pls_groups",
    "permutation_test": "pls_groups",
}
# submodules reachable as attributes: csm.models.acsi(), csm.datasets.load(...)
_SUBMODULES = {
    "models", "datasets", "simulate", "plots", "report", "metrics", "servqual",
    "tracking", "study", "batch", "measurement", "index", "invariance", "quality", "notebook", "pls_groups", "privacy",
    "record",
}

__all__ = sorted(
    ["CsmError", "CsmWarning", "DataError", "DataWarning", "EstimationError",
     "EstimationWarning", "SpecError", "StudyError", "ModelSpec", "Construct", "Relation",
     *_LAZY, *_SUBMODULES]
)


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        module = importlib.import_module(f".{_LAZY[name]}", __name__)
        value = getattr(module, name)
        globals()[name] = value
        return value
    if name in _SUBMODULES:
        return importlib.import_module(f".{name}", __name__)
    raise AttributeError(f"module 'csmlib' has no attribute {name!r}")


def __dir__() -> list[str]:
    return __all__
