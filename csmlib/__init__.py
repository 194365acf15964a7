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
from .spec.modelspec import Construct, ModelSpec, Relation  # noqa: F401

__version__ = "0.1.0"

# public name -> module that defines it
_LAZY: dict[str, str] = {
    "Instrument": "data.instrument",
    "Item": "data.instrument",
    "Survey": "data.survey",
    "read_survey": "data.survey",
    "Results": "estimate.results",
    "PlsResults": "estimate.results",
    "CbsemResults": "estimate.results",
    "fit_cbsem": "estimate.cbsem",
    "fit_pls": "estimate.pls",
    "polychoric": "estimate.polychoric",
    "Polychoric": "estimate.polychoric",
    "modification_indices": "estimate.diagnostics",
    "residuals": "estimate.diagnostics",
    "bootstrap": "estimate.bootstrapping",
    "BootstrapResults": "estimate.bootstrapping",
    "satisfaction_index": "analysis.index",
    "ipma": "analysis.index",
    "reliability": "analysis.measurement",
    "reliability_assessment": "analysis.measurement",
    "htmt": "analysis.measurement",
    "fornell_larcker": "analysis.measurement",
    "cross_loadings": "analysis.measurement",
    "item_descriptives": "analysis.measurement",
    "measurement_invariance": "analysis.invariance",
    "constructs": "spec.builders",
    "reflective": "spec.builders",
    "composite": "spec.builders",
    "single_item": "spec.builders",
    "multi_items": "spec.builders",
    "relationships": "spec.builders",
    "paths": "spec.builders",
    "specify": "spec.builders",
    "satisfaction_indices": "analysis.index",
    "noninvariant_items": "analysis.invariance",
    "micom": "analysis.pls_groups",
    "permutation_test": "analysis.pls_groups",
    "mediation": "analysis.mediation",
    "vif": "analysis.collinearity",
    "f_squared": "analysis.collinearity",
    "predict_pls": "analysis.predict",
    "cvpat": "analysis.predict",
    "mga": "analysis.mga",
    "simple_slopes": "analysis.moderation",
    "respondent_index": "analysis.index",
    "plan_tracking": "analysis.planning",
    "detectable_change": "analysis.planning",
    "index_sd": "analysis.planning",
    "plan_sample": "analysis.planning",
    "min_n_inverse_sqrt": "analysis.planning",
    "compare_models": "analysis.compare",
    "information_criteria": "analysis.compare",
    "adjust_pvalues": "analysis.multiplicity",
}
# modules reachable as attributes (csm.models.acsi(), csm.datasets.load(...)) -> where they live
_SUBMODULES = {
    "models": "spec.models", "datasets": "data.datasets", "simulate": "analysis.simulate",
    "plots": "report.plots", "report": "report", "metrics": "analysis.metrics",
    "servqual": "analysis.servqual", "tracking": "analysis.tracking", "study": "run.study",
    "batch": "run.batch", "measurement": "analysis.measurement", "index": "analysis.index",
    "invariance": "analysis.invariance", "quality": "analysis.quality",
    "notebook": "run.notebook", "pls_groups": "analysis.pls_groups",
    "privacy": "privacy", "record": "report.record", "feedback": "analysis.feedback",
    "complaints": "analysis.complaints",
    "planning": "analysis.planning",
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
        return importlib.import_module(f".{_SUBMODULES[name]}", __name__)
    raise AttributeError(f"module 'csmlib' has no attribute {name!r}")


def __dir__() -> list[str]:
    return __all__
