"""Layer 3, estimators: the input every estimator checks (:mod:`.prepare`),
covariance-based SEM (:mod:`.partable`, :mod:`.cbsem`, :mod:`.ram`,
:mod:`.fitindices`, :mod:`.robust`, :mod:`.diagnostics`), PLS path modelling (:mod:`.pls`, :mod:`.pls_core`; interaction terms
:mod:`.pls_interaction`, higher-order constructs :mod:`.pls_hoc`), the
results objects (:mod:`.results`, :mod:`.effects`) and the bootstrap
(:mod:`.bootstrapping`, :mod:`.bootstrap_stages`).  Imports the data and spec layers, never the layers
above."""
