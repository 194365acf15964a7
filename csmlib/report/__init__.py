"""Layer 5, presentation: report tables and plain-language findings
(:mod:`.tables`, re-exported here as ``csm.report``), figures (:mod:`.plots`),
recorded results (:mod:`.record`) and the executed-notebook-to-HTML export
(:mod:`.htmlexport`).  Imports the layers below, never run."""
from .tables import *  # noqa: F401,F403
from .tables import __all__  # noqa: F401
