"""Layer 4, analyses of fitted models and survey answers: reliability and
validity (:mod:`.measurement`), the 0-100 index and IPMA (:mod:`.index`),
SERVQUAL gaps, headline metrics (NPS, top-box, complaint rates), data quality,
tracking across waves and segments, measurement invariance, PLS group
comparisons (:mod:`.pls_groups`, multi-group analysis :mod:`.mga`), simple
slopes of moderated paths (:mod:`.moderation`) and simulation from known population models.  Imports the layers
below, never report or run."""
