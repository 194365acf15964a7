"""Layer 3, estimators: the input every estimator checks (:mod:`.prepare`),
covariance-based SEM (:mod:`.partable`, :mod:`.cbsem`, :mod:`.ram`,
:mod:`.fitindices`), PLS path modelling (:mod:`.pls`, :mod:`.pls_core`), the
results objects (:mod:`.results`, :mod:`.effects`) and the bootstrap
(:mod:`.bootstrapping`).  Imports the data and spec layers, never the layers
above."""
