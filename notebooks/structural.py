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

# %%
# Structural model: paths, R-squared, effects, mediation, collinearity, effect
# sizes, prediction and the covariance-based model's fit.  Every text shown is
# written in English and Chinese (run.md / run.text, csmlib.report.i18n).
# %matplotlib inline
import matplotlib.pyplot as plt
import pandas as pd
from IPython.display import display

import csmlib as csm
from csmlib.analysis.collinearity import vif_assessment
from csmlib import CsmError, report
from csmlib.run.notebook import open_run, record_notes
from csmlib.report.record import record, record_frame

# %% tags=["parameters"]
# Parameters (csm run injects these; the defaults run the bundled demo study's first wave)
study: str = "demo-acsi"  # study name, shown in titles
wave: str = "2026Q1"  # wave label
previous_wave: str = ""  # label of the previous wave ("" for the first)
segment: str = "all"  # "all" or a segment label
segment_column: str = ""  # column holding the segments ("" for none)
segment_value: object = None  # the segment's value in the data (None for "all")
fit_cache: str = ""  # folder of the wave x segment's shared fits ("": this notebook fits its own)
data_path: str = "../data/demo/wave1.csv"  # survey file of this wave
data_encoding: str = ""  # text encoding of the survey file ("" for UTF-8)
data_sheet: object = ""  # Excel sheet name or 0-based number ("" for the first sheet)
instrument_path: str = "../data/demo/instrument.yml"  # instrument (codebook) YAML
model: str = "acsi"  # a csm.models name or lavaan model text
results_path: str = ""  # where recorded results go ("" keeps them in memory)
previous_results_path: str = ""  # the previous wave's recorded results ("" for none)
min_base: int = 30  # bases below this are suppressed, not estimated
language: str = ""  # report language: "en" or "zh" ("" for the instrument's language)
seed: int = 20260101  # bootstrap seed
n_boot: int = 2000  # bootstrap resamples
scheme: str = "path"  # PLS inner weighting scheme: path, centroid or factorial
pls_missing: str = "mean"  # PLS with missing answers: "mean" (item mean, as SmartPLS/seminr) or "listwise"
cbsem_missing: str = "fiml"  # CB-SEM with missing answers: "fiml" (every respondent) or "listwise"
cbsem_estimator: str = "ML"  # CB-SEM estimator: "ML", "MLR" (robust) or "WLSMV" (items as ordered categories)

# %%
run = open_run(data_path, instrument_path, model=model, segment=segment,
               segment_column=segment_column, results_path=results_path,
               previous_results_path=previous_results_path, min_base=min_base,
               study=study, wave=wave, data_encoding=data_encoding, data_sheet=data_sheet,
               segment_value=segment_value, language=language,
               fit_cache=fit_cache)
lang = run.language
record("n", run.n)
display(run.md({"en": "# Structural model\n\nHow expectations, quality and value drive satisfaction, and "
                      "satisfaction drives complaints and loyalty: path estimates with bootstrap intervals, "
                      "R-squared, direct, indirect and total effects, mediation, collinearity and effect sizes, "
                      "out-of-sample prediction, and the covariance-based model's fit.",
                "zh": "# 结构模型\n\n顾客预期、感知质量与感知价值如何驱动满意度，满意度又如何影响投诉与忠诚度："
                      "路径估计及其自助法置信区间、R²、直接效应、间接效应与总效应、中介、共线性与效应量、"
                      "样本外预测，以及基于协方差的模型拟合。"}))
display(run.heading(show_model=True))

# %%
if not run.suppressed:
    # weighted PLS (paths, index, IPMA) when the instrument declares a weight column
    pls = run.fit_pls(scheme=scheme, missing=pls_missing,
                      weights=run.survey.instrument.weight_column)
    boot = run.bootstrap(pls, n_boot=n_boot, seed=seed)
    notes = record_notes(pls, boot, language=lang)
    if notes:
        display(notes)
    fig = csm.plots.path_diagram(boot, labels=run.names, base=run.n, wave=run.wave, language=lang)
    display(fig)
    plt.close(fig)

# %%
display(run.md({"en": "## Paths (PLS, bootstrap percentile intervals)", "zh": "## 路径（PLS，自助法百分位区间）"}))
if not run.suppressed:
    paths = boot.paths
    record_frame("paths", paths[["lhs", "rhs", "est", "se", "ci_lower", "ci_upper", "pvalue"]])
    display(run.table(paths, 3))
    r2 = pls.r2.rename_axis("construct").reset_index(name="r2")
    record_frame("r2", r2)
    display(run.table(r2, 3))
    record("srmr", pls.fit_indices.get("srmr"))

# %%
display(run.md({"en": "## Direct, indirect and total effects", "zh": "## 直接效应、间接效应与总效应"}))
if not run.suppressed:
    display(run.table(boot.effects, 3))

# %%
display(run.md({"en": "## Mediation\n\nThe satisfaction chain is a mediation model: quality works on "
                      "satisfaction directly and through value, satisfaction on loyalty directly and through "
                      "complaints.  Every specific indirect effect (one per chain of paths) with its bootstrap "
                      "interval, then, for every pair with a direct path and a chain, the type of mediation "
                      "(Zhao, Lynch & Chen 2010; significant = the 95% percentile interval excludes 0).",
                "zh": "## 中介\n\n满意度链条是一个中介模型：感知质量既直接影响满意度，也通过感知价值间接影响；"
                      "满意度既直接影响忠诚度，也通过投诉间接影响。下面给出每条特定间接效应（每条路径链一个）及其"
                      "自助法置信区间，然后对每一对既有直接路径又有路径链的潜变量判断中介类型（Zhao、Lynch 与 "
                      "Chen 2010；显著 = 95% 百分位区间不含 0）。"}))
if not run.suppressed:
    specific = boot.specific_effects
    record_frame("specific_effects", specific)
    display(run.table(specific, 3))
    direct = set(zip(pls.paths["rhs"], pls.paths["lhs"]))
    pairs = [p for p in dict.fromkeys(zip(specific["from"], specific["to"])) if p in direct]
    mediations = [csm.mediation(boot, x=x, y=y) for x, y in pairs]
    for med in mediations:
        display(report.md("{finding}", finding=report.mediation_finding(med, language=lang, names=run.names)))
    if mediations:
        med_all = pd.concat(mediations, ignore_index=True)
        record_frame("mediation", med_all)
        display(run.table(med_all, 3))

# %%
display(run.md({"en": "## Collinearity and effect sizes\n\nVIF of each antecedent among the antecedents of the "
                      "same construct (critical above 5; Hair et al. prefer below 3) and Cohen's f² of every "
                      "path (0.02 small, 0.15 medium, 0.35 large; by re-estimating the model without the path, "
                      "as seminr, and from the full model's scores, as SmartPLS 3).",
                "zh": "## 共线性与效应量\n\n各前因变量相对于同一潜变量其他前因变量的方差膨胀因子（VIF，高于 5 为"
                      "严重；Hair 等建议低于 3），以及每条路径的 Cohen's f²（0.02 小、0.15 中、0.35 大；按 seminr "
                      "的做法去掉该路径重新估计模型，并按 SmartPLS 3 的做法基于完整模型的得分计算）。"}))
if not run.suppressed:
    inner_vif = vif_assessment(pls, "inner")
    record_frame("inner_vif", inner_vif)
    display(run.table(inner_vif, 3))
    f2 = csm.f_squared(pls)
    record_frame("f_squared", f2)
    display(run.table(f2, 3))

# %%
display(run.md({"en": "## Prediction\n\nOut-of-sample predictive power (PLSpredict, Shmueli et al. 2019): every "
                      "item of an endogenous construct predicted in 10-fold cross-validation repeated 10 times.  "
                      "Q²predict above 0 means the model predicts better than the item mean; PLS errors (RMSE) "
                      "below the linear-model benchmark's for all, most, few or none of the items mean high, "
                      "medium, low or no predictive power.  CVPAT (Liengaard et al. 2021) tests the average "
                      "losses against the indicator-average (IA) and linear-model (LM) benchmarks.",
                "zh": "## 预测\n\n样本外预测能力（PLSpredict，Shmueli 等 2019）：内生潜变量的每个题项都用重复 10 次"
                      "的 10 折交叉验证进行预测。Q²predict 大于 0 表示模型的预测优于题项均值；若全部、多数、少数"
                      "或没有题项的 PLS 误差（RMSE）低于线性模型基准，则预测能力分别为高、中、低或无。CVPAT"
                      "（Liengaard 等 2021）检验平均损失是否低于题项均值（IA）与线性模型（LM）基准。"}))
if not run.suppressed:
    try:
        prediction = csm.predict_pls(run.spec, run.survey, folds=10, repeats=10, seed=seed, missing=pls_missing)
        prediction["pls_below_lm"] = prediction["pls_rmse"] < prediction["lm_rmse"]
        record_frame("prediction", prediction)
        display(run.table(prediction, 3))
        cv = csm.cvpat(run.spec, run.survey, folds=10, repeats=10, seed=seed, missing=pls_missing)
        record_frame("cvpat", cv)
        display(run.table(cv, 3))
    except CsmError as exc:
        display(run.md({"en": "Prediction not assessed: {error}", "zh": "未评估预测能力：{error}"}, error=str(exc)))

# %%
display(run.md({"en": "## Covariance-based model and its fit\n\nMaximum likelihood as lavaan; when the instrument "
                      "declares survey weights, weighted ML with robust (MLR) standard errors, and the fit judged "
                      "by the robust CFI, TLI and RMSEA (lavaan's `sampling.weights`).",
                "zh": "## 基于协方差的模型及其拟合\n\n与 lavaan 相同的最大似然估计；问卷声明了调查权重时，采用加权"
                      "最大似然与稳健（MLR）标准误，并按稳健 CFI、TLI 与 RMSEA 判断拟合（同 lavaan 的 "
                      "`sampling.weights`）。"}))
if not run.suppressed:
    cb = run.fit_cbsem(cbsem_estimator, cbsem_missing)
    fit = cb.fit_indices
    record_frame("fit", fit.rename_axis("index").reset_index(name="value"))
    display(report.md("{text}", text=report.fit_finding(fit, language=lang)))
    display(run.table(report.fit_assessment(fit), 3))
    display(run.table(cb.paths[["lhs", "rhs", "est", "se", "pvalue", "std_all"]], 3))
    notes = record_notes(cb, key="cbsem_estimation_notes", language=lang)
    if notes:
        display(notes)
