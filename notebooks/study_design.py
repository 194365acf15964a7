# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
#   kernelspec:
#     display_name: csm
#     language: python
#     name: csm
# ---

# %% [markdown]
# # Study design: bases, detectable change, sample sizes and competing models
# Planning the next wave from this one: how many respondents each segment
# has now, the smallest change of the satisfaction index each base can
# detect, the base each would need to detect a change of `target_change`
# points, the sample size each driver path needs, and whether a simpler
# competing model describes the data as well.

# %%
import pandas as pd
from IPython.display import display

import csmlib as csm
from csmlib import report
from csmlib.analysis import planning
from csmlib.run.notebook import open_run, record_notes
from csmlib.report.record import record, record_frame

# %% tags=["parameters"]
# Parameters (csm run injects these; the defaults run the bundled demo study's first wave)
study: str = "demo-acsi"  # study name, shown in titles
wave: str = "2026Q1"  # wave label
previous_wave: str = ""  # label of the previous wave ("" for the first)
segment: str = "all"  # "all" or a segment label
segment_column: str = "region"  # column holding the segments ("" for none)
segment_value: object = None  # the segment's value in the data (None for "all")
data_path: str = "../data/demo/wave1.csv"  # survey file of this wave
data_encoding: str = ""  # text encoding of the survey file ("" for UTF-8)
data_sheet: object = ""  # Excel sheet name or 0-based number ("" for the first sheet)
instrument_path: str = "../data/demo/instrument.yml"  # instrument (codebook) YAML
model: str = "acsi"  # a csm.models name or lavaan model text
results_path: str = ""  # where recorded results go ("" keeps them in memory)
previous_results_path: str = ""  # the previous wave's results of this notebook ("" for none)
min_base: int = 30  # bases below this are suppressed, not estimated
scheme: str = "path"  # PLS inner weighting scheme: path, centroid or factorial
pls_missing: str = "mean"  # PLS with missing answers: "mean" (item mean, as SmartPLS/seminr) or "listwise"
cbsem_missing: str = "fiml"  # CB-SEM with missing answers: "fiml" (every respondent) or "listwise"
index_construct: str = "Satisfaction"  # the headline index
target_change: float = 2.0  # index points a change between two waves should be detectable at
alpha: float = 0.05  # two-sided significance level of the test of a change or a path
power: float = 0.8  # probability of detecting a true change of target_change points
seed: int = 20260101  # seed of the simulation of the driver paths' power
plan_reps: int = 200  # simulated samples per sample size for the driver paths' power
restricted_paths: str = "Expectation -> Satisfaction"  # paths the nested alternative model leaves out ("A -> B; C -> D")

# %%
run = open_run(data_path, instrument_path, model=model, segment=segment,
               segment_column=segment_column, results_path=results_path,
               previous_results_path=previous_results_path, min_base=min_base,
               study=study, wave=wave, data_encoding=data_encoding, data_sheet=data_sheet,
               segment_value=segment_value)
display(run.heading(show_model=True))
record("n", run.n)

# %% [markdown]
# ## Bases now, the change each can detect, and the base a change needs
# The index of a wave is the mean of the respondents' own 0-100 index
# scores (this wave's PLS weights), so the change between two independent
# waves of `n` respondents is detected with the stated power when it is at
# least `(z[1 - alpha/2] + z[power]) * sd * sqrt(2 / n)` points, `sd` being
# the respondent-level standard deviation of the index measured in this wave.
# Segments below the minimum base are shown, not planned.

# %%
if not run.suppressed:
    pls = csm.fit_pls(run.spec, run.survey, scheme=scheme, missing=pls_missing)
    notes = record_notes(pls)
    if notes:
        display(notes)
    by = segment_column if segment == "all" and segment_column else None
    spread = csm.index_sd(pls, index_construct, data=run.survey, by=by)
    planned = spread[(spread["n"] >= min_base) & (spread["n_scored"] > 1)]
    can = csm.detectable_change(planned, alpha=alpha, power=power)
    need = csm.plan_tracking(planned, target_change, alpha=alpha, power=power)
    design = spread.merge(can[["segment", "change"]].rename(columns={"change": "detectable_change"}),
                          on="segment", how="left")
    design = design.merge(need[["segment", "n"]].rename(columns={"n": "n_needed"}), on="segment", how="left")
    design["suppressed"] = design["n"] < min_base
    if segment != "all":   # a segment's own run: its first row is the segment, not the whole sample
        design.loc[0, "segment"] = segment
    record_frame("design_bases", design)
    head = design.iloc[0]
    record("index_sd", head["sd"])
    record("detectable_change", head["detectable_change"])
    if head["n_needed"] == head["n_needed"]:   # not NaN: the whole sample could be planned
        record("n_for_change", int(head["n_needed"]))
    found = report.Findings(title="What the bases can show")
    for i, r in enumerate(design.itertuples()):
        who = "All respondents" if i == 0 and segment == "all" else f"Segment {r.segment}"
        if r.suppressed or r.n_needed != r.n_needed:   # too small, or no respondent answered every item
            found.add(report.suppressed_finding(who, r.n, min_base) if r.suppressed
                      else f"{who}: too few complete answers to measure the spread of the index.")
            continue
        found.add(f"{who}: "
                  f"{r.n} respondents detect a change of {r.detectable_change:.1f} points or more "
                  f"({100 * power:.0f}% power, {100 * alpha:.0f}% level); a change of {target_change:g} points "
                  f"needs {r.n_needed:.0f} respondents per wave.")
    display(found)
    display(report.table(design, 1))
else:
    display(report.md("{text}", text=report.suppressed_finding("This base", run.n, min_base)))

# %% [markdown]
# ## Sample size for the driver paths
# The inverse square root method of Kock & Hadaya (2018): a PLS path of
# size `beta` is significant (5%, one-tailed, 80% power) from about
# `(2.486 / beta)**2` respondents.  Paths estimated near zero need bases no
# study has; they are shown as they are.

# %%
if not run.suppressed:
    paths = pls.paths[["lhs", "op", "rhs", "est"]].copy()
    paths["min_n_inverse_sqrt"] = [planning.min_n_inverse_sqrt(e, alpha=alpha, power=power)
                                   if abs(e) > 1e-3 else float("nan") for e in paths["est"]]
    paths["enough_now"] = paths["min_n_inverse_sqrt"].le(run.n)
    record_frame("path_min_n", paths)
    display(report.table(paths, 3))

# %% [markdown]
# ## Power of the driver paths, by simulation
# `plan_reps` samples of this base (and of the base the target change
# needs) are drawn from a population like the one this wave's CB-SEM fit
# describes (its standardized loadings and paths, the answers' scales,
# means and spreads) and each is estimated by PLS: *power* is the share of
# samples in which the path is significant (OLS test of the inner model,
# `alpha`), *mean_est* the average PLS estimate beside the population's
# standardized path (*true*).

# %%
if not run.suppressed:
    sizes = sorted({int(run.n), *[int(x) for x in design["n_needed"].iloc[:1] if x == x]})
    try:
        population = planning.population_from_fit(csm.fit_cbsem(run.spec, run.survey, missing=cbsem_missing))
        simulated = csm.plan_sample(population, sizes, reps=plan_reps, seed=seed, method="pls", alpha=alpha,
                                    scheme=scheme)
    except csm.CsmError as err:
        simulated = None
        display(report.md("No simulation for this base: {why}", why=str(err)))
    if simulated is not None:
        power_table = simulated.paths[["n", "lhs", "op", "rhs", "true", "mean_est", "power", "n_failed"]]
        record_frame("path_power", power_table)
        weak = power_table[(power_table["n"] == run.n) & (power_table["power"] < power)]
        display(report.Findings(
            [f"{r.lhs} ~ {r.rhs}: power {r.power:.2f} at {run.n} respondents." for r in weak.itertuples()]
            or [f"Every driver path reaches {100 * power:.0f}% power at {run.n} respondents."],
            title="Driver paths at this base"))
        display(report.table(power_table, 3))

# %% [markdown]
# ## Competing models
# Each comparison fits a model and a nested alternative with some paths
# left out, by CB-SEM (the likelihood-ratio test of the restriction, as
# lavaan's `lavTestLRT`, with the nesting checked as semTools' `net`) and by
# PLS (BIC of the index construct's regression, with Akaike weights:
# Sharma et al. 2019).  The first alternative leaves out
# `restricted_paths` (by default the direct path from expectations to
# satisfaction).  When the survey holds the ECSI items, the ECSI model is
# also compared with its ACSI-style restriction, in which the corporate
# image acts only through expectations.  Whole sample only.

# %%
comparisons = []
if not run.suppressed and segment == "all":
    pairs = [tuple(x.strip() for x in p.split("->")) for p in restricted_paths.split(";") if p.strip()]
    try:
        comparisons.append((run.spec, run.spec.without_paths(pairs, name=f"{run.spec.name or 'model'} without "
                                                             + "; ".join(" -> ".join(p) for p in pairs))))
    except (csm.SpecError, ValueError) as err:
        display(report.md("No restricted alternative: {why}", why=str(err)))
    ecsi = csm.models.ecsi()
    if set(ecsi.indicators) <= set(run.survey.data.columns) and set(run.spec.construct_names) != set(
            ecsi.construct_names):
        comparisons.append((ecsi, ecsi.without_paths([("Image", "Satisfaction"), ("Image", "Loyalty")],
                                                     name="ECSI, image only through expectations")))
    else:
        display(report.md("The ECSI comparison needs the image items ({items}) in the survey, "
                          "beside a model other than ECSI.",
                          items=", ".join(c for c in ecsi.items_of("Image"))))
if comparisons:
    cb_tables, pls_tables = [], []
    said = report.Findings(title="What the comparisons say")
    for general, restricted in comparisons:
        names = [general.name or "model", restricted.name]
        cb = [csm.fit_cbsem(s, run.survey, missing=cbsem_missing) for s in (general, restricted)]
        table = csm.compare_models(*cb, names=names)
        cb_tables.append(table)
        pls_fits = [csm.fit_pls(s, run.survey, scheme=scheme, missing=pls_missing) for s in (general, restricted)]
        pls_tables.append(csm.compare_models(*pls_fits, names=names, construct=index_construct))
        test = table.iloc[-1]
        if test["pvalue"] == test["pvalue"]:
            verdict = ("fits significantly worse: keep the paths" if test["pvalue"] < alpha
                       else "fits as well: the simpler model will do")
            said.add(f"{restricted.name}: chi-square difference {test['chisq_diff']:.2f} on "
                     f"{test['df_diff']:.0f} df, {report.fmt_p(test['pvalue'])}; the restricted model {verdict}.")
        else:
            said.add(f"{restricted.name}: no likelihood-ratio test ({test['note']}).")
        best = pls_tables[-1][pls_tables[-1]["rank"] == 1].iloc[0]
        said.add(f"PLS: the lowest BIC for {index_construct} is {best['model']}'s "
                 f"(BIC weight {best['bic_weight']:.2f}).")
    cb_table = pd.concat(cb_tables, ignore_index=True) if len(cb_tables) > 1 else cb_tables[0]
    pls_table = pd.concat(pls_tables, ignore_index=True) if len(pls_tables) > 1 else pls_tables[0]
    record_frame("model_comparison", cb_table)
    record_frame("model_comparison_pls", pls_table)
    display(said)
    display(report.table(cb_table, 3))
    display(report.table(pls_table, 3))
