"""Layer 6, orchestration: the study file (:mod:`.study`), what a report
notebook does first (:mod:`.notebook`), the batch runner on a process pool or
a Dask cluster (:mod:`.batch`) with its warm kernels (:mod:`.kernel`, reset by
:mod:`.session`) and a wave x segment's shared fits (:mod:`.fitcache`), new
study folders (:mod:`.scaffold`, ``csm init``)
and the ``csm`` command (:mod:`.cli`).  The top
layer: it may import every other, and nothing imports it."""
