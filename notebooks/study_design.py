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
import pandas as pd
from IPython.display import display

import csmlib as csm
from csmlib import report
from csmlib.analysis import planning
from csmlib.report import i18n
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
language: str = ""  # report language: "en" or "zh" ("" for the instrument's language)

# %%
run = open_run(data_path, instrument_path, model=model, segment=segment,
               segment_column=segment_column, results_path=results_path,
               previous_results_path=previous_results_path, min_base=min_base,
               study=study, wave=wave, data_encoding=data_encoding, data_sheet=data_sheet,
               segment_value=segment_value, language=language)
lang = run.language
record("n", run.n)
display(run.md({
    "en": "# Study design: bases, detectable change, sample sizes and competing models\n\n"
          "Planning the next wave from this one: how many respondents each segment has now, the smallest "
          "change of the satisfaction index each base can detect, the base each would need to detect a "
          "change of {target} points, the sample size each driver path needs, and whether a simpler "
          "competing model describes the data as well.",
    "zh": "# 调查设计：样本量、可检测的变化、所需样本量与竞争模型\n\n"
          "以本期数据规划下一期调查：各细分群体目前有多少受访者，各样本量能检测到的满意度指数最小变化，"
          "要检测 {target} 分的变化各需多少样本，各驱动路径需要多大的样本量，以及更简单的竞争模型"
          "能否同样好地描述数据。"}, target=f"{target_change:g}"))
display(run.heading(show_model=True))

# %%
display(run.md({
    "en": "## Bases now, the change each can detect, and the base a change needs\n\n"
          "The index of a wave is the mean of the respondents' own 0-100 index scores (this wave's PLS "
          "weights), so the change between two independent waves of `n` respondents is detected with the "
          "stated power when it is at least `(z[1 - alpha/2] + z[power]) * sd * sqrt(2 / n)` points, `sd` "
          "being the respondent-level standard deviation of the index measured in this wave. Segments "
          "below the minimum base are shown, not planned.",
    "zh": "## 目前的样本量、各自可检测的变化与检测变化所需的样本量\n\n"
          "一期的指数是受访者个人 0-100 指数得分（采用本期的 PLS 权重）的均值，因此，两期各有 `n` "
          "位受访者的独立样本之间的变化，只要不小于 `(z[1 - alpha/2] + z[power]) * sd * sqrt(2 / n)` 分，"
          "就能以设定的检验力检测出来；其中 `sd` 是本期测得的受访者个人指数得分的标准差。"
          "低于最低样本量的细分群体只列出，不做规划。"}))
if not run.suppressed:
    # the fit index_drivers reports the index from (shared: csmlib.run.fitcache)
    pls = run.fit_pls(scheme=scheme, missing=pls_missing, weights=run.survey.instrument.weight_column)
    notes = record_notes(pls, language=lang)
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
    found = report.Findings(title=run.text({"en": "What the bases can show", "zh": "目前的样本量能检测到什么"}))
    for i, r in enumerate(design.itertuples()):
        who = (run.text({"en": "All respondents", "zh": "全部受访者"}) if i == 0 and segment == "all"
               else run.text({"en": "Segment {segment}", "zh": "细分群体 {segment}"}, segment=r.segment))
        if r.suppressed:
            found.add(report.suppressed_finding(who, r.n, min_base, language=lang))
        elif r.n_needed != r.n_needed:   # no respondent answered every item
            found.add(run.text({"en": "{who}: too few complete answers to measure the spread of the index.",
                                "zh": "{who}：完整作答的受访者太少，无法估计指数的离散程度。"}, who=who))
        else:
            found.add(run.text({
                "en": "{who}: {n} respondents detect a change of {change} points or more ({power}% power, "
                      "{alpha}% level); a change of {target} points needs {needed} respondents per wave.",
                "zh": "{who}：样本量 {n}，可检测到 {change} 分及以上的指数变化（检验力 {power}%，显著性水平 "
                      "{alpha}%）；要检测 {target} 分的变化，每期需要 {needed} 位受访者。"},
                who=who, n=r.n, change=f"{r.detectable_change:.1f}", power=f"{100 * power:.0f}",
                alpha=f"{100 * alpha:.0f}", target=f"{target_change:g}", needed=f"{r.n_needed:.0f}"))
    display(found)
    display(run.table(design, 1))
else:
    display(report.md("{text}", text=report.suppressed_finding(run.text({"en": "This base", "zh": "该样本"}),
                                                               run.n, min_base, language=lang)))

# %%
display(run.md({
    "en": "## Sample size for the driver paths\n\n"
          "The inverse square root method of Kock & Hadaya (2018): a PLS path of size `beta` is significant "
          "(5%, one-tailed, 80% power) from about `(2.486 / beta)**2` respondents.  Paths estimated near "
          "zero need bases no study has; they are shown as they are.",
    "zh": "## 驱动路径所需的样本量\n\n"
          "采用 Kock 与 Hadaya（2018）的逆平方根法：大小为 `beta` 的 PLS 路径，约从 `(2.486 / beta)**2` "
          "位受访者起即可达到显著（5% 水平、单尾、检验力 80%）。估计值接近零的路径所需的样本量"
          "任何调查都无法达到，照原样列出。"}))
if not run.suppressed:
    paths = pls.paths[["lhs", "op", "rhs", "est"]].copy()
    paths["min_n_inverse_sqrt"] = [planning.min_n_inverse_sqrt(e, alpha=alpha, power=power)
                                   if abs(e) > 1e-3 else float("nan") for e in paths["est"]]
    paths["enough_now"] = paths["min_n_inverse_sqrt"].le(run.n)
    record_frame("path_min_n", paths)
    display(run.table(paths, 3))

# %%
display(run.md({
    "en": "## Power of the driver paths, by simulation\n\n"
          "{reps} samples of this base (and of the base the target change needs) are drawn from a "
          "population like the one this wave's CB-SEM fit describes (its standardized loadings and paths, "
          "the answers' scales, means and spreads) and each is estimated by PLS: *power* is the share of "
          "samples in which the path is significant (OLS test of the inner model, at the {alpha}% level), "
          "*mean estimate* the average PLS estimate beside the population's standardized path "
          "(*population value*).",
    "zh": "## 驱动路径的检验力（模拟）\n\n"
          "从与本期 CB-SEM 拟合结果相似的总体（其标准化载荷与路径、各题项的量表、均值与离散程度）中，"
          "按本期样本量（以及检测目标变化所需的样本量）各抽取 {reps} 个样本，每个样本用 PLS 估计："
          "*检验力* 是路径达到显著（结构模型的 OLS 检验，{alpha}% 水平）的样本所占比例，"
          "*平均估计值* 是 PLS 估计的平均值，与总体的标准化路径（*总体真值*）并列。"},
    reps=plan_reps, alpha=f"{100 * alpha:g}"))
if not run.suppressed:
    sizes = sorted({int(run.n), *[int(x) for x in design["n_needed"].iloc[:1] if x == x]})
    try:
        population = planning.population_from_fit(csm.fit_cbsem(run.spec, run.survey, missing=cbsem_missing))
        simulated = csm.plan_sample(population, sizes, reps=plan_reps, seed=seed, method="pls", alpha=alpha,
                                    scheme=scheme)
    except csm.CsmError as err:
        simulated = None
        display(run.md({"en": "No simulation for this base: {why}", "zh": "无法对该样本量进行模拟：{why}"},
                       why=str(err)))
    if simulated is not None:
        power_table = simulated.paths[["n", "lhs", "op", "rhs", "true", "mean_est", "power", "n_failed"]]
        record_frame("path_power", power_table)
        weak = power_table[(power_table["n"] == run.n) & (power_table["power"] < power)]
        display(report.Findings(
            [run.text({"en": "{outcome} ~ {driver}: power {power} at {n} respondents.",
                       "zh": "{driver} → {outcome}：样本量 {n} 时检验力为 {power}。"},
                      outcome=run.name(r.lhs), driver=run.name(r.rhs), power=f"{r.power:.2f}", n=run.n)
             for r in weak.itertuples()]
            or [run.text({"en": "Every driver path reaches {power}% power at {n} respondents.",
                          "zh": "样本量 {n} 时，所有驱动路径的检验力均达到 {power}%。"},
                         power=f"{100 * power:.0f}", n=run.n)],
            title=run.text({"en": "Driver paths at this base", "zh": "当前样本量下的驱动路径"})))
        display(run.table(power_table, 3))

# %%
pairs = [tuple(x.strip() for x in p.split("->")) for p in restricted_paths.split(";") if p.strip()]
# the paths left out, as the alternative's name shows them: lavaan's codes in English, the instrument's names otherwise
left_out = ("; ".join(" -> ".join(p) for p in pairs) if lang == "en"
            else run.text("list_sep").join(" \u2192 ".join(run.name(x) for x in p) for p in pairs))
display(run.md({
    "en": "## Competing models\n\n"
          "Each comparison fits a model and a nested alternative with some paths left out, by CB-SEM (the "
          "likelihood-ratio test of the restriction, as lavaan's `lavTestLRT`, with the nesting checked as "
          "semTools' `net`) and by PLS (BIC of the index construct's regression, with Akaike weights: "
          "Sharma et al. 2019).  The first alternative leaves out {paths} (by default the direct path from "
          "expectations to satisfaction).  When the survey holds the ECSI items, the ECSI model is also "
          "compared with its ACSI-style restriction, in which the corporate image acts only through "
          "expectations.  Whole sample only.",
    "zh": "## 竞争模型\n\n"
          "每项比较都拟合一个模型及其去掉部分路径后的嵌套备择模型：用 CB-SEM（对该约束做似然比检验，"
          "同 lavaan 的 `lavTestLRT`，并按 semTools 的 `net` 检验嵌套关系），也用 PLS（指数潜变量回归的 "
          "BIC 及其 Akaike 权重，见 Sharma 等 2019）。第一个备择模型去掉 {paths}（默认是从期望到满意度的"
          "直接路径）。若调查包含 ECSI 的题项，还会将 ECSI 模型与其 ACSI 式的约束模型比较，后者中企业形象"
          "只通过期望起作用。仅对全样本进行。"}, paths=left_out))
comparisons = []
if not run.suppressed and segment == "all":
    try:
        comparisons.append((run.spec, run.spec.without_paths(pairs, name=run.text(
            {"en": "{model} without {paths}", "zh": "{model}（去掉 {paths}）"},
            model=run.spec.name or run.text({"en": "model", "zh": "模型"}),
            paths=left_out))))
    except (csm.SpecError, ValueError) as err:
        display(run.md({"en": "No restricted alternative: {why}", "zh": "无法构建去掉路径的备择模型：{why}"},
                       why=str(err)))
    ecsi = csm.models.ecsi()
    if set(ecsi.indicators) <= set(run.survey.data.columns) and set(run.spec.construct_names) != set(
            ecsi.construct_names):
        comparisons.append((ecsi, ecsi.without_paths([("Image", "Satisfaction"), ("Image", "Loyalty")], name=run.text(
            {"en": "ECSI, image only through expectations", "zh": "ECSI（企业形象仅通过期望起作用）"}))))
    else:
        display(run.md({"en": "The ECSI comparison needs the image items ({items}) in the survey, beside a model "
                              "other than ECSI.",
                        "zh": "与 ECSI 的比较要求调查数据包含企业形象题项（{items}），且所用模型不是 ECSI。"},
                       items=run.text("list_sep").join(c for c in ecsi.items_of("Image"))))
if comparisons:
    cb_tables, pls_tables = [], []
    said = report.Findings(title=run.text({"en": "What the comparisons say", "zh": "模型比较的结论"}))
    for general, restricted in comparisons:
        names = [general.name or "model", restricted.name]
        cb = [csm.fit_cbsem(s, run.survey, missing=cbsem_missing) for s in (general, restricted)]
        table = csm.compare_models(*cb, names=names)
        cb_tables.append(table)
        pls_fits = [run.fit_pls(s, scheme=scheme, missing=pls_missing) for s in (general, restricted)]
        pls_tables.append(csm.compare_models(*pls_fits, names=names, construct=index_construct))
        test = table.iloc[-1]
        lrt = dict(name=restricted.name, chi=f"{test['chisq_diff']:.2f}", df=f"{test['df_diff']:.0f}",
                   p=report.fmt_p(test["pvalue"]))
        if test["pvalue"] == test["pvalue"] and test["pvalue"] < alpha:
            said.add(run.text({
                "en": "{name}: chi-square difference {chi} on {df} df, {p}; the restricted model fits "
                      "significantly worse: keep the paths.",
                "zh": "{name}：卡方差 {chi}，自由度 {df}，{p}；去掉路径后模型拟合显著变差：应保留这些路径。"}, **lrt))
        elif test["pvalue"] == test["pvalue"]:
            said.add(run.text({
                "en": "{name}: chi-square difference {chi} on {df} df, {p}; the restricted model fits as well: "
                      "the simpler model will do.",
                "zh": "{name}：卡方差 {chi}，自由度 {df}，{p}；去掉路径后模型拟合同样好：采用更简单的模型即可。"},
                **lrt))
        else:
            said.add(run.text({"en": "{name}: no likelihood-ratio test ({note}).",
                               "zh": "{name}：无法进行似然比检验（{note}）。"}, name=restricted.name,
                              note=i18n.value_label(test["note"], lang)))
        best = pls_tables[-1][pls_tables[-1]["rank"] == 1].iloc[0]
        said.add(run.text({"en": "PLS: the lowest BIC for {construct} is {model}'s (BIC weight {weight}).",
                           "zh": "PLS：{construct}的 BIC 以 {model} 为最低（BIC 权重 {weight}）。"},
                          construct=run.name(index_construct), model=best["model"],
                          weight=f"{best['bic_weight']:.2f}"))
    cb_table = pd.concat(cb_tables, ignore_index=True) if len(cb_tables) > 1 else cb_tables[0]
    pls_table = pd.concat(pls_tables, ignore_index=True) if len(pls_tables) > 1 else pls_tables[0]
    record_frame("model_comparison", cb_table)
    record_frame("model_comparison_pls", pls_table)
    display(said)
    display(run.table(cb_table, 3))
    display(run.table(pls_table, 3))
