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
# Measurement model: loadings, reliability, convergent and discriminant
# validity, and where the covariance-based model misfits.  Every text shown is
# written in English and Chinese (run.md / run.text, csmlib.report.i18n).
# %matplotlib inline
from IPython.display import display

import csmlib as csm
from csmlib.analysis.collinearity import vif_assessment
from csmlib import CsmError, report
from csmlib.analysis.measurement import reliability_assessment
from csmlib.analysis.quality import ordinal_candidates
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
cbsem_estimator: str = "ML"  # CB-SEM estimator: "ML", "MLR" or "WLSMV" (items as ordered categories)
compare_estimators: bool = False  # show the ML and the WLSMV solution side by side

# %%
run = open_run(data_path, instrument_path, model=model, segment=segment,
               segment_column=segment_column, results_path=results_path,
               previous_results_path=previous_results_path, min_base=min_base,
               study=study, wave=wave, data_encoding=data_encoding, data_sheet=data_sheet,
               segment_value=segment_value, language=language,
               fit_cache=fit_cache)
lang = run.language
record("n", run.n)
display(run.md({"en": "# Measurement model\n\nDo the items measure their constructs reliably and distinctly? "
                      "Loadings, reliability (Cronbach's alpha, rho_A, rho_C), convergent validity (AVE) and "
                      "discriminant validity (HTMT with bootstrap intervals, Fornell-Larcker), each judged "
                      "against the usual thresholds; then where the covariance-based model misfits "
                      "(modification indices, standardized residuals).",
                "zh": "# 测量模型\n\n各题项能否可靠且有区分度地测量其潜变量？载荷、信度（Cronbach's α、rho_A、"
                      "rho_C）、收敛效度（AVE）与区分效度（HTMT 及其自助法置信区间、Fornell-Larcker 准则），"
                      "均按常用标准判断；随后给出基于协方差的模型拟合欠佳之处（修正指数、标准化残差）。"}))
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
    display(run.md({"en": "PLS ({scheme} scheme): {message}. Bootstrap: {n_boot} resamples, seed {seed}, "
                          "{n_failed} failed, {n_flipped} sign-flipped.",
                    "zh": "PLS（{scheme} 加权方案）：迭代 {n_iter} 次，{status}。自助法：{n_boot} 次重抽样，"
                          "随机种子 {seed}，{n_failed} 次失败，{n_flipped} 次符号翻转。"}, scheme=scheme,
                   message=pls.message.rstrip("."), n_iter=pls.n_iter,
                   status=run.text({"en": "converged", "zh": "已收敛"}) if pls.converged
                   else run.text({"en": "did not converge", "zh": "未收敛"}),
                   n_boot=boot.n_boot, seed=boot.seed, n_failed=boot.n_failed, n_flipped=boot.n_sign_flipped))

# %%
display(run.md({"en": "## Loadings\n\nStandardized loadings of 0.708 or more mean the construct explains at "
                      "least half of the item's variance.",
                "zh": "## 载荷\n\n标准化载荷不低于 0.708，表示潜变量至少解释了该题项一半的方差。"}))
if not run.suppressed:
    loadings = pls.loadings[["lhs", "rhs", "est"]].rename(columns={"lhs": "construct", "rhs": "item", "est": "loading"})
    loadings["passed"] = loadings["loading"] >= 0.708
    record_frame("loadings", loadings)
    display(run.table(loadings, 3))

# %%
display(run.md({"en": "## Reliability and convergent validity\n\nThresholds: alpha, rho_A and rho_C at least "
                      "0.7, AVE at least 0.5.  Cronbach's alpha is the raw alpha (item covariances); the "
                      "standardized alpha (item correlations) is the one seminr reports.  A single-item "
                      "construct is reported as perfectly reliable (1), and a formative (mode B) construct with "
                      "rho_A 1, as seminr does; internal consistency is no criterion for either.",
                "zh": "## 信度与收敛效度\n\n标准：α、rho_A 与 rho_C 不低于 0.7，AVE 不低于 0.5。Cronbach's α "
                      "为原始 α（基于题项协方差）；标准化 α（基于题项相关系数）与 seminr 的报告一致。单题项潜变量"
                      "的信度记为完全可靠（1），形成性（模式 B）潜变量的 rho_A 记为 1，与 seminr 相同；"
                      "内部一致性对二者均不适用。"}))
if not run.suppressed:
    rel = reliability_assessment(pls)
    record_frame("reliability", rel.reset_index(names="construct"))
    display(run.table(rel, 3))

# %%
display(run.md({"en": "## Collinearity of the items\n\nVIF of each item among the items of its construct: above "
                      "5 is critical collinearity (Hair et al. prefer below 3); it matters most for formative "
                      "(mode B) blocks, whose weights are regression weights.",
                "zh": "## 题项的共线性\n\n各题项相对于同一潜变量其他题项的方差膨胀因子（VIF）：高于 5 表示严重"
                      "共线性（Hair 等建议低于 3）；这对形成性（模式 B）题组最为重要，因其权重是回归权重。"}))
if not run.suppressed:
    outer_vif = vif_assessment(pls, "outer")
    record_frame("outer_vif", outer_vif)
    display(run.table(outer_vif, 3))

# %%
display(run.md({"en": "## Discriminant validity\n\nHTMT below 0.85 (conservative) or 0.90 (liberal), with the "
                      "upper bootstrap bound below 1; Fornell-Larcker: the square root of each AVE (diagonal) "
                      "above the construct's correlations.",
                "zh": "## 区分效度\n\nHTMT 低于 0.85（保守）或 0.90（宽松），且自助法置信区间上限低于 1；"
                      "Fornell-Larcker 准则：各潜变量 AVE 的平方根（对角线）高于其与其他潜变量的相关系数。"}))
if not run.suppressed:
    htmt = boot.htmt
    record_frame("htmt", htmt)
    display(run.table(htmt, 3))
    display(run.table(csm.fornell_larcker(pls), 3))

# %%
display(run.md({"en": "## Cross-loadings", "zh": "## 交叉载荷"}))
if not run.suppressed:
    display(run.table(csm.cross_loadings(pls), 3))

# %%
display(run.md({"en": "## Where the covariance-based model misfits\n\nThe same model estimated by "
                      "covariance-based ML (respondents with every answer; with the instrument's survey weights "
                      "when it declares them, as lavaan's `sampling.weights`).  A modification index is the "
                      "drop in chi-square to expect if a parameter the model leaves out (a cross-loading, a "
                      "residual covariance, a path) were freed; a standardized residual is the gap between the "
                      "sample and the model covariance of two items over its standard error.  Both are leads "
                      "to review against theory: the model is never changed by them.",
                "zh": "## 基于协方差的模型拟合欠佳之处\n\n同一模型用基于协方差的最大似然法估计（仅含全部作答的"
                      "受访者；问卷声明了调查权重时按权重估计，同 lavaan 的 `sampling.weights`）。修正指数是若放开"
                      "模型未包含的某个参数（交叉载荷、残差协方差或路径）时卡方预期下降的量；标准化残差是两题项的"
                      "样本协方差与模型协方差之差除以其标准误。二者都只是需对照理论审视的线索：模型不会因此改变。"}))
if not run.suppressed:
    cb = run.fit_cbsem("ML", "listwise")
    notes = record_notes(cb, key="cbsem_estimation_notes", language=lang)
    if notes:
        display(notes)
    mi = csm.modification_indices(cb)
    zres = csm.residuals(cb, type="standardized")
    record_frame("modification_indices", mi.head(10))
    display(report.misfit_findings(mi, zres, language=lang, names=run.names))
    display(run.table(mi.head(10), 3))
    pairs = zres[(zres["op"] == "~~") & (zres["lhs"] != zres["rhs"])]
    largest = pairs.loc[pairs["residual"].abs().sort_values(ascending=False).index].head(10)
    record_frame("standardized_residuals", largest)
    display(run.table(largest, 2))

# %%
display(run.md({"en": "## Ordered answers: maximum likelihood or WLSMV\n\nAn item with few answer categories "
                      "(7 or fewer) piled against the top of the scale is a coarse view of what respondents "
                      "think: maximum likelihood on its codes understates the loadings.  WLSMV, lavaan's "
                      "estimator for ordered items, fits their polychoric correlations instead.  The study "
                      "chooses with `cbsem_estimator`; with `compare_estimators` (or `cbsem_estimator: WLSMV`) "
                      "both solutions are shown side by side (standardized loadings and paths).",
                "zh": "## 有序作答：最大似然法还是 WLSMV\n\n答案类别较少（7 个或更少）且集中于量表顶端的题项，"
                      "只能粗略反映受访者的看法：对其编码使用最大似然法会低估载荷。WLSMV（lavaan 针对有序题项的"
                      "估计方法）改为拟合题项的多分格相关系数。研究文件以 `cbsem_estimator` 选择估计方法；设置 "
                      "`compare_estimators`（或 `cbsem_estimator: WLSMV`）时，两种解并列展示（标准化载荷与路径）。"}))
if not run.suppressed:
    candidates = ordinal_candidates(csm.item_descriptives(run.survey, items=list(run.spec.indicators)))
    flagged = candidates[candidates["candidate"]]
    record("wlsmv_recommended", bool(len(flagged)))
    if len(flagged):
        display(run.md({"en": "{n} item(s) have 7 or fewer answer categories with most answers at the top of "
                              "the scale ({items}): estimate the covariance-based model with WLSMV "
                              "(`cbsem_estimator: WLSMV` in the study file).",
                        "zh": "{n} 个题项的答案类别不超过 7 个且大多数回答集中在量表顶端（{items}）：请用 WLSMV "
                              "估计基于协方差的模型（在研究文件中设置 `cbsem_estimator: WLSMV`）。"},
                       n=len(flagged), items=", ".join(run.name(i) for i in flagged["item"])))
        display(run.table(flagged, 3))
    else:
        display(run.md({"en": "No item combines 7 or fewer answer categories with a ceiling: maximum "
                              "likelihood on the answer codes is adequate.",
                        "zh": "没有题项同时具有不超过 7 个答案类别和天花板效应：对答案编码使用最大似然法即可。"}))

# %%
if not run.suppressed and (compare_estimators or cbsem_estimator == "WLSMV"):
    try:
        solutions = {"ML": run.fit_cbsem("ML", "listwise"), "WLSMV": run.fit_cbsem("WLSMV", "listwise")}
        both = report.side_by_side(solutions)
        record_frame("estimator_comparison", both)
        display(run.table(both, 3))
        display(run.md({"en": "ML: {ml} WLSMV: {wlsmv}", "zh": "ML：{ml} WLSMV：{wlsmv}"},
                       ml=report.fit_finding(solutions["ML"].fit_indices, language=lang),
                       wlsmv=report.fit_finding(solutions["WLSMV"].fit_indices, language=lang)))
    except CsmError as exc:
        display(run.md({"en": "The WLSMV solution is not available: {error}", "zh": "WLSMV 解不可用：{error}"},
                       error=str(exc)))
