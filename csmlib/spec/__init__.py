"""Layer 2, model specifications: :class:`ModelSpec` (:mod:`.modelspec`),
the lavaan syntax parser (:mod:`.lavaan`), seminr-style builders
(:mod:`.builders`) and the model library (:mod:`.models`).  Imports only
:mod:`csmlib.errors`."""
from .modelspec import MODES, Constraint, Construct, Defined, ModelSpec, Relation  # noqa: F401

__all__ = ["Construct", "Relation", "Constraint", "Defined", "ModelSpec", "MODES"]
