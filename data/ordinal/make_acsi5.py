"""Write acsi5.csv and acsi5_missing.csv: 5-point answers discretised from a known ACSI model
(and acsi5.lav, the model, read by data/references/make_r_references_ordinal.R).

Run from the repository root: ``python data/ordinal/make_acsi5.py``.  The
population (the truth the simulation test in tests/test_ordinal.py checks)
is ``POPULATION`` below: five standardised constructs, three items each,
latent responses ``y* = lambda * construct + e`` with unit variance, cut at
thresholds piled towards the top of the scale (a ceiling, as satisfaction
answers are).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

SEED = 20261130
N = 800
CONSTRUCTS = ("Expectation", "Quality", "Value", "Satisfaction", "Loyalty")
PREFIX = {"Expectation": "CUEX", "Quality": "PERQ", "Value": "PERV", "Satisfaction": "CUSA", "Loyalty": "CUSL"}
LOADINGS = {
    "Expectation": (0.70, 0.75, 0.65),
    "Quality": (0.80, 0.85, 0.75),
    "Value": (0.80, 0.70, 0.75),
    "Satisfaction": (0.85, 0.80, 0.90),
    "Loyalty": (0.75, 0.80, 0.70),
}
#: standardised paths (outcome, predictor) -> coefficient
PATHS = {
    ("Quality", "Expectation"): 0.5,
    ("Value", "Expectation"): 0.1,
    ("Value", "Quality"): 0.6,
    ("Satisfaction", "Expectation"): 0.1,
    ("Satisfaction", "Quality"): 0.5,
    ("Satisfaction", "Value"): 0.3,
    ("Loyalty", "Satisfaction"): 0.7,
}
#: thresholds of the latent responses (5 categories, most answers at 4 and 5)
THRESHOLDS = (-1.8, -1.1, -0.3, 0.6)
MODEL = """
Expectation =~ CUEX1 + CUEX2 + CUEX3
Quality =~ PERQ1 + PERQ2 + PERQ3
Value =~ PERV1 + PERV2 + PERV3
Satisfaction =~ CUSA1 + CUSA2 + CUSA3
Loyalty =~ CUSL1 + CUSL2 + CUSL3
Quality ~ Expectation
Value ~ Expectation + Quality
Satisfaction ~ Expectation + Quality + Value
Loyalty ~ Satisfaction
"""


def latent_responses(n: int, rng: np.random.Generator) -> pd.DataFrame:
    """Continuous latent responses y* (unit variance) of the population model."""
    eta = {}
    for c in CONSTRUCTS:
        preds = [(p, b) for (o, p), b in PATHS.items() if o == c]
        mean = sum(b * eta[p] for p, b in preds) if preds else np.zeros(n)
        explained = _explained(c)
        eta[c] = mean + rng.normal(scale=np.sqrt(1 - explained), size=n)
    cols = {}
    for c in CONSTRUCTS:
        for k, lam in enumerate(LOADINGS[c], start=1):
            cols[f"{PREFIX[c]}{k}"] = lam * eta[c] + rng.normal(scale=np.sqrt(1 - lam * lam), size=n)
    return pd.DataFrame(cols)


def _explained(c: str) -> float:
    """Variance of construct c explained by its predictors (constructs standardised)."""
    cor = _construct_correlations()
    preds = [(p, b) for (o, p), b in PATHS.items() if o == c]
    if not preds:
        return 0.0
    idx = [CONSTRUCTS.index(p) for p, _ in preds]
    b = np.array([v for _, v in preds])
    return float(b @ cor[np.ix_(idx, idx)] @ b)


def _construct_correlations() -> np.ndarray:
    """The implied correlations of the standardised constructs."""
    k = len(CONSTRUCTS)
    B = np.zeros((k, k))
    for (o, p), b in PATHS.items():
        B[CONSTRUCTS.index(o), CONSTRUCTS.index(p)] = b
    cor = np.eye(k)
    for i in range(k):        # constructs are in causal order
        for j in range(i):
            cor[i, j] = cor[j, i] = float(B[i, :i] @ cor[:i, j])
    return cor


def discretise(ystar: pd.DataFrame) -> pd.DataFrame:
    """Answers 1..5 from the latent responses."""
    return ystar.apply(lambda col: np.searchsorted(THRESHOLDS, col.to_numpy()) + 1).astype(int)


def make() -> tuple[pd.DataFrame, pd.DataFrame]:
    """The complete data and a copy with about 4% of answers missing at random."""
    rng = np.random.default_rng(SEED)
    answers = discretise(latent_responses(N, rng))
    holes = np.random.default_rng(SEED + 1).random(answers.shape) < 0.04
    with_missing = answers.astype("Int64").mask(holes)
    return answers, with_missing


if __name__ == "__main__":
    here = Path(__file__).parent
    complete, incomplete = make()
    complete.to_csv(here / "acsi5.csv", index=False)
    (here / "acsi5.lav").write_text(MODEL)
    incomplete.to_csv(here / "acsi5_missing.csv", index=False, na_rep="")
