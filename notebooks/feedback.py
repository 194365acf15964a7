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
# %matplotlib inline
import pandas as pd
from IPython.display import display

import csmlib as csm
from csmlib import report
from csmlib.analysis import feedback
from csmlib.analysis.index import ipma_scores
from csmlib.report import i18n
from csmlib.report.record import record, record_frame
from csmlib.run.notebook import open_run, record_notes

# %% tags=["parameters"]
# Parameters (csm run injects these; the defaults run the bundled demo study's first wave)
study: str = "demo-acsi"  # study name, shown in titles
wave: str = "2026Q1"  # wave label
previous_wave: str = ""  # label of the previous wave ("" for the first)
segment: str = "all"  # "all" or a segment label
segment_column: str = ""  # column holding the segments ("" for none)
segment_value: object = None  # the segment's value in the data (None for "all")
data_path: str = "../data/demo/wave1.csv"  # survey file of this wave
data_encoding: str = ""  # text encoding of the survey file ("" for UTF-8)
data_sheet: object = ""  # Excel sheet name or 0-based number ("" for the first sheet)
instrument_path: str = "../data/demo/instrument.yml"  # instrument (codebook) YAML
model: str = "acsi"  # a csm.models name or lavaan model text
results_path: str = ""  # where recorded results go ("" keeps them in memory)
previous_results_path: str = ""  # the previous wave's recorded results ("" for none)
min_base: int = 30  # bases below this are suppressed, not estimated
language: str = ""  # report language: "en" or "zh" ("" for the instrument's language)
seed: int = 20260101  # seed of the theme factorisation
scheme: str = "path"  # PLS inner weighting scheme (for the satisfaction scores)
pls_missing: str = "mean"  # PLS with missing answers: "mean" or "listwise"
text_item: str = "improve"  # the open-ended question: a text item of the instrument
satisfaction_construct: str = "Satisfaction"  # construct whose 0-100 score is compared between themes
n_themes: int = 0  # number of themes (0: chosen by the coverage rule)
n_quotes: int = 3  # example answers per theme, masked (0 for none)
multiplicity: str = "holm"  # adjustment of the themes' tests of change: holm, fdr_bh or none

# %%
run = open_run(data_path, instrument_path, model=model, segment=segment,
               segment_column=segment_column, results_path=results_path,
               previous_results_path=previous_results_path, min_base=min_base,
               study=study, wave=wave, data_encoding=data_encoding, data_sheet=data_sheet,
               segment_value=segment_value, language=language)
lang = run.language
display(run.md({
    "en": "# Open-ended feedback\n\nWhat customers say in their own words, grouped into themes: how often each "
          "theme comes up (overall and by segment), how satisfied the customers who raise it are, and a few "
          "example answers -- masked, and only those that hold no identifier or name as far as the checks "
          "can tell.",
    "zh": "# 开放式反馈\n\n顾客用自己的话说了什么：按主题归类，列出每个主题出现的比例（总体及分群）、"
          "提及该主题的顾客的满意度，以及少量示例回答——示例已去除个人信息，且只引用检查后不含联系方式、"
          "证件号或姓名的回答。"}))
display(run.heading())
inst = run.survey.instrument
findings = report.Findings(title=i18n.text(lang, {"en": "Key findings", "zh": "主要发现"}))
# the tables' columns under the catalogue's names (csmlib.report.i18n labels them in the report's language)
AS_CATALOGUE = {"label": "top_terms", "n": "answers", "mean": "mean_satisfaction", "diff": "diff_vs_others"}


texts = None
n_answers = 0
if text_item in inst.text_names:
    texts = run.survey.texts[text_item]
    n_answers = int(texts.notna().sum())
    record("n_answers", n_answers)
    display(i18n.md(lang, {"en": "Question: *{question}* -- {n} of {total} respondents answered.",
                           "zh": "问题：*{question}*——{total} 位受访者中有 {n} 位作答。"},
                    question=inst.text_item(text_item).text_in(lang, inst.language) or text_item,
                    n=n_answers, total=run.n))
else:
    display(i18n.md(lang, {"en": "The instrument declares no text item *{item}*: nothing to analyse.",
                           "zh": "问卷中没有开放题 *{item}*，无可分析内容。"}, item=text_item))

# %%
display(i18n.md(lang, {"en": "## Themes", "zh": "## 主题"}))
themes = None
if texts is not None and not run.suppressed and n_answers < min_base:
    display(i18n.md(lang, "suppressed", what=i18n.text(lang, {"en": "Open-ended answers", "zh": "开放题回答"}),
                    n=n_answers, min_base=min_base))
elif texts is not None and not run.suppressed:
    # the respondents' own names (read from the raw file, held in memory only) are never
    # used as terms or quoted
    names = feedback.names_in_file(data_path, inst, sheet=data_sheet if data_sheet != "" else None,
                                   encoding=data_encoding or None)
    themes = feedback.themes(texts, lang=inst.text_item(text_item).language,
                             n_themes=n_themes or None, seed=seed, names=names)
    table = pd.DataFrame(themes[["theme", "label", "lang", "n", "share", "coherence"]])
    record_frame("themes", table)
    terms = pd.DataFrame([{"theme": t, "rank": r + 1, "term": w}
                          for t, words in zip(themes["theme"], themes["terms"]) for r, w in enumerate(words)])
    record_frame("theme_terms", terms)
    coverage = dict(k=len(themes), covered=float(themes["share"].sum()), n=n_answers)
    if n_themes:   # the number given: the report says so (in Chinese too)
        display(i18n.md(lang, {"en": "{k} theme(s) hold {covered:.0%} of the {n} answers; the rest raise no common "
                                     "theme.  The number of themes was given (n_themes = {given}).",
                               "zh": "{k} 个主题涵盖了 {n} 条回答中的 {covered:.0%}；其余回答没有共同主题。"
                                     "主题数由参数 n_themes 指定（{given}）。"}, given=n_themes, **coverage))
    else:
        display(i18n.md(lang, {"en": "{k} theme(s) hold {covered:.0%} of the {n} answers; the rest raise no common "
                                     "theme.  How the number was chosen: {rule}.",
                               "zh": "{k} 个主题涵盖了 {n} 条回答中的 {covered:.0%}；其余回答没有共同主题。"
                                     "主题数按覆盖率规则确定（每增加一个主题须使覆盖的回答至少增加两倍最小占比）。"},
                        rule=themes.n_themes_rule, **coverage))
    shown = table.assign(terms=[" · ".join(t) for t in themes["terms"]]).drop(columns="label")
    display(run.table(shown.rename(columns=AS_CATALOGUE), 3))
    if len(themes):
        top = themes.iloc[0]
        findings.add(i18n.text(lang, {"en": "The most frequent theme ({label}) comes up in {share:.0%} of the answers.",
                                      "zh": "最常见的主题（{label}）出现在 {share:.0%} 的回答中。"},
                               label=top["label"], share=float(top["share"])))
    else:
        findings.add(i18n.text(lang, {"en": "No theme is shared by at least {m:.0%} of the answers.",
                                      "zh": "没有任何主题出现在至少 {m:.0%} 的回答中。"}, m=feedback.MIN_SHARE))

# %%
display(i18n.md(lang, {"en": "## Satisfaction of those who raise each theme",
                       "zh": "## 提及各主题的顾客满意度"}))
if themes is not None and len(themes) and run.spec is not None \
        and satisfaction_construct in run.spec.construct_names:
    pls = run.fit_pls(scheme=scheme, missing=pls_missing, weights=inst.weight_column)   # shared with index_drivers
    notes = record_notes(pls, language=lang)
    if notes:
        display(notes)
    scores, _, _ = ipma_scores(pls)     # 0-100 construct scores of each respondent
    sat = scores[satisfaction_construct].reindex(texts.index)
    by_theme = feedback.theme_scores(themes, sat, min_base=min_base)
    record_frame("theme_scores", by_theme)
    display(run.table(by_theme.rename(columns=AS_CATALOGUE), 2))
    low = by_theme[(by_theme["pvalue"] < 0.05) & (by_theme["diff"] < 0)].sort_values("diff")
    if len(low):
        row = low.iloc[0]
        findings.add(i18n.text(lang, {"en": "Customers who raise {label} are less satisfied: {mean:.1f} against "
                                            "{others:.1f} (0-100, {p}).",
                                      "zh": "提及“{label}”的顾客满意度较低：{mean:.1f}，其他顾客为 {others:.1f}"
                                            "（0-100，{p}）。"},
                               label=row["label"], mean=float(row["mean"]), others=float(row["others_mean"]),
                               p=report.fmt_p(row["pvalue"])))
else:
    display(i18n.md(lang, {"en": "Not shown: no themes, or the model has no construct *{c}*.",
                           "zh": "未显示：没有主题，或模型中没有构念 *{c}*。"}, c=satisfaction_construct))

# %%
display(i18n.md(lang, {"en": "## Themes by segment", "zh": "## 各分群的主题占比"}))
if themes is not None and len(themes) and segment == "all" and segment_column \
        and segment_column in run.survey.data.columns:
    shares = feedback.theme_shares(themes, run.survey.data[segment_column].reindex(texts.index),
                                   min_base=min_base)
    record_frame("theme_shares", shares)
    wide = shares.pivot(index="label", columns="group", values="share")
    display(run.table(wide.rename_axis(index="top_terms"), 3))
    display(i18n.md(lang, {"en": "Share of each segment's answers; segments with fewer than {m} answers are "
                                 "suppressed (a dash).",
                           "zh": "各分群回答中的占比；回答少于 {m} 条的分群不予报告（以短横线表示）。"}, m=min_base))
else:
    display(i18n.md(lang, {"en": "Shown for the whole sample of a study with segments.",
                           "zh": "仅在有分群的研究中对全样本显示。"}))

# %%
display(i18n.md(lang, {"en": "## Themes wave over wave", "zh": "## 各期的主题"}))
if themes is not None and len(themes):
    # each wave finds its own themes; a theme continues an earlier wave's when their top terms overlap
    by_wave = feedback.theme_waves(themes, wave, run.previous_frame("theme_waves"))
    record_frame("theme_waves", by_wave)
    change = feedback.theme_change(by_wave, min_base=min_base, multiplicity=multiplicity)
    if len(change):
        record_frame("theme_change", change)
        display(run.table(by_wave.pivot(index="theme", columns="wave", values="share")
                          .reindex(columns=list(dict.fromkeys(by_wave["wave"]))), 3))
        row = change.iloc[0]
        display(i18n.md(lang, {
            "en": "Share of the answers with each theme, by wave.  A theme is tracked under the name it had "
                  "when it first came up, and continues an earlier wave's theme when at least a third of their "
                  "top terms are the same (a dash: no theme of its own that wave).  The change from {a} to {b}, "
                  "with its interval and a test adjusted for the number of themes ({method}):",
            "zh": "各期回答中提及各主题的占比。主题沿用其首次出现时的名称；若与之前某期主题的关键词至少三分之一相同，"
                  "则视为同一主题（短横线表示该期没有这一主题）。{a}到{b}的变化，附置信区间和按主题数校正的检验（{method}）："},
            a=row["wave_a"], b=row["wave_b"], method=multiplicity))
        display(run.table(change.drop(columns=["label", "wave_a", "wave_b", "se"]), 3))
        for r in change[change["pvalue_adj"] < 0.05].itertuples():
            said = dict(theme=r.theme, a=f"{r.share_a:.0%}", b=f"{r.share_b:.0%}", since=r.wave_a,
                        p=report.fmt_p(r.pvalue_adj))
            if r.diff > 0:
                findings.add(i18n.text(lang, {
                    "en": "The theme {theme} rose from {a} to {b} of the answers since {since} ({p}, adjusted).",
                    "zh": "主题“{theme}”的占比自{since}以来由{a}上升到{b}（{p}，已校正）。"}, **said))
            else:
                findings.add(i18n.text(lang, {
                    "en": "The theme {theme} fell from {a} to {b} of the answers since {since} ({p}, adjusted).",
                    "zh": "主题“{theme}”的占比自{since}以来由{a}下降到{b}（{p}，已校正）。"}, **said))
    else:
        display(i18n.md(lang, {"en": "No earlier wave's themes are recorded: the change is shown from the next wave on.",
                               "zh": "没有之前各期的主题记录：从下一期起显示变化。"}))
else:
    display(i18n.md(lang, {"en": "No themes this wave.", "zh": "本期没有主题。"}))

# %%
display(i18n.md(lang, {"en": "## Example answers", "zh": "## 示例回答"}))
if themes is not None and len(themes) and n_quotes > 0:
    quotes = feedback.example_quotes(themes, texts, n=n_quotes, names=names)
    shown = quotes[["theme", "label", "quote"]].rename(columns=AS_CATALOGUE)
    # answers as written: no cell reworded (English table words), the columns labelled in the report's language
    display(report.table(shown.rename(columns=i18n.labels(shown.columns, lang)), 0))
display(i18n.md(lang, {
    "en": "Answers are masked before they are quoted (e-mail addresses, phone numbers, Chinese mobile, "
          "landline and identity numbers, IP addresses), and an answer is not quoted at all when it still "
          "holds a long number (also in Chinese numerals), an @ (also spelled out), a respondent's own name, a capitalised word inside an English "
          "sentence, or a Chinese name as far as the word segmenter can tell.  Names written in lower case "
          "and unusual Chinese names without a title are not caught: read the quotes before you pass the "
          "report on.",
    "zh": "引用前先去除电子邮件、电话号码（含中国手机号和座机）、身份证号和IP地址；若回答中仍有较长数字（含中文数字）、@（含拼写形式）、"
          "受访者本人姓名、英文句中的大写词或分词器识别出的中文姓名，则不引用。小写书写的姓名和不带称谓的"
          "罕见中文姓名无法识别：转发报告前请先通读示例回答。"}))

# %%
display(findings)
