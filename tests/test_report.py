"""Report: builds from partial inputs, numbers in sentences equal the source tables, escaping."""

from __future__ import annotations

import base64
import json
import re

import pandas as pd
import pytest
import yaml
from markupsafe import escape
from test_figures import CODEBOOK, STUDY, TERMS, all_tables, make_curve, make_rmcorr

from tlsurvey import descriptives, latex
from tlsurvey.figures import FIGURES, theme
from tlsurvey.io import write_table
from tlsurvey.multiverse.curve import summary as multiverse_summary
from tlsurvey.report import build_report, job_times, run_time_info, sections, text
from tlsurvey.study import Study

EVIL = '<script>alert("x")</script>'


def make_flow() -> pd.DataFrame:
    rows = []
    for wave, raw, speed, att in [("wave1", 16, 1, 1), ("wave2", 14, 2, 0)]:
        rows += [(wave, "raw", raw), (wave, "excluded:speeder", speed),
                 (wave, "excluded:attention_check", att), (wave, "analysed", raw - speed - att)]
    total = pd.DataFrame(rows, columns=["wave", "step", "n"]).groupby("step", sort=False)["n"].sum()
    rows += [("total", step, n) for step, n in total.items()]
    return pd.DataFrame(rows, columns=["wave", "step", "n"])


RELIABILITY = pd.DataFrame({
    "code": ["visual_similarity", "(all)"], "coder_1": ["a", "a"], "coder_2": ["b", "b"],
    "n_units": [30, 420], "percent_agreement": [0.9, 0.93], "kappa": [0.71, 0.774],
    "alpha": [0.70, 0.7712], "alpha_ci_low": [0.5, 0.7011], "alpha_ci_high": [0.85, 0.8323]})
AUTO = pd.DataFrame({"code": ["(micro)", "(micro)"], "coder": ["a", "b"], "tp": [50, 48],
                     "fp": [5, 6], "fn": [7, 9], "precision": [0.909, 0.889],
                     "recall": [0.877, 0.842], "f1": [0.893, 0.865], "kappa": [0.85, 0.83]})


TASK = pd.DataFrame({
    "analysis": ["bowker", "share_changed", "mcnemar:imagenet|radimagenet"], "n": [24, 24, 24],
    "n_changed": [14, 14, 9], "statistic": [7.25, None, 7], "dof": [3, None, None],
    "p": [0.0644, None, None], "p_exact": [0.071, None, 0.18], "estimate": [None, 0.5833, 0.28],
    "ci_low": [None, 0.388, None], "ci_high": [None, 0.755, None]})
ALIGN_SUMMARY = pd.DataFrame({
    "measure": ["mean_rho", "share_misaligned", "share_misaligned"],
    "scope": ["pooled", "tissue", "pooled"], "dimension": ["visual", "mean_similarity",
                                                          "mean_similarity"],
    "n": [24, 24, 24], "estimate": [0.1, 0.4167, 0.35], "ci_low": [-0.1, 0.25, 0.2],
    "ci_high": [0.3, 0.6111, 0.5]})
OUTCOME_SUMMARY = pd.DataFrame({
    "scope": ["tissue", "xray", "pooled"], "n": [20, 21, 41], "mean_tau": [0.05, -0.21, -0.08],
    "ci_low": [-0.2, -0.44, -0.25], "ci_high": [0.3, 0.02, 0.09], "share_positive": [0.4, 0.2, 0.3],
    "p_exact": [0.41, 0.0123, 0.6], "p_holm": [0.82, 0.037, 0.82],
    "p_method": ["exact", "exact", "Monte Carlo (20000 draws, seed 42)"]})


@pytest.fixture(scope="session")
def ingest(tmp_path_factory):
    """Synthetic outputs of every stage (two waves) and every figure built from them."""
    tmp_path = tmp_path_factory.mktemp("stages")
    t = all_tables()
    tables = {
        "flow": (make_flow(), "flow.csv"),
        "excluded": (pd.DataFrame({"wave": ["wave1", "wave2"], "response_row": [3, 7],
                                   "response_hash": ["ab12", "cd34"],
                                   "reasons": ["speeder", f"attention_check;{EVIL}"]}),
                     "excluded.csv"),
        "responses": (t["responses"], "responses.parquet"),
        "ratings": (t["ratings"], "ratings.parquet"),
        "choices": (t["choices"], "choices.parquet"),
        "factors": (t["factors"], "factors.parquet"),
        "rating_summary": (descriptives.rating_summary(t["ratings"]), "rating_summary.csv"),
        "choice_counts": (descriptives.choice_counts(t["choices"]), "choice_counts.csv"),
        "factor_summary": (descriptives.factor_importance(t["factors"]), "factor_summary.csv"),
        "codes": (t["codes"], "codes.parquet"),
        "topic_info": (t["topic_info"], "topic_info.csv"),
        "ambiguous_terms": (t["terms"], "ambiguous_terms.csv"),
        "reliability": (RELIABILITY, "reliability.csv"),
        "auto_vs_human": (AUTO, "auto_vs_human.csv"),
        "coefficients": (t["coefficients"], "coefficients.csv"),
        "alignment_rmcorr": (make_rmcorr(), "alignment_rmcorr.csv"),
        "task_dependence": (TASK, "task_dependence.csv"),
        "multiverse_summary": (multiverse_summary(make_curve()), "multiverse_summary.csv"),
        "alignment_summary": (ALIGN_SUMMARY, "alignment_summary.csv"),
        "intuition_outcome_summary": (OUTCOME_SUMMARY, "intuition_outcome_summary.csv"),
        "outcomes": (t["outcomes"], "outcomes.csv"),
    }
    paths = {k: write_table(df, tmp_path / "in" / name) for k, (df, name) in tables.items()}
    paths["study"] = STUDY.save(tmp_path / "in" / "study.json")
    paths["codebook"] = tmp_path / "in" / "codebook.yaml"
    paths["codebook"].write_text(yaml.safe_dump(CODEBOOK))
    figures = {}
    for name, build_figure in FIGURES.items():
        theme.save(build_figure(t), tmp_path / "figures" / name)
        figures[name] = tmp_path / "figures" / f"{name}.png"
    return paths, figures


def build(tmp_path, paths, figures, **kwargs) -> str:
    out = build_report(paths, tmp_path / "report" / "report.html", figures,
                       config={"coding": {"seed": 42}, "models": {"seed": 7}}, **kwargs)
    return out.read_text(encoding="utf-8")


def test_report_is_self_contained_with_embedded_figure(tmp_path, ingest):
    page = build(tmp_path, *ingest)
    assert page.count('<img src="data:image/png;base64,') == len(FIGURES)
    assert not re.search(r'(src|href)="(?!data:|#)', page)  # nothing fetched from elsewhere
    for title in ("Data and exclusions", "Sample", "Ratings", "Source choices", "Models",
                  "Coding of free-text answers", "Framework factors", "Intuition vs outcome",
                  "Waves", "Methods and provenance"):
        assert f"<h2>{title}</h2>" in page


def test_user_text_is_escaped(tmp_path, ingest):
    page = build(tmp_path, *ingest)
    assert EVIL not in page
    assert str(escape(EVIL)) in page
    assert "&lt;Industry&gt;" in page


def test_flow_sentence_matches_flow_table(tmp_path, ingest):
    page = build(tmp_path, *ingest)
    flow = make_flow().query("wave == 'total'").set_index("step")["n"]
    match = re.search(r"(\d+) responses were received and (\d+) excluded .*?leaving (\d+)", page)
    assert match, "flow sentence missing"
    raw, excluded, analysed = map(int, match.groups())
    assert (raw, analysed) == (flow["raw"], flow["analysed"])
    assert excluded == flow["raw"] - flow["analysed"]
    assert "<svg" in page and f"Analysed (n = {analysed})" in page


def test_sample_sentence_matches_responses(tmp_path, ingest):
    page = build(tmp_path, *ingest)
    responses = pd.read_parquet(ingest[0]["responses"])
    assert f"{len(responses)} participants were analysed" in page
    minutes = text.num(responses["duration_s"].median() / 60, 1)
    assert f"median completion time {minutes} min" in page


def test_provenance_lists_hashes_seeds_versions(tmp_path, ingest):
    page = build(tmp_path, *ingest)
    from tlsurvey.config import file_sha256

    assert file_sha256(ingest[0]["ratings"]) in page
    assert "coding.seed: 42" in page and "models.seed: 7" in page
    assert "matplotlib" in page


@pytest.mark.parametrize(("p", "expected"), [(0.2149, "p = .21"), (0.0004, "p < .001"),
                                             (0.0472, "p = .047"), (0.9999, "p > .99")])
def test_pval_format(p, expected):
    assert text.pval(p) == expected


def test_stat_sentence():
    assert text.stat("r_rm", -0.1234, -0.301, 0.0712, 0.21) == \
        "r_rm = -0.12, 95% CI [-0.30, 0.07], p = .21"


def test_partial_inputs_build_with_notes(tmp_path, ingest):
    paths, _ = ingest
    page = build(tmp_path, {k: paths[k] for k in ("flow", "responses", "ratings")}, {})
    assert "Not available in this run: coefficients.csv." in page
    assert "<h2>Ratings</h2>" in page and "<img" not in page


def test_rmcorr_sentences_match_table(tmp_path, ingest):
    page = build(tmp_path, *ingest)
    rm = make_rmcorr()
    found = re.findall(r"(CS-\w+|Pooled over case studies), (\w+) similarity vs expected "
                       r"performance: r_rm = (-?[\d.]+), 95% CI \[(-?[\d.]+), (-?[\d.]+)\], "
                       r"p = (\.\d+)", page)
    assert len(found) == len(rm)
    names = {"tissue": "CS-tissue", "xray": "CS-xray", "pooled": "Pooled over case studies"}
    for (case, dim, r, low, high, p), row in zip(found, rm.itertuples(), strict=True):
        assert case == names[row.scope]
        assert dim.lower() == row.dimension
        assert float(r) == pytest.approx(row.r, abs=0.005)
        assert (float(low), float(high)) == pytest.approx((row.ci_low, row.ci_high), abs=0.005)
        assert float(p) == pytest.approx(row.p, abs=0.005)


def test_coding_and_factor_sentences_match_tables(tmp_path, ingest):
    page = build(tmp_path, *ingest)
    assert "Krippendorff&#39;s alpha = 0.77, 95% CI [0.70, 0.83]" in page
    assert "coder a: precision 0.91, recall 0.88, F1 0.89" in page
    summary = descriptives.factor_importance(all_tables()["factors"]).query("wave == 'all'")
    top = summary.sort_values("mean", ascending=False).iloc[0]
    assert f"(M = {text.num(top['mean'])}, {text.ci(top['ci_low'], top['ci_high'])})" in page
    codes, responses = all_tables()["codes"], all_tables()["responses"]
    n = codes.query("code == 'dataset_size'")["participant"].nunique()
    row = re.search(r'<table id="tab-coded-shares">.*?<td>Dataset size</td><td>([^<]+)</td>',
                    page, flags=re.S)
    assert row and row.group(1) == f"{n} ({text.pct(n, len(responses))})"  # lexicon column


def test_report_rebuild_is_byte_identical(tmp_path, ingest, monkeypatch):
    times = pd.DataFrame({"rule": ["fit"], "jobs": [1], "seconds": [2.5], "start": [1.0],
                          "end": [3.5]})
    assert "Run time per rule" in build(tmp_path / "timed", *ingest, times=times)
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1767225600")
    first = build(tmp_path / "a", *ingest, times=times)
    assert first == build(tmp_path / "b", *ingest, times=times.assign(seconds=9.0))
    assert "2026-01-01 00:00:00 UTC" in first


def test_model_sentences_match_tables(tmp_path, ingest):
    page = build(tmp_path, *ingest)
    assert ("14 of 24 participants (58%, 95% CI [39%, 76%]) chose a different source for the "
            "two case studies.") in page
    assert "Bowker&#39;s test of symmetry: χ²(3) = 7.25, p = .064; exact p = .071." in page
    assert ("CS-tissue: the source rated most similar was not the one expected to perform best "
            "for 42% of participants (95% CI [25%, 61%], n = 24).") in page
    assert "<td>&lt; .001</td>" in page  # p values in tables in APA style
    assert ("CS-xray: Kendall tau-b between a participant&#39;s expected performance and the "
            "benchmark score of the sources: mean tau = -0.21, 95% CI [-0.44, 0.02], exact "
            "p = .012 (Holm-adjusted p = .037); positive for 20% of 21 participants.") in page
    assert "Monte Carlo (20000 draws, seed 42) p = .60" in page
    coefs = all_tables()["coefficients"]
    row = coefs.query("model == 'expected_similarity_ordinal' and term == 'domain'").iloc[0]
    expected = text.stat("b", row.estimate, row.ci_low, row.ci_high, row.p)
    assert f"Domain: {expected}" in page and "1 | 2: b" not in page


def test_ambiguous_terms_sentence_and_quotes_escaped(tmp_path, ingest):
    page = build(tmp_path, *ingest)
    assert ('The most contested term was &#34;similar&#34;: 8 participants gave it 3 senses '
            "(disagreement 0.62).") in page
    assert "the domain &lt;gap&gt;" in page and "the domain <gap>" not in page


def test_workflow_report_matches_its_tables(workflow_run):
    """In a real run, the report's sentences carry the numbers of the model and coding tables."""
    page = (workflow_run / "results/report/report.html").read_text(encoding="utf-8")
    results = workflow_run / "results"
    assert "Run time per rule (Snakemake job records)" in page and "<td>coding_topics</td>" in page
    rm = pd.read_csv(results / "models/alignment_rmcorr.csv")
    for _, row in rm.iterrows():
        expected = text.stat("r_rm", row["r"], row["ci_low"], row["ci_high"], row["p"])
        assert str(escape(expected)) in page
    coefs = pd.read_csv(results / "models/coefficients.csv")
    fixed = coefs.query("model == 'expected_similarity_ordinal' and kind == 'fixed'")
    assert len(fixed) == 5
    study = Study.load(results / "ingest/study.json")
    for row in fixed.itertuples():
        term = latex.term_label(row.term, theme.labeller(study))
        sentence = f"{term}: {text.stat('b', row.estimate, row.ci_low, row.ci_high, row.p)}"
        assert str(escape(sentence)) in page
    outcome = pd.read_csv(results / "models/intuition_outcome_summary.csv")
    for row in outcome.itertuples():
        assert text.stat("mean tau", row.mean_tau, row.ci_low, row.ci_high) in page
    codes = pd.read_parquet(results / "coding/codes.parquet")
    n = len(pd.read_parquet(results / "ingest/responses.parquet"))
    found = findings_text(page)
    ethics = codes[codes["code"] == "fairness_ethics"]
    k = ethics.loc[ethics["origin"] == "lexicon", "participant"].nunique()
    assert f"lexicon {k} ({text.pct(k, n)}" in found["ethics"]
    # an origin that disagrees with the coders is shown with its kappa but gives no rate
    auto = pd.read_csv(results / "coding/auto_vs_human.csv").query("code == 'fairness_ethics'")
    for origin, kappa in auto.groupby("origin")["kappa"].mean().items():
        if origin in set(ethics["origin"]):
            assert f"kappa with the coders {text.num(kappa)}" in found["ethics"], origin
            assert (f"{text.num(kappa)}, not counted" in found["ethics"]) == (not kappa >= 0.4)
    both = ethics[(ethics["origin"] == "human") & (ethics["source"] == "coder_a;coder_b")]
    assert f"both coders {both['participant'].nunique()}" in found["ethics"]
    kappa = pd.read_csv(results / "coding/reliability.csv").query("code == 'fairness_ethics'")
    assert f"kappa = {text.num(kappa['kappa'].iloc[0])}" in found["ethics"]
    dep = pd.read_csv(results / "models/task_dependence.csv").set_index("analysis")
    changed = dep.loc["share_changed"]
    assert (f"{int(changed.n_changed)} of {int(changed.n)} participants "
            f"({text.share(changed.estimate, changed.ci_low, changed.ci_high)})") in found["task"]
    pooled = pd.read_csv(results / "models/intuition_outcome_summary.csv").query(
        "scope == 'pooled'").iloc[0]
    per = pd.read_csv(results / "models/intuition_outcome.csv")
    assert (f"of {int(pooled.n)} participant x case-study pairs from "
            f"{per['participant'].nunique()} participants") in found["outcome"]
    sections.use_study(study)  # the sentences below are written with the run's labels
    shift = pd.read_csv(results / "models/waves_ratings.csv")
    assert len(shift) == 30 and str(escape(sections.rating_shift_sentence(shift))) in page
    choices = pd.read_csv(results / "models/waves_choices.csv")
    for sentence in sections.choice_shift_sentences(choices):
        assert str(escape(sentence)) in page
    pooled = pd.read_csv(results / "coding/reliability.csv").query("code == '(all)'").iloc[0]
    alpha = text.stat("Krippendorff's alpha", pooled.alpha, pooled.alpha_ci_low,
                      pooled.alpha_ci_high)
    assert str(escape(alpha)) in page


def test_job_times_from_snakemake_records(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    meta = tmp_path / ".snakemake" / "metadata"
    meta.mkdir(parents=True)
    long_name = "results/" + "/".join(["x" * 100] * 3) + ".csv"
    records = [  # (output, rule, job hash, start, end, output exists)
        ("results/a.csv", "fit", 1, 100.0, 104.0, True),
        ("results/b.csv", "fit", 1, 100.5, 104.5, True),  # same job, second output
        ("results/c.csv", "plot", 2, 105.0, 106.5, True),
        (long_name, "plot", 3, 107.0, 108.0, True),  # record name split into @-parts
        ("results/gone.csv", "plot", 4, 50.0, 60.0, False),
        ("results/report.html", "report", 5, 110.0, 111.0, True),
    ]
    for output, rule, job, start, end, exists in records:
        name = base64.urlsafe_b64encode(output.encode()).decode()
        parts = [name[i:i + 200] for i in range(0, len(name), 200)]
        path = meta.joinpath(*["@" + part for part in parts[:-1]], parts[-1])
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps({"rule": rule, "job_hash": job, "starttime": start,
                                    "endtime": end}))
        if exists:
            (tmp_path / output).parent.mkdir(parents=True, exist_ok=True)
            (tmp_path / output).write_text("x")
    times = job_times(exclude=["report"]).set_index("rule")
    assert times.loc["fit", "jobs"] == 1 and times.loc["fit", "seconds"] == pytest.approx(4.5)
    assert times.loc["plot", "jobs"] == 2 and times.loc["plot", "seconds"] == pytest.approx(2.5)
    assert list(times.index) == ["fit", "plot"]
    info = run_time_info(times.reset_index())
    assert (info["jobs"], info["seconds"], info["wall"]) == (3, "7.0", "8.0")
    assert run_time_info(job_times(tmp_path / "nothing")) is None
    later = job_times(exclude=["report"], since=105.0)
    assert dict(zip(later["rule"], later["jobs"], strict=True)) == {"plot": 2}


# --- key findings, coded shares, tables, bundle ----------------------------------------------


def findings_text(page: str) -> dict[str, str]:
    """Key finding id -> its sentence (tags stripped, entities unescaped)."""
    import html

    out = {}
    for fid, body in re.findall(r'<li class="finding" id="finding-(\w+)">(.*?)</li>', page,
                                flags=re.S):
        body = re.sub(r'<span class="finding-title">.*?</span>', "", body)
        out[fid] = html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", body))).strip()
    return out


def test_key_findings_come_first_and_match_tables(tmp_path, ingest):
    page = build(tmp_path, *ingest)
    assert page.index('<section id="findings">') < page.index('<section id="data">')
    found = findings_text(page)
    assert list(found) == ["task", "families", "alignment", "ethics", "terms", "factors",
                           "outcome"]
    changed = TASK.set_index("analysis").loc["share_changed"]
    assert found["task"].startswith("The data do not show that the choice depends")  # p = .071
    assert (f"{int(changed.n_changed)} of {int(changed.n)} participants "
            f"({text.share(changed.estimate, changed.ci_low, changed.ci_high)})") in found["task"]
    assert "exact p = .071" in found["task"] and "not supported" in found["task"]
    pooled = make_rmcorr().query("scope == 'pooled'")
    low = pooled.loc[pooled.r.idxmin()]
    assert f"r_rm = {text.num(low.r)}, {text.ci(low.ci_low, low.ci_high)}" in found["alignment"]
    assert found["alignment"].startswith("The data do not show")  # p = .21 everywhere
    mis = ALIGN_SUMMARY.query("measure == 'share_misaligned' and scope == 'pooled'").iloc[0]
    assert f"{text.share(mis.estimate)} of {int(mis.n)} participants" in found["alignment"]
    out = OUTCOME_SUMMARY.set_index("scope").loc["pooled"]
    assert text.stat("mean Kendall tau-b", out.mean_tau, out.ci_low, out.ci_high) in \
        found["outcome"]
    assert f"of {int(out.n)} participant x case-study pairs" in found["outcome"]
    assert "benchmark CIs not given" in found["outcome"]
    terms = TERMS.drop_duplicates("term_id").sort_values("disagreement").iloc[-1]
    assert found["terms"].startswith(f'"{terms.term_id}" was the most contested term: '
                                     f"{terms.n_participants_term} participants")
    summary = descriptives.factor_importance(all_tables()["factors"]).query("wave == 'all'")
    top = summary.sort_values("mean", ascending=False).iloc[0]
    assert f"{theme.labeller(STUDY)(top.factor)} (M = {text.num(top['mean'])}" in found["factors"]
    for fid, name in [("task", "transitions"), ("alignment", "alignment"),
                      ("outcome", "intuition_outcome")]:
        assert f'href="#fig-{name}"' in page.split(f'id="finding-{fid}"')[1].split("</li>")[0]
        assert f'id="fig-{name}"' in page
    for tid in ("tab-task_dependence", "tab-alignment_rmcorr", "tab-coded-shares",
                "tab-intuition_outcome_summary", "tab-ambiguous_terms", "tab-factors"):
        assert f'id="{tid}"' in page
    # every link of a finding names its target by number and caption lead
    links = re.findall(r'<a href="#((?:tab|fig)-[\w-]+)">((?:Table|Figure) (\d+): ([^<]+))</a>',
                       page.split('<section id="data">')[0])
    assert {t for t, *_ in links} >= {"tab-task_dependence", "fig-transitions"}
    for target, _, num, lead in links:
        kind = "Table" if target.startswith("tab-") else "Figure"
        element = re.search(rf'id="{target}"[^>]*>.*?<(?:caption|figcaption)><b>{kind} {num}\.'
                            rf'</b> ([^<]*)<', page, flags=re.DOTALL)
        assert element, (target, num)
        caption = element.group(1) or lead  # figures without a caption: named by their name
        assert caption.startswith(lead.removesuffix(" …").strip()), (target, lead)


def test_findings_state_what_is_missing(tmp_path, ingest):
    paths, figures = ingest
    page = build(tmp_path, {k: paths[k] for k in ("flow", "responses", "study")}, figures)
    found = findings_text(page)
    assert found["task"] == "Not available in this run: task_dependence.csv."
    no_factors = Study.from_dict({**STUDY.to_dict(), "factors": []})
    paths = {**paths, "study": no_factors.save(tmp_path / "nofactors.json")}
    found = findings_text(build(tmp_path / "b", paths, figures))
    assert "The study asks no framework-factor questions" in found["factors"]


HUMAN_CODES = pd.DataFrame({
    "text_id": ["P1:r:a", "P1:r:a", "P2:r:a", "P3:r:a", "P3:r:b", "P4:r:a"],
    "participant": ["P1", "P1", "P2", "P3", "P3", "P4"], "wave": "w",
    "case_study": "a", "code": ["eth", "eth", "eth", "eth", "eth", "other"],
    "origin": ["lexicon", "human", "human", "human", "human", "human"],
    "source": ["fair", "coder_a;coder_b", "coder_a", "coder_b", "coder_a", "coder_a;coder_b"]})


def test_coded_shares_are_per_origin_and_coder_never_a_union():
    from tlsurvey.report import coded

    rel = pd.DataFrame({"code": ["eth"], "kappa": [0.28], "n_units": [9]})
    shares = coded.coded_shares(HUMAN_CODES, 10, None, rel).set_index(["code", "rater"])
    assert shares.loc[("eth", "lexicon"), "n"] == 1
    assert shares.loc[("eth", "coder_a"), "n"] == 3  # P1, P2, P3
    assert shares.loc[("eth", "coder_b"), "n"] == 2  # P1, P3
    assert shares.loc[("eth", "both coders"), "n"] == 1  # only P1's answer got it from both
    assert shares.loc[("eth", "coder_a"), "kappa"] == 0.28
    assert pd.isna(shares.loc[("eth", "lexicon"), "kappa"])
    assert (shares["n"] <= 3).all()  # no union of the coders (P1, P2, P3 and the lexicon's P1)
    table = coded.share_table(HUMAN_CODES, 10, None, rel)
    assert list(table.columns) == ["Family", "Code", "lexicon", "coder_a", "coder_b",
                                   "Both coders", "kappa", "texts (both coders)"]
    assert table.set_index("Code").loc["eth", "coder_a"] == "3 (30%)"


def test_quotes_per_family_are_short_and_scrubbed_text(tmp_path):
    from tlsurvey.report import coded

    texts = pd.DataFrame({"text_id": ["t1", "t2"], "text": [
        "First sentence. It is the standard default everyone uses! Then more.",
        "x" * 300 + " popular"]})
    codes = pd.DataFrame({"text_id": ["t1", "t2"], "participant": ["P1", "P2"],
                          "code": ["community_practice"] * 2, "origin": "lexicon",
                          "evidence": ['[{"start": 22, "end": 30}]',
                                       '[{"start": 301, "end": 308}]']})
    found = coded.quotes(codes, texts, CODEBOOK, width=80)
    assert list(found["quote"]) == ["It is the standard default everyone uses!", "x" * 79 + "…"]
    assert set(found["family"]) == {"Community practice"}


def test_result_tables_are_narrow_with_display_names(tmp_path, ingest):
    page = build(tmp_path, *ingest)
    for tid in ("tab-coefficients-ordinal", "tab-coefficients-gaussian", "tab-task_dependence"):
        block = page.split(f'<table id="{tid}">')[1].split("</table>")[0]
        heads = re.findall(r"<th>(.*?)</th>", block)
        assert len(heads) <= 9 and "case_study" not in block and "p_holm" not in heads
    block = page.split('<table id="tab-coefficients-ordinal">')[1].split("</table>")[0]
    assert "Case study: CS-xray" in block and "<th>b</th>" in block


def test_privacy_settings_values_are_not_printed(tmp_path, ingest):
    paths, figures = ingest
    out = build_report(paths, tmp_path / "r.html", figures, config={
        "privacy": {"salt_env": "SECRET_SALT_VAR", "scrub_names": ["Alice Example"]}})
    page = out.read_text(encoding="utf-8")
    assert "SECRET_SALT_VAR" not in page and "Alice Example" not in page
    assert "salt_env: (set; not shown)" in page


def test_bundle_links_audit_and_holds_tex_and_pdfs(tmp_path, ingest):
    from tlsurvey.report import build_bundle

    paths, figures = ingest
    audit = tmp_path / "audit.html"
    audit.write_text("<html>audit</html>")
    pdfs = [p.with_suffix(".pdf") for p in figures.values()]
    bundle = build_bundle({**paths, "audit": audit}, tmp_path / "bundle", figures, {}, pdfs,
                          ["coefficients", "task_dependence"])
    page = (bundle / "report.html").read_text(encoding="utf-8")
    assert 'href="audit.html"' in page and (bundle / "audit.html").read_text() == audit.read_text()
    tex = (bundle / "tables" / "coefficients.tex").read_text()
    assert "Case study: CS-xray" in tex and r"\toprule" in tex and "< .001" in tex
    assert sorted(p.name for p in (bundle / "figures").iterdir()) == sorted(p.name for p in pdfs)


def test_snakemake_report_zip_holds_bundle_tex_and_pdf(workflow_run):
    """`snakemake --report`: the bundle's report links its audit page beside it; the LaTeX
    tables and the PDF figures are in the zip."""
    import zipfile

    from conftest import snakemake

    report = workflow_run / "results/report.zip"
    if not report.exists():
        snakemake(workflow_run, "--report", "results/report.zip")
    archive = zipfile.ZipFile(report)
    names = set(archive.namelist())
    folders = {n.rsplit("/", 1)[0] for n in names if n.endswith("/report.html")}
    bundle = next(f for f in folders if f"{f}/audit.html" in names)  # audit beside the report
    assert 'href="audit.html"' in archive.read(f"{bundle}/report.html").decode()
    assert f"{bundle}/tables/coefficients.tex" in names
    assert r"\toprule" in archive.read(f"{bundle}/tables/coefficients.tex").decode()
    assert {f"{bundle}/figures/{p.name}" for p in (workflow_run / "results/figures").glob(
        "*.pdf")} <= names
    standalone = [n for n in names if n.endswith("/alignment.pdf") and not n.startswith(bundle)]
    assert standalone  # each PDF figure is also its own report item
def test_multiverse_section_states_the_curve(tmp_path, ingest):
    page = build(tmp_path, *ingest)
    assert "<h2>Multiverse</h2>" in page
    sentence = sections.multiverse_sentence(multiverse_summary(make_curve()))
    assert "8 specifications" in sentence and "(1 failed to fit)" in sentence
    assert "median 0.50 (range 0.10 to 0.80)" in sentence  # of the 7 fitted estimates
    assert str(escape(sentence)) in page


def test_methods_state_validation_f1_per_origin():
    rows = [("all", "lexicon", "(micro)", "gold", 0.8356, 0.7771, 0.8053),
            ("held_out", "lexicon", "(micro)", "gold", 0.7632, 0.7073, 0.7342),
            ("all", "semantic", "(micro)", "gold", 0.3843, 0.5924, 0.4662),
            ("all", "lexicon", "(micro)", "A", 0.1, 0.1, 0.1),
            ("all", "lexicon", "dataset_size", "gold", 0.9, 0.9, 0.9)]
    validation = pd.DataFrame(rows, columns=["subset", "origin", "code", "coder", "precision",
                                             "recall", "f1"])
    sentence = sections.validation_sentence(validation)
    assert "lexicon on all answers: precision 0.84, recall 0.78, F1 0.81" in sentence
    assert "lexicon on held-out answers: precision 0.76, recall 0.71, F1 0.73" in sentence
    assert "semantic on all answers" in sentence and "0.10" not in sentence
    assert sections.validation_sentence(validation.iloc[3:4]) is None


def test_no_factor_questions_give_a_note(tmp_path, ingest):
    """A study without framework factors has a header-only factor summary (issue 10)."""
    paths, figures = ingest
    empty = descriptives.factor_importance(all_tables()["factors"]).iloc[0:0]
    paths = {**paths, "factor_summary": write_table(empty, tmp_path / "factor_summary.csv")}
    page = build(tmp_path, paths, figures)
    assert "The study asks no framework-factor questions." in page
    assert "Rated most important" not in page


def test_task_sentence_states_the_other_choices_excluded():
    """The count of participants choosing outside the listed sources is stated (issue 10)."""
    assert "outside" not in " ".join(sections.task_sentences(TASK))
    dep = TASK.assign(n_other=[6, 6, 6])
    assert ("14 of 24 participants (58%, 95% CI [39%, 76%]) chose a different source for the "
            "two case studies (6 participants who chose an option outside the listed sources "
            "excluded).") in sections.task_sentences(dep)


def test_bundle_sharing_the_reports_cache_writes_the_same_pages(tmp_path, ingest, monkeypatch):
    """One cache for the report and the bundle: each page as built without it, and the inputs
    read once (the second build only uses what the first one read and derived)."""
    from tlsurvey.report import build_bundle

    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1767225600")
    paths, figures = ingest
    pdfs = [p.with_suffix(".pdf") for p in figures.values()]
    alone = build_bundle(paths, tmp_path / "alone", figures, {}, pdfs, ["coefficients"])
    cache = {}
    page = build(tmp_path / "shared", paths, figures, cache=cache)
    filled = dict(cache)
    assert {key[0] for key in filled} >= {"table", "figure", "sha256"}
    assert page == build(tmp_path / "fresh", paths, figures)
    shared = build_bundle(paths, tmp_path / "shared" / "bundle", figures, {}, pdfs,
                          ["coefficients"], cache=cache)
    assert cache.keys() == filled.keys()
    assert all(cache[k] is filled[k] for k in filled)
    for name in ("report.html", "tables/coefficients.tex"):
        assert (shared / name).read_bytes() == (alone / name).read_bytes()


def test_raters_are_the_raters_of_participant_codes():
    from tlsurvey.report import coded

    for codes in (HUMAN_CODES, HUMAN_CODES[HUMAN_CODES["origin"] != "human"],
                  HUMAN_CODES.assign(source="a"), HUMAN_CODES.drop(columns="source")):
        found = set(coded.participant_codes(codes)["rater"])
        assert set(coded.raters(codes)) == found
