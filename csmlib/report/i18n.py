"""Reports in more than one language: English (the default) and Chinese.

Every heading, sentence, table label and chart text a report shows is
written by hand in each language the workbench supports
(:data:`LANGUAGES`) -- never machine-translated -- and rendered through
the one escaping boundary (:func:`csmlib.report.markup.md`): the templates
are the notebook's or this module's own text (trusted); the values that go
into them (construct labels, segment names, numbers) are escaped.

Which language a report is in
-----------------------------
A study file may say ``language: zh`` (or ``en``); without it, reports use
the instrument's ``language`` when it is one of :data:`LANGUAGES`, English
otherwise.  ``csm run`` passes the resolved language to every notebook as
the ``language`` parameter; a notebook run by hand with ``language = ""``
gets the instrument's (:func:`report_language`, also
:attr:`csmlib.run.notebook.Run.language`).

How a notebook writes text in both languages
--------------------------------------------
Give the template in every language, as a literal ``{language: template}``
dict (or the key of a message in :data:`MESSAGES`); values go in through
placeholders, exactly as with :func:`csmlib.report.md`::

    from csmlib.report import i18n
    lang = run.language
    # a heading or a sentence (Markdown, values escaped)
    display(i18n.md(lang, {"en": "## Drivers of {target}", "zh": "## {target}的驱动因素"},
                    target=run.instrument.construct_label(target, lang)))
    # a finding (plain text: Findings escapes it when it renders)
    findings.add(i18n.text(lang, {"en": "{n} complaints.", "zh": "投诉{n}条。"}, n=n))
    # a chart title or axis label (plain text; plots show it as given)
    ax.set_xlabel(i18n.text(lang, {"en": "Importance", "zh": "重要性"}))
    # a table: plain-language column labels in the report's language
    display(report.table(frame.rename(columns=i18n.labels(frame.columns, lang))))

A notebook that opened its run (:func:`csmlib.run.notebook.open_run`) has the
same in the run's language: ``run.md(texts, **values)``, ``run.text(texts,
**values)``, ``run.table(frame, digits)`` (labels, items and constructs of the
run's instrument), ``run.name(code)`` / ``run.names`` (what an item or
construct is called); library sentences take ``language=`` (and ``names=``):
``report.index_finding(..., language=lang)``, ``report.driver_findings(...,
language=lang, names=run.names)``, charts ``base=run.n, wave=run.wave,
language=lang``.  ``tests/test_hostile_text.py`` checks that every
``i18n.md`` / ``i18n.text`` / ``run.md`` / ``run.text`` template in a
notebook is a literal.

A language missing from a template falls back to English (so a study in a
language the template lacks still reads), and a template must always give
English.  Construct labels and question texts come from the instrument in
the report's language (:meth:`csmlib.data.instrument.Instrument.construct_label`,
:meth:`~csmlib.data.instrument.Instrument.text`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from numbers import Number
from typing import Any

from ..errors import CsmError
from .markup import Markdown, md as _md, visible

__all__ = ["LANGUAGES", "DEFAULT_LANGUAGE", "MESSAGES", "COLUMN_LABELS", "SUFFIX_LABELS", "VALUE_LABELS",
           "VALUE_PREFIXES", "check_language", "report_language", "template", "md", "text", "label",
           "labels", "value_label", "CATEGORIES", "category"]

#: languages every report template is written in; the first is the default
LANGUAGES: tuple[str, ...] = ("en", "zh")
DEFAULT_LANGUAGE = "en"

#: A template in every language: ``{"en": "...", "zh": "..."}`` (or a key of :data:`MESSAGES`).
Texts = Mapping[str, str] | str

#: Messages shared by several notebooks and by the library's own sentences,
#: by key: ``{key: {language: template}}``.  Written by hand in each language.
MESSAGES: dict[str, dict[str, str]] = {
    "respondents": {"en": "{n} respondents", "zh": "样本量 {n}"},
    "model": {"en": "model *{model}*", "zh": "模型 *{model}*"},
    "run_heading": {"en": "## {title}\n\n**{n} respondents**.", "zh": "## {title}\n\n**样本量 {n}**。"},
    "run_heading_model": {"en": "## {title}\n\n**{n} respondents**, model *{model}*.",
                          "zh": "## {title}\n\n**样本量 {n}**，模型 *{model}*。"},
    "lavaan_model": {"en": "lavaan model of the study", "zh": "本研究的 lavaan 模型"},
    "suppressed": {
        "en": "{what}: {n} respondents, below the minimum base of {min_base}; results are "
              "suppressed, not estimated.",
        "zh": "{what}：样本量 {n}，低于最低样本量 {min_base}；结果不予估计和报告。"},
    # numbers with intervals and changes (csmlib.report.tables)
    "ci": {"en": "{est} ({interval})", "zh": "{est}（{interval}）"},
    "interval": {"en": "{level}% CI {lower}\u2013{upper}", "zh": "{level}% 置信区间 {lower}\u2013{upper}"},
    "last_wave": {"en": "the last wave", "zh": "上一期"},
    "points": {"en": "points", "zh": "分"},
    "no_comparison": {"en": "no comparison with {since} is available", "zh": "无法与{since}比较"},
    "unchanged": {"en": "unchanged from {since}", "zh": "与{since}持平"},
    "up": {"en": "up {d} {unit} from {since}", "zh": "较{since}上升 {d} {unit}"},
    "down": {"en": "down {d} {unit} from {since}", "zh": "较{since}下降 {d} {unit}"},
    "not_tested": {"en": "{direction} (change not tested)", "zh": "{direction}（变化未经检验）"},
    "significant": {"en": "{direction}, a significant change ({p})", "zh": "{direction}，变化显著（{p}）"},
    "not_significant": {"en": "{direction}, not a significant change ({p})",
                        "zh": "{direction}，变化不显著（{p}）"},
    "index_finding": {"en": "{construct} index {value}.", "zh": "{construct}指数 {value}。"},
    "index_change": {"en": "{construct} index {value}, {change}.", "zh": "{construct}指数 {value}，{change}。"},
    # model fit
    "no_fit": {"en": "No fit indices are available for this model.", "zh": "该模型没有可用的拟合指标。"},
    "robust_index": {"en": "robust {name}", "zh": "稳健 {name}"},
    "scaled_index": {"en": "scaled {name}", "zh": "校正 {name}"},
    "fit_good": {"en": "The model fits the data well ({shown}; all within conventional cut-offs).",
                 "zh": "模型与数据拟合良好（{shown}；均符合常用标准）。"},
    "fit_poor_one": {"en": "The model's fit is questionable: {failed} misses its conventional cut-off ({shown}).",
                     "zh": "模型拟合存疑：{failed}未达到常用标准（{shown}）。"},
    "fit_poor_many": {"en": "The model's fit is questionable: {failed} miss their conventional cut-off "
                            "({shown}).",
                      "zh": "模型拟合存疑：{failed}未达到常用标准（{shown}）。"},
    # drivers
    "driver": {"en": "{construct}: importance {importance} (a one-point gain in {construct} performance "
                     "moves {target} by {importance} points), performance {performance} of 100.",
               "zh": "{construct}：重要性 {importance}（{construct}绩效每提高 1 分，{target}提高 {importance} "
                     "分），绩效 {performance}（满分 100）。"},
    # reliability
    "reliability_none": {"en": "Reliability was not assessed.", "zh": "未评估信度。"},
    "reliability_good": {"en": "Every construct is measured reliably (alpha, rho_A, rho_C and AVE meet their "
                               "thresholds).",
                         "zh": "所有潜变量的测量均可靠（α、rho_A、rho_C 与 AVE 均达到标准）。"},
    "reliability_bad": {"en": "Reliability below the usual thresholds for {constructs}.",
                        "zh": "以下潜变量的信度低于常用标准：{constructs}。"},
    "reliability_which": {"en": "{construct} ({failed})", "zh": "{construct}（{failed}）"},
    # mediation
    "mediation": {"en": "{x} \u2192 {y}: direct {direct}, indirect {indirect}; {words}.",
                  "zh": "{x} \u2192 {y}：直接效应 {direct}，间接效应 {indirect}；{words}。"},
    "mediation_complementary": {
        "en": "complementary (partial) mediation: the indirect and the direct effect are both significant "
              "and point the same way",
        "zh": "互补型（部分）中介：间接效应与直接效应均显著且方向相同"},
    "mediation_competitive": {
        "en": "competitive (partial) mediation: the indirect and the direct effect are both significant "
              "and point in opposite directions",
        "zh": "竞争型（部分）中介：间接效应与直接效应均显著但方向相反"},
    "mediation_indirect-only": {"en": "indirect-only (full) mediation: only the indirect effect is significant",
                                "zh": "仅间接效应（完全中介）：只有间接效应显著"},
    "mediation_direct-only": {"en": "no mediation (direct-only): only the direct effect is significant",
                              "zh": "无中介（仅直接效应）：只有直接效应显著"},
    "mediation_no effect": {"en": "no effect: neither the direct nor the indirect effect is significant",
                            "zh": "无效应：直接效应与间接效应均不显著"},
    # misfit
    "misfit_title": {"en": "Where the model misfits", "zh": "模型拟合欠佳之处"},
    "misfit_=~": {"en": "{rhs} also measuring {lhs}", "zh": "{rhs}在{lhs}上的载荷"},
    "misfit_~~": {"en": "{lhs} and {rhs} sharing variance the model leaves out",
                  "zh": "{lhs}与{rhs}之间的残差协方差"},
    "misfit_~": {"en": "a path from {rhs} to {lhs}", "zh": "从{rhs}到{lhs}的路径"},
    "misfit_mi": {"en": "Modification index {mi} for {lhs} {op} {rhs}: {what} would lower the chi-square by "
                        "about {mi} (expected standardized value {sepc}).",
                  "zh": "{lhs} {op} {rhs} 的修正指数为 {mi}：若加入{what}，卡方约可降低 {mi}（预期标准化值 "
                        "{sepc}）。"},
    "misfit_more": {"en": "Standardized residual {r} for {lhs} with {rhs}: the two items covary more than the "
                          "model implies.",
                    "zh": "{lhs}与{rhs}的标准化残差为 {r}：两题项的协变高于模型的隐含值。"},
    "misfit_less": {"en": "Standardized residual {r} for {lhs} with {rhs}: the two items covary less than the "
                          "model implies.",
                    "zh": "{lhs}与{rhs}的标准化残差为 {r}：两题项的协变低于模型的隐含值。"},
    "misfit_none": {"en": "No modification index above {mi} and no standardized residual beyond {r}: nothing "
                          "points at a missing loading, path or covariance.",
                    "zh": "没有修正指数超过 {mi}，也没有标准化残差超过 {r}：没有迹象表明模型遗漏了载荷、路径或协方差。"},
    "misfit_leads": {"en": "These are leads to review against theory and the questionnaire, not changes: the "
                           "model is estimated as specified.",
                     "zh": "以上仅为需对照理论和问卷加以审视的线索，而非修改：模型按设定估计。"},
    # estimation notes
    "notes_title": {"en": "Estimation notes", "zh": "估计说明"},
    "the_model": {"en": "The model", "zh": "模型"},
    "left_out": {"en": "{method}: {count} respondent(s) left out ({reason}); the estimates rest on {used}.",
                 "zh": "{method}：{count} 位受访者被排除（{reason}）；估计基于 {used} 位受访者。"},
    "mean_replaced": {"en": "{method}: {replaced} missing answer(s){share} replaced by the item mean.",
                      "zh": "{method}：{replaced} 个缺失回答{share}以题项均值替代。"},
    "share_of_answers": {"en": " ({share} of the answers)", "zh": "（占全部回答的 {share}）"},
    "fiml_kept": {"en": "{method}: {kept} respondent(s) with missing answers kept, their answers used by "
                        "full-information ML.",
                  "zh": "{method}：保留了 {kept} 位有缺失回答的受访者，其回答通过完全信息最大似然法使用。"},
    "boot_failed": {"en": "{failed} of {n_boot} bootstrap resamples failed; the intervals rest on the other {ok}.",
                    "zh": "{n_boot} 次自助抽样中有 {failed} 次失败；区间基于其余 {ok} 次。"},
    "boot_flipped": {"en": "{flipped} of {n_boot} bootstrap resamples had an outer weight change sign.",
                     "zh": "{n_boot} 次自助抽样中有 {flipped} 次出现外部权重符号翻转。"},
    "note_sections": {"en": "{note} ({sections})", "zh": "{note}（{sections}）"},
    "missing_title": {"en": "Results missing from the runs", "zh": "运行结果缺失"},
    "not_recorded": {"en": "{where} was not recorded", "zh": "{where} 未被记录"},
    "list_sep": {"en": ", ", "zh": "、"},
    # charts (csmlib.report.plots)
    "chart_base": {"en": "Base: n = {n}", "zh": "样本量：n = {n}"},
    "chart_wave": {"en": "Wave: {wave}", "zh": "调查期：{wave}"},
    "chart_sep": {"en": " \u00b7 ", "zh": " \u00b7 "},
    "axis_importance": {"en": "Importance (unstandardized total effect)", "zh": "重要性（非标准化总效应）"},
    "axis_performance": {"en": "Performance (0-100)", "zh": "绩效（0-100）"},
    "improve_first": {"en": "improve first: high importance, low performance", "zh": "优先改进：重要性高、绩效低"},
    "axis_index": {"en": "Index (0-100)", "zh": "指数（0-100）"},
    "axis_gap": {"en": "Gap: perception - expectation", "zh": "差距：感知 - 期望"},
    "axis_share": {"en": "Share of answers (left: below midpoint, right: above)",
                   "zh": "回答占比（左：低于中点，右：高于中点）"},
    "legend_answer": {"en": "answer", "zh": "回答"},
    "axis_sd": {"en": "{x} (SD)", "zh": "{x}（标准差）"},
    "axis_predicted": {"en": "{y} (SD, predicted)", "zh": "{y}（标准差，预测值）"},
    "slope_line": {"en": "{moderator} at {at} SD (slope {slope})", "zh": "{moderator}为 {at} 个标准差（斜率 {slope}）"},
    "clause_sep": {"en": "; ", "zh": "；"},
}

#: Plain-language labels of the columns csmlib's frames carry, by language.
#: A column not listed keeps its name.
COLUMN_LABELS: dict[str, dict[str, str]] = {
    # lavaan's parameter table, as :func:`csmlib.report.plain_frame` rewords it
    "from": {"en": "From", "zh": "从"},
    "to": {"en": "To", "zh": "到"},
    "with": {"en": "With", "zh": "与"},
    "lhs": {"en": "Left", "zh": "左侧"},
    "rhs": {"en": "Right", "zh": "右侧"},
    "op": {"en": "Kind", "zh": "类型"},
    "label": {"en": "Label", "zh": "标签"},
    "est": {"en": "Estimate", "zh": "估计值"},
    "se": {"en": "Std. error", "zh": "标准误"},
    "z": {"en": "z", "zh": "z"},
    "t": {"en": "t", "zh": "t"},
    "pvalue": {"en": "p", "zh": "p 值"},
    "p": {"en": "p", "zh": "p 值"},
    "ci": {"en": "95% interval", "zh": "95% 置信区间"},
    "ci_lower": {"en": "95% interval: lower", "zh": "95% 置信区间下限"},
    "ci_upper": {"en": "95% interval: upper", "zh": "95% 置信区间上限"},
    "std_all": {"en": "Standardized", "zh": "标准化估计值"},
    "loading": {"en": "Loading", "zh": "载荷"},
    "weight": {"en": "Weight", "zh": "权重"},
    "construct": {"en": "Construct", "zh": "潜变量"},
    "item": {"en": "Item", "zh": "题项"},
    "variable": {"en": "Variable", "zh": "变量"},
    "kind": {"en": "Kind", "zh": "类型"},
    "type": {"en": "Type", "zh": "类型"},
    "effect": {"en": "Effect", "zh": "效应"},
    "path": {"en": "Path", "zh": "路径"},
    "x": {"en": "Cause", "zh": "自变量"},
    "y": {"en": "Outcome", "zh": "因变量"},
    "n_mediators": {"en": "Mediators", "zh": "中介变量个数"},
    "direct": {"en": "Direct effect", "zh": "直接效应"},
    "indirect": {"en": "Indirect effect", "zh": "间接效应"},
    "total": {"en": "Total effect", "zh": "总效应"},
    "significant": {"en": "Significant", "zh": "显著"},
    "r2": {"en": "R²", "zh": "R²"},
    "f2": {"en": "f²", "zh": "f²"},
    "f2_fixed_scores": {"en": "f² (scores held fixed)", "zh": "f²（固定得分）"},
    "size": {"en": "Effect size", "zh": "效应量"},
    "vif": {"en": "VIF", "zh": "方差膨胀因子"},
    "below_ideal": {"en": "Below 3 (ideal)", "zh": "低于 3（理想）"},
    "below_critical": {"en": "Below 5 (critical)", "zh": "低于 5（临界）"},
    # reliability and validity
    "alpha": {"en": "Cronbach's alpha", "zh": "Cronbach's α"},
    "alpha_std": {"en": "Standardized alpha", "zh": "标准化 α"},
    "rho_a": {"en": "rho_A", "zh": "rho_A"},
    "rho_c": {"en": "Composite reliability", "zh": "组合信度"},
    "ave": {"en": "AVE", "zh": "平均方差提取量"},
    "htmt": {"en": "HTMT", "zh": "HTMT"},
    "n_items": {"en": "Items", "zh": "题项数"},
    "mi": {"en": "Modification index", "zh": "修正指数"},
    "epc": {"en": "Expected change", "zh": "预期参数改变"},
    "sepc_lv": {"en": "Expected change (latent std.)", "zh": "预期改变（潜变量标准化）"},
    "sepc_all": {"en": "Expected change (std.)", "zh": "预期改变（完全标准化）"},
    "residual": {"en": "Std. residual", "zh": "标准化残差"},
    # fit
    "index": {"en": "Index", "zh": "指数"},
    "value": {"en": "Value", "zh": "数值"},
    "rule": {"en": "Rule", "zh": "判断标准"},
    "passed": {"en": "Met", "zh": "达标"},
    "df": {"en": "df", "zh": "自由度"},
    # prediction
    "pls_rmse": {"en": "PLS RMSE", "zh": "PLS 均方根误差"},
    "pls_mae": {"en": "PLS MAE", "zh": "PLS 平均绝对误差"},
    "lm_rmse": {"en": "Linear model RMSE", "zh": "线性模型均方根误差"},
    "lm_mae": {"en": "Linear model MAE", "zh": "线性模型平均绝对误差"},
    "q2_predict": {"en": "Q² predict", "zh": "Q² 预测"},
    "pls_below_lm": {"en": "PLS beats linear model", "zh": "PLS 优于线性模型"},
    "benchmark": {"en": "Benchmark", "zh": "基准"},
    "benchmark_loss": {"en": "Benchmark loss", "zh": "基准损失"},
    "pls_loss": {"en": "PLS loss", "zh": "PLS 损失"},
    "pvalue_pls_better": {"en": "p (PLS better)", "zh": "p 值（PLS 更优）"},
    # index and drivers
    "importance": {"en": "Importance", "zh": "重要性"},
    "performance": {"en": "Performance (0-100)", "zh": "绩效（0-100）"},
    "priority": {"en": "Priority", "zh": "优先度"},
    "rank": {"en": "Rank", "zh": "排序"},
    "quadrant": {"en": "Quadrant", "zh": "象限"},
    # bases, items, data quality
    "n": {"en": "Base (n)", "zh": "样本量"},
    "n_eff": {"en": "Effective base", "zh": "有效样本量"},
    "n_missing": {"en": "No answer", "zh": "未作答"},
    "n_complete": {"en": "Complete", "zh": "完整作答"},
    "count": {"en": "Count", "zh": "数量"},
    "share": {"en": "Share", "zh": "占比"},
    "what": {"en": "What", "zh": "内容"},
    "where": {"en": "Where", "zh": "位置"},
    "problem": {"en": "Problem", "zh": "问题"},
    "advice": {"en": "Advice", "zh": "建议"},
    "limit": {"en": "Limit", "zh": "界限"},
    "block": {"en": "Block", "zh": "题组"},
    "straightliners": {"en": "Straight-liners", "zh": "直线作答者"},
    "mean": {"en": "Mean", "zh": "均值"},
    "sd": {"en": "Std. deviation", "zh": "标准差"},
    "skew": {"en": "Skewness", "zh": "偏度"},
    "kurtosis": {"en": "Kurtosis", "zh": "峰度"},
    "share_missing": {"en": "Share missing", "zh": "缺失占比"},
    "scale_min": {"en": "Scale min", "zh": "量表最小值"},
    "scale_max": {"en": "Scale max", "zh": "量表最大值"},
    "top_box": {"en": "Top box", "zh": "顶端选项占比"},
    "bottom_box": {"en": "Bottom box", "zh": "底端选项占比"},
    "note": {"en": "Note", "zh": "说明"},
    # metrics
    "nps": {"en": "NPS", "zh": "净推荐值"},
    "promoters": {"en": "Promoters", "zh": "推荐者"},
    "passives": {"en": "Passives", "zh": "中立者"},
    "detractors": {"en": "Detractors", "zh": "贬损者"},
    "complaints": {"en": "Complaints", "zh": "投诉数"},
    "rate": {"en": "Rate", "zh": "比率"},
    "group": {"en": "Group", "zh": "组别"},
    "diff_vs_rest": {"en": "Difference from the rest", "zh": "与其余组的差异"},
    "pvalue_vs_rest": {"en": "p (vs the rest)", "zh": "p 值（与其余组比较）"},
    # tracking and segments
    "wave": {"en": "Wave", "zh": "调查期"},
    "segment": {"en": "Segment", "zh": "细分群体"},
    "suppressed": {"en": "Suppressed", "zh": "不予报告"},
    "diff": {"en": "Change", "zh": "变化"},
    "est_a": {"en": "Estimate (first)", "zh": "估计值（前）"},
    "est_b": {"en": "Estimate (second)", "zh": "估计值（后）"},
    "verdict": {"en": "Verdict", "zh": "结论"},
    "invariance": {"en": "Invariance", "zh": "不变性"},
    "configural": {"en": "Configural", "zh": "形态不变"},
    "compositional": {"en": "Compositional", "zh": "组合不变"},
    "equal_means": {"en": "Equal means", "zh": "均值相等"},
    "equal_variances": {"en": "Equal variances", "zh": "方差相等"},
    # planning (csmlib.analysis.planning)
    "n_scored": {"en": "Respondents with an index score", "zh": "有指数得分的受访者"},
    "detectable_change": {"en": "Detectable change (points)", "zh": "可检测的最小变化（分）"},
    "n_needed": {"en": "Base needed per wave", "zh": "每期所需样本量"},
    "min_n_inverse_sqrt": {"en": "Minimum base (inverse square root)", "zh": "最小样本量（逆平方根法）"},
    "enough_now": {"en": "Base enough now", "zh": "当前样本量足够"},
    "true": {"en": "Population value", "zh": "总体真值"},
    "mean_est": {"en": "Mean estimate", "zh": "平均估计值"},
    "power": {"en": "Power", "zh": "检验力"},
    "n_failed": {"en": "Failed samples", "zh": "估计失败的样本数"},
    # model comparison (csmlib.analysis.compare)
    "model": {"en": "Model", "zh": "模型"},
    "estimator": {"en": "Estimator", "zh": "估计方法"},
    "npar": {"en": "Parameters", "zh": "参数个数"},
    "chisq": {"en": "Chi-square", "zh": "卡方"},
    "chisq_pvalue": {"en": "p (chi-square)", "zh": "卡方检验 p 值"},
    "chisq_scaled": {"en": "Scaled chi-square", "zh": "校正卡方"},
    "scaling_factor": {"en": "Scaling factor", "zh": "校正因子"},
    "chisq_diff": {"en": "Chi-square difference", "zh": "卡方差"},
    "df_diff": {"en": "df difference", "zh": "自由度差"},
    "rmsea_diff": {"en": "RMSEA of the difference", "zh": "差异的 RMSEA"},
    "test": {"en": "Test", "zh": "检验方法"},
    "nested": {"en": "Nesting", "zh": "嵌套关系"},
    "k": {"en": "Parameters (k)", "zh": "参数个数（k）"},
    "aic": {"en": "AIC", "zh": "AIC"},
    "aicc": {"en": "AICc", "zh": "AICc"},
    "bic": {"en": "BIC", "zh": "BIC"},
    "hq": {"en": "HQ", "zh": "HQ"},
    "gm": {"en": "GM", "zh": "GM"},
    "cfi": {"en": "CFI", "zh": "CFI"},
    "tli": {"en": "TLI", "zh": "TLI"},
    "rmsea": {"en": "RMSEA", "zh": "RMSEA"},
    "srmr": {"en": "SRMR", "zh": "SRMR"},
    "delta_bic": {"en": "BIC difference", "zh": "BIC 差值"},
    "bic_weight": {"en": "BIC weight", "zh": "BIC 权重"},
    # SERVQUAL
    "level": {"en": "Level", "zh": "层级"},
    "name": {"en": "Name", "zh": "名称"},
    "gap": {"en": "Gap", "zh": "差距"},
    "expectation": {"en": "Expectation", "zh": "期望"},
    "perception": {"en": "Perception", "zh": "感知"},
    # complaint logs (csmlib.analysis.complaints)
    "period": {"en": "Period", "zh": "期间"},
    "complete": {"en": "Complete period", "zh": "完整期间"},
    "category": {"en": "Category", "zh": "类别"},
    "channel": {"en": "Channel", "zh": "渠道"},
    "cumulative_share": {"en": "Cumulative share", "zh": "累计占比"},
    "vital_few": {"en": "Vital few", "zh": "关键少数"},
    "closed": {"en": "Closed", "zh": "已关闭"},
    "open": {"en": "Open", "zh": "未关闭"},
    "median_hours": {"en": "Median hours", "zh": "中位处理时长（小时）"},
    "p90_hours": {"en": "90% within hours", "zh": "90%处理时长（小时）"},
    "within_sla_share": {"en": "Within SLA", "zh": "SLA内解决占比"},
    "open_over_sla": {"en": "Open past SLA", "zh": "超过SLA仍未关闭"},
    "reopen_rate": {"en": "Reopened", "zh": "重开率"},
    "chi2": {"en": "Chi-square", "zh": "卡方"},
    "periods": {"en": "Periods", "zh": "期间数"},
    "groups": {"en": "Groups", "zh": "组数"},
    "cramers_v": {"en": "Cramer's V", "zh": "克莱姆V"},
    "min_expected": {"en": "Smallest expected count", "zh": "最小期望频数"},
    "outcome": {"en": "Item", "zh": "题目"},
    "handling": {"en": "Complaint handling", "zh": "投诉处理"},
    "welch_f": {"en": "Welch F", "zh": "Welch F 值"},
    "df1": {"en": "df1", "zh": "自由度1"},
    "df2": {"en": "df2", "zh": "自由度2"},
    # recovery_test: "late" names its late_ci_lower / late_ci_upper / late_pvalue
    "late_minus_within": {"en": "Late minus within SLA", "zh": "超时减SLA内"},
    "late": {"en": "Late minus within SLA", "zh": "超时减SLA内"},
    # open-ended feedback (csmlib.analysis.feedback; the notebook names n "answers", label "top_terms")
    "top_terms": {"en": "Top terms", "zh": "关键词"},
    "terms": {"en": "Most characteristic terms", "zh": "最具代表性的词"},
    "lang": {"en": "Language", "zh": "语言"},
    "answers": {"en": "Answers", "zh": "回答数"},
    "coherence": {"en": "Coherence (NPMI)", "zh": "一致性（NPMI）"},
    "mean_satisfaction": {"en": "Mean satisfaction (0-100)", "zh": "平均满意度（0-100）"},
    "others_mean": {"en": "Others' mean", "zh": "其他受访者均值"},
    "diff_vs_others": {"en": "Difference from the others", "zh": "与其他受访者的差异"},
    "quote": {"en": "Example answer (masked)", "zh": "示例回答（已去除个人信息）"},
    # open-ended feedback by wave (csmlib.analysis.feedback.theme_change)
    "theme": {"en": "Theme", "zh": "主题"},
    "wave_a": {"en": "Earlier wave", "zh": "上一期"},
    "wave_b": {"en": "This wave", "zh": "本期"},
    "n_a": {"en": "Answers (earlier wave)", "zh": "回答数（上一期）"},
    "n_b": {"en": "Answers (this wave)", "zh": "回答数（本期）"},
    "share_a": {"en": "Share (earlier wave)", "zh": "占比（上一期）"},
    "share_b": {"en": "Share (this wave)", "zh": "占比（本期）"},
    # improvement actions (csmlib.analysis.actions)
    "action": {"en": "Action", "zh": "行动"},
    "owner": {"en": "Owner", "zh": "负责部门"},
    "target": {"en": "Target", "zh": "目标指标"},
    "baseline_wave": {"en": "Baseline wave", "zh": "基线期"},
    "due_wave": {"en": "Due", "zh": "截止期"},
    "target_value": {"en": "Target value", "zh": "目标值"},
    "baseline": {"en": "Baseline", "zh": "基线值"},
    "measured_wave": {"en": "Measured in", "zh": "测量期"},
    "status": {"en": "Status", "zh": "状态"},
}

#: The fixed words csmlib's frames carry in text cells (IPMA quadrants,
#: effect sizes, verdicts, data-quality problems ...), by language: a cell
#: holding exactly one of these shows it in the report's language.
VALUE_LABELS: dict[str, dict[str, str]] = {
    "concentrate here": {"en": "concentrate here", "zh": "重点改进"},
    "keep up the good work": {"en": "keep up the good work", "zh": "继续保持"},
    "low priority": {"en": "low priority", "zh": "低优先级"},
    "possible overkill": {"en": "possible overkill", "zh": "可能过度投入"},
    "large": {"en": "large", "zh": "大"},
    "medium": {"en": "medium", "zh": "中"},
    "small": {"en": "small", "zh": "小"},
    "negligible": {"en": "negligible", "zh": "可忽略"},
    "outer": {"en": "outer", "zh": "测量模型"},
    "inner": {"en": "inner", "zh": "结构模型"},
    "above": {"en": "above", "zh": "高于"},
    "below": {"en": "below", "zh": "低于"},
    "not different": {"en": "not different", "zh": "无显著差异"},
    "index": {"en": "index", "zh": "指数"},
    "path": {"en": "path", "zh": "路径"},
    "full": {"en": "full", "zh": "完全"},
    "partial": {"en": "partial", "zh": "部分"},
    "none": {"en": "none", "zh": "无"},
    "direct": {"en": "direct", "zh": "直接效应"},
    "total indirect": {"en": "total indirect", "zh": "总间接效应"},
    "total": {"en": "total", "zh": "总效应"},
    "complementary": {"en": "complementary", "zh": "互补型中介"},
    "competitive": {"en": "competitive", "zh": "竞争型中介"},
    "indirect-only": {"en": "indirect-only", "zh": "仅间接效应"},
    "direct-only": {"en": "direct-only", "zh": "仅直接效应"},
    "no effect": {"en": "no effect", "zh": "无效应"},
    "overall": {"en": "overall", "zh": "总体"},
    "all": {"en": "all", "zh": "全部"},
    # model comparison (csmlib.analysis.compare: test, nested)
    "chi-square difference": {"en": "chi-square difference", "zh": "卡方差检验"},
    "Satorra-Bentler 2001 scaled difference": {"en": "Satorra-Bentler 2001 scaled difference",
                                               "zh": "Satorra-Bentler（2001）校正卡方差检验"},
    "checked": {"en": "checked", "zh": "已检验"},
    "assumed": {"en": "assumed", "zh": "假定"},
    "no": {"en": "no", "zh": "否"},
    # model comparison notes (csmlib.analysis.compare: note; several are joined by "; ")
    "not all models converged": {"en": "not all models converged", "zh": "并非所有模型都已收敛"},
    "nesting assumed (ordered by degrees of freedom, as lavaan)": {
        "en": "nesting assumed (ordered by degrees of freedom, as lavaan)",
        "zh": "假定嵌套（按自由度排序，与 lavaan 相同）"},
    "nesting could not be checked (the general model did not fit the restricted model's moments); the test "
    "assumes it, as lavaan does": {
        "en": "nesting could not be checked (the general model did not fit the restricted model's moments); the "
              "test assumes it, as lavaan does",
        "zh": "无法检验嵌套关系（一般模型未能拟合受限模型所隐含的矩）；检验与 lavaan 一样假定嵌套成立"},
    "the restricted model fits better: the models are not nested, or the less restricted one missed its optimum": {
        "en": "the restricted model fits better: the models are not nested, or the less restricted one missed "
              "its optimum",
        "zh": "受限模型的拟合反而更好：两个模型并不嵌套，或约束较少的模型未收敛到最优解"},
    "the scaling factor of the difference is negative: no scaled test (compare AIC and BIC, or collect more "
    "data)": {
        "en": "the scaling factor of the difference is negative: no scaled test (compare AIC and BIC, or collect "
              "more data)",
        "zh": "差异的校正因子为负：无法进行校正检验（请比较 AIC 与 BIC，或收集更多数据）"},
    "a model is not identified (negative degrees of freedom): no test": {
        "en": "a model is not identified (negative degrees of freedom): no test",
        "zh": "有模型无法识别（自由度为负）：不做检验"},
    "equal degrees of freedom: the models are either equivalent or not nested, and a difference test has no "
    "degrees of freedom": {
        "en": "equal degrees of freedom: the models are either equivalent or not nested, and a difference test "
              "has no degrees of freedom",
        "zh": "两个模型的自由度相同：它们或者等价，或者并不嵌套，差异检验没有自由度"},
    "missing values (listwise deletion)": {"en": "missing values (listwise deletion)", "zh": "缺失值（列表删除）"},
    "no item answered": {"en": "no item answered", "zh": "未回答任何题项"},
    "all items missing": {"en": "all items missing", "zh": "所有题项缺失"},
    "not selected": {"en": "not selected", "zh": "未入选"},
    "empty row (no value in any column)": {"en": "empty row (no value in any column)", "zh": "空行（所有列均无值）"},
    "data quality": {"en": "data quality", "zh": "数据质量"},
    "measurement": {"en": "measurement", "zh": "测量模型"},
    "structural": {"en": "structural", "zh": "结构模型"},
    "index drivers": {"en": "index drivers", "zh": "指数与驱动因素"},
    "complaints loyalty": {"en": "complaints loyalty", "zh": "投诉与忠诚度"},
    "tracking": {"en": "tracking", "zh": "跟踪"},
    "feedback": {"en": "feedback", "zh": "开放式反馈"},
    "complaints log": {"en": "complaints log", "zh": "投诉记录"},
    "study design": {"en": "study design", "zh": "研究设计"},
    "gaps": {"en": "gaps", "zh": "服务质量差距"},
    "did not complain": {"en": "did not complain", "zh": "未投诉"},
    "complained": {"en": "complained", "zh": "投诉过"},
    "rows read": {"en": "rows read", "zh": "读取行数"},
    "rows kept": {"en": "rows kept", "zh": "保留行数"},
    "all items": {"en": "all items", "zh": "全部题项"},
    "many missing answers": {"en": "many missing answers", "zh": "缺失回答较多"},
    "no variance": {"en": "no variance", "zh": "无变异"},
    "ceiling effect": {"en": "ceiling effect", "zh": "天花板效应"},
    "floor effect": {"en": "floor effect", "zh": "地板效应"},
    "straight-lining": {"en": "straight-lining", "zh": "直线作答"},
    "check routing and the missing codes; consider FIML": {
        "en": "check routing and the missing codes; consider FIML",
        "zh": "检查跳题逻辑与缺失值编码；可考虑完全信息最大似然法（FIML）"},
    "drop the item: it carries no information": {"en": "drop the item: it carries no information",
                                                 "zh": "删除该题项：它不提供任何信息"},
    "the scale cannot show improvement; interpret the index with care": {
        "en": "the scale cannot show improvement; interpret the index with care",
        "zh": "量表无法体现改进空间；解读指数时需谨慎"},
    "check the item's wording and reverse coding": {"en": "check the item's wording and reverse coding",
                                                    "zh": "检查题项措辞与反向计分"},
    # complaint handling (csmlib.analysis.complaints.GROUPS)
    "no complaint": {"en": "no complaint", "zh": "未投诉"},
    "resolved within SLA": {"en": "resolved within SLA", "zh": "SLA内解决"},
    "resolved late": {"en": "resolved late", "zh": "超时解决"},
    "unresolved": {"en": "unresolved", "zh": "未解决"},
    # an improvement action's status (csmlib.analysis.actions.action_status)
    "met": {"en": "met", "zh": "已达成"},
    "not met": {"en": "not met", "zh": "未达成"},
    "not yet due": {"en": "not yet due", "zh": "未到期"},
    "not measurable": {"en": "not measurable", "zh": "无法衡量"},
    "inspect these interviews; consider excluding inattentive responses": {
        "en": "inspect these interviews; consider excluding inattentive responses",
        "zh": "检查这些访问；可考虑剔除不认真作答的回答"},
}

#: Labels of derived columns: ``<column><suffix>`` reads as the column's
#: label with these words (``direct_se``: "Direct effect: std. error").
SUFFIX_LABELS: dict[str, dict[str, str]] = {
    "_se": {"en": "{x}: std. error", "zh": "{x}标准误"},
    "_z": {"en": "{x}: z", "zh": "{x} z 值"},
    "_pvalue": {"en": "{x}: p", "zh": "{x} p 值"},
    "_ci": {"en": "{x}: 95% interval", "zh": "{x} 95% 置信区间"},
    "_ci_lower": {"en": "{x}: 95% lower", "zh": "{x} 95% 下限"},
    "_ci_upper": {"en": "{x}: 95% upper", "zh": "{x} 95% 上限"},
    "_ok": {"en": "{x}: met", "zh": "{x}达标"},
    "_adj": {"en": "{x} (adjusted for multiplicity)", "zh": "{x}（多重比较校正后）"},
}


def check_language(language: str, *, where: str = "language") -> str:
    """``language`` if it is one of :data:`LANGUAGES`.

    Raises
    ------
    CsmError
        Naming the language given and the languages there are.
    """
    if language not in LANGUAGES:
        raise CsmError(f"{where}: reports cannot be written in {language!r}", values=[language],
                       hint=f"use one of {', '.join(LANGUAGES)} (or leave it out for the instrument's "
                            "language)")
    return language


def report_language(language: str | None = "", instrument: Any = None) -> str:
    """The language a report is written in.

    Parameters
    ----------
    language : str
        The ``language`` parameter (``""`` or None: not given).
    instrument : Instrument, optional
        Its ``language`` is used when ``language`` is not given (its main
        subtag: ``zh-CN`` reads as ``zh``); one that no template is written
        in gives English.

    Returns
    -------
    str
        One of :data:`LANGUAGES`.

    Raises
    ------
    CsmError
        ``language`` is given and is not one of :data:`LANGUAGES`.
    """
    if language:
        return check_language(str(language))
    own = str(getattr(instrument, "language", "") or "").replace("_", "-").split("-")[0].lower()
    return own if own in LANGUAGES else DEFAULT_LANGUAGE


def template(texts: Texts, language: str) -> str:
    """The template of ``texts`` in ``language`` (English when it lacks that language).

    Parameters
    ----------
    texts : dict or str
        ``{language: template}`` (must give ``"en"``), or a key of :data:`MESSAGES`.
    language : str

    Returns
    -------
    str
        A template for :func:`csmlib.report.md` (trusted text).
    """
    if isinstance(texts, str):
        if texts not in MESSAGES:
            raise CsmError(f"no message {texts!r} in csmlib.report.i18n.MESSAGES", values=[texts],
                           hint="give the template in every language as a dict, or add the message")
        texts = MESSAGES[texts]
    if DEFAULT_LANGUAGE not in texts:
        raise CsmError("a report template must give its English text", values=sorted(texts),
                       hint='write {"en": "...", "zh": "..."}')
    return texts.get(language, texts[DEFAULT_LANGUAGE])


def md(language: str, texts: Texts, /, **values: Any) -> Markdown:
    """Markdown in the report's language, every value escaped
    (:func:`csmlib.report.md` of :func:`template`).

    Returns
    -------
    csmlib.report.Markdown
    """
    return _md(template(texts, language), **values)


def text(language: str, texts: Texts, /, **values: Any) -> str:
    """Plain text in the report's language: a finding (:class:`csmlib.report.Findings`
    escapes it where it renders), a chart title or axis label, a table cell.

    Values are formatted into the template (:meth:`str.format` syntax) with
    control and invisible characters shown as ``\\uXXXX``; nothing is
    escaped for markup -- render the result through the boundary.

    Returns
    -------
    str
    """
    return template(texts, language).format(**{k: v if isinstance(v, Number) else visible(v)
                                               for k, v in values.items()})


def label(column: object, language: str) -> str:
    """The plain-language label of a column (:data:`COLUMN_LABELS`, a
    derived column by :data:`SUFFIX_LABELS`), or its name."""
    name = str(column)
    if name in COLUMN_LABELS:
        return template(COLUMN_LABELS[name], language)
    for suffix in sorted(SUFFIX_LABELS, key=len, reverse=True):
        base = name[:-len(suffix)]
        if name.endswith(suffix) and base in COLUMN_LABELS:
            return template(SUFFIX_LABELS[suffix], language).format(x=label(base, language))
    return name


#: prefixes of text cells made of a fixed word and a value (``"dropped: <reason>"``)
VALUE_PREFIXES: dict[str, dict[str, str]] = {
    "dropped: ": {"en": "dropped: {x}", "zh": "剔除：{x}"},
}


def value_label(value: object, language: str) -> object:
    """A text cell in ``language`` when it is one of :data:`VALUE_LABELS`, several
    of them joined by ``"; "`` (each shown, joined as the language joins clauses),
    or starts with one of :data:`VALUE_PREFIXES`; anything else as it is."""
    if not isinstance(value, str):
        return value
    for prefix, texts in VALUE_PREFIXES.items():
        if value.startswith(prefix):
            return template(texts, language).format(x=value_label(value[len(prefix):], language))
    texts = VALUE_LABELS.get(value)
    if texts is not None:
        return template(texts, language)
    parts = _known_clauses(value)
    if parts is None:
        return value
    return template(MESSAGES["clause_sep"], language).join(template(VALUE_LABELS[p], language) for p in parts)


def _known_clauses(value: str) -> list[str] | None:
    """``value`` split into :data:`VALUE_LABELS` joined by ``"; "`` (a label may
    itself hold ``"; "``), or None when it is not made of them only."""
    if value in VALUE_LABELS:
        return [value]
    for key in VALUE_LABELS:
        if value.startswith(key + "; "):
            rest = _known_clauses(value[len(key) + 2:])
            if rest is not None:
                return [key, *rest]
    return None


def labels(columns: Iterable[object], language: str) -> dict[object, str]:
    """``{column: label}`` for :meth:`pandas.DataFrame.rename` (:func:`label` of each)."""
    return {c: label(c, language) for c in columns}


#: Recorded categories a report shows as words (verdicts of a league table,
#: change flags, IPMA quadrants), by language; a value not listed shows as it is.
CATEGORIES: dict[str, dict[str, str]] = {
    "above": {"en": "above", "zh": "高于总体"},
    "below": {"en": "below", "zh": "低于总体"},
    "not different": {"en": "not different", "zh": "无显著差异"},
    "up": {"en": "up", "zh": "上升"},
    "down": {"en": "down", "zh": "下降"},
    "no change": {"en": "no change", "zh": "无显著变化"},
    "concentrate here": {"en": "concentrate here", "zh": "重点改进"},
    "keep up the good work": {"en": "keep up the good work", "zh": "继续保持"},
    "low priority": {"en": "low priority", "zh": "次要"},
    "possible overkill": {"en": "possible overkill", "zh": "可能投入过度"},
}


def category(value: object, language: str) -> object:
    """A recorded category (:data:`CATEGORIES`) in ``language``; any other value unchanged."""
    return template(CATEGORIES[value], language) if isinstance(value, str) and value in CATEGORIES else value
