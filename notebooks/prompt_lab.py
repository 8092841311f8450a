# ruff: noqa: B018  (a marimo cell shows the value of its last expression)
import marimo

__generated_with = "0.25.2"
app = marimo.App(width="medium", app_title="Prompt lab")

with app.setup:
    import marimo as mo
    import polars as pl

    from core.classification.prompts import DEFAULT_PROMPT, as_version, get_active_prompt, list_prompts
    from core.classification.types import LLMUnavailable
    from core.config import get_settings
    from core.db import session_scope
    from core.evaluation import charts as eval_charts
    from core.evaluation import data as eval_data
    from core.evaluation import frames as eval_frames
    from core.evaluation import prompt_review as prompt_lab
    from core.evaluation import runs as eval_runs
    from core.evaluation import workbench


@app.cell(hide_code=True)
def _():
    mo.md(r"""
    # Prompt lab

    Edit the LLM classifier's prompt, try it on a sample of triaged messages (stratified by kind)
    beside the human labels, save it as a new prompt version, and activate it only after its
    evaluation on the triaged messages stands beside the active version's and you confirm.
    """)
    return


@app.cell
def _():
    _bench = workbench.open_database(get_settings())
    settings, engine, database_problem = _bench.settings, _bench.engine, _bench.problem
    _hint = "Prompt versions live in the database: drafts can be tried on the seed set, not saved."
    mo.callout(mo.md(f"{database_problem}\n\n{_hint}"), kind="danger") if database_problem else None
    return engine, settings


@app.cell
async def _(settings):
    llm_problem = await workbench.llm_problem(settings)
    _offer = "Below, the local classifier's outputs still stand beside the human labels."
    (
        mo.callout(mo.md(f"**The LLM cannot be used.** {llm_problem}\n\n{_offer}"), kind="warn")
        if llm_problem
        else mo.md(f"LLM: `{settings.llm_model}` answers.")
    )
    return (llm_problem,)


@app.cell
def _(engine, settings):
    prompt_versions, active_prompt = [DEFAULT_PROMPT], DEFAULT_PROMPT
    triaged_data = None
    if settings.database_url:
        with session_scope(engine) as _session:
            prompt_versions = [as_version(p) for p in list_prompts(_session)]
            active_prompt = get_active_prompt(_session)
            triaged_data = eval_data.triaged(_session)
    return active_prompt, prompt_versions, triaged_data


@app.cell(hide_code=True)
def _():
    mo.md(r"""
    ## Edit
    """)
    return


@app.cell
def _(active_prompt, prompt_versions):
    base_picker = mo.ui.dropdown(
        [p.version for p in prompt_versions], value=active_prompt.version, label="Start from version"
    )
    base_picker
    return (base_picker,)


@app.cell
def _(base_picker, prompt_versions):
    base_prompt = next(p for p in prompt_versions if p.version == base_picker.value)
    editor = mo.ui.text_area(value=base_prompt.text, rows=22, full_width=True, label="Prompt")
    editor
    return base_prompt, editor


@app.cell
def _(base_prompt, editor):
    draft_prompt = prompt_lab.draft(editor.value, base_prompt)
    (
        mo.md(f"Unchanged: this is `{base_prompt.version}`.")
        if draft_prompt is base_prompt
        else mo.md(f"Edited from `{base_prompt.version}`: tried as `{draft_prompt.version}`.")
    )
    return (draft_prompt,)


@app.cell(hide_code=True)
def _():
    mo.md(r"""
    ## Try on a sample
    """)
    return


@app.cell
def _():
    per_kind = mo.ui.slider(1, 25, value=4, label="Messages per kind")
    sample_seed = mo.ui.number(start=0, stop=10_000, value=0, label="Sample")
    concurrency = mo.ui.slider(1, 16, value=4, label="LLM calls at once")
    return concurrency, per_kind, sample_seed


@app.cell
def _():
    try_button = mo.ui.run_button(label="Try the prompt on the sample")
    return (try_button,)


@app.cell
def _(concurrency, per_kind, sample_seed, try_button):
    mo.hstack([per_kind, sample_seed, concurrency, try_button], justify="start")
    return


@app.cell
def _(per_kind, sample_seed, triaged_data):
    _choice = eval_data.choose_data("db", None, triaged_data)
    sample_data = _choice.data
    sample = eval_data.stratified_sample(sample_data.examples, per_kind.value, sample_seed.value)
    _from = "triaged messages" if sample_data.name == eval_data.TRIAGED else "the seed set's held-out part"
    _why = [mo.callout(mo.md(p), kind="warn") for p in _choice.problems]
    mo.vstack([*_why, mo.md(f"{len(sample)} {_from}, up to {per_kind.value} of each kind.")])
    return sample, sample_data


@app.cell
async def _(sample, sample_data, settings):
    _local = eval_data.fair_local(sample_data, settings.runtime_dir)
    reference = await eval_runs.evaluate_specs([eval_runs.RunSpec("local")], sample, settings, local=_local)
    return (reference,)


@app.cell
async def _(concurrency, draft_prompt, engine, llm_problem, sample, settings, try_button):
    trial_results, _note = {}, None
    if llm_problem:
        _note = mo.callout("No LLM: only the local classifier's outputs are shown.", kind="warn")
    elif not (try_button.value or mo.app_meta().mode == "script"):
        _note = mo.callout(mo.md("Press **Try the prompt on the sample** (it asks the LLM)."), kind="info")
    else:
        with mo.status.progress_bar(total=len(sample), title="Asking the LLM", remove_on_exit=True) as _bar:
            _runs = await eval_runs.evaluate_specs(
                [eval_runs.RunSpec("llm", prompt=draft_prompt)], sample, settings,
                concurrency=concurrency.value, progress=lambda n: _bar.update(increment=n), engine=engine,
            )  # fmt: skip
        trial_results = _runs.results
        if _runs.failures:
            _note = mo.callout(mo.md("\n".join(_runs.failures.values())), kind="danger")
    _note
    return (trial_results,)


@app.cell
def _(llm_problem, reference, sample, sample_data, trial_results):
    _results = {**trial_results, **reference.results}
    beside = eval_frames.beside_labels(sample, _results)
    _summary = eval_frames.summary_frame(_results)
    if mo.app_meta().mode == "script":
        print(f"note: {llm_problem}\n" if llm_problem else "", end="")
        print(f"sample: {len(sample)} of {sample_data.description}")
        with pl.Config(tbl_cols=-1, tbl_width_chars=160, tbl_hide_dataframe_shape=True):
            print(_summary)
    mo.vstack([
        mo.ui.table(_summary, selection=None),
        mo.md("Outputs beside the human labels:"),
        mo.ui.table(beside.drop("id"), selection=None, page_size=20),
    ])  # fmt: skip
    return


@app.cell(hide_code=True)
def _():
    mo.md(r"""
    ## Save as a new version
    """)
    return


@app.cell
def _(prompt_versions):
    version_name = mo.ui.text(
        value=prompt_lab.next_version(p.version for p in prompt_versions), label="Version"
    )
    return (version_name,)


@app.cell
def _():
    version_notes = mo.ui.text(label="Notes", full_width=True)
    return (version_notes,)


@app.cell
def _(settings):
    save_button = mo.ui.run_button(label="Save as a new version", disabled=not settings.database_url)
    return (save_button,)


@app.cell
def _(base_prompt, draft_prompt, engine, save_button, settings, version_name, version_notes):
    saved_prompt, _note = None, mo.md("A saved version is inactive until it is reviewed and activated below.")
    if save_button.value:
        try:
            with session_scope(engine) as _session:
                saved_prompt = prompt_lab.save_version(
                    _session, version_name.value, draft_prompt.text, base_prompt, version_notes.value
                )
            _note = mo.callout(mo.md(f"Saved as `{saved_prompt.version}` (inactive)."), kind="success")
        except ValueError as _error:
            _note = mo.callout(f"Not saved: {_error}", kind="danger")
    mo.vstack([mo.hstack([version_name, version_notes, save_button]), _note])
    return (saved_prompt,)


@app.cell(hide_code=True)
def _():
    mo.md(r"""
    ## Review and activate
    """)
    return


@app.cell
def _(active_prompt, engine, saved_prompt, settings):
    mo.stop(not settings.database_url)
    with session_scope(engine) as _session:
        candidates = [as_version(p) for p in list_prompts(_session) if p.version != active_prompt.version]
    mo.stop(not candidates, mo.callout("Save a version first: there is nothing to compare yet.", kind="info"))
    _default = saved_prompt.version if saved_prompt else candidates[-1].version
    candidate_picker = mo.ui.dropdown([c.version for c in candidates], value=_default, label="Candidate")
    candidate_picker
    return candidate_picker, candidates


@app.cell
def _():
    review_mode = mo.ui.dropdown(["llm", "cascade"], value="llm", label="Classify with")
    evaluate_button = mo.ui.run_button(label="Evaluate candidate and active on the triaged messages")
    mo.hstack([review_mode, evaluate_button], justify="start")
    return evaluate_button, review_mode


@app.cell
async def _(
    active_prompt,
    candidate_picker,
    candidates,
    concurrency,
    engine,
    evaluate_button,
    llm_problem,
    review_mode,
    settings,
    triaged_data,
):
    mo.stop(
        not (triaged_data and triaged_data.examples),
        mo.callout("There are no triaged messages: a version is activated only after an evaluation on "
                   "them, so activation stays locked. Triage some messages first.", kind="warn"),
    )  # fmt: skip
    mo.stop(
        llm_problem, mo.callout("No LLM: the review cannot run, so activation stays locked.", kind="warn")
    )
    mo.stop(
        not evaluate_button.value, mo.md(f"{len(triaged_data.examples)} triaged messages await the review.")
    )
    _candidate = next(c for c in candidates if c.version == candidate_picker.value)
    _total = 2 * len(triaged_data.examples)
    try:
        with mo.status.progress_bar(total=_total, title="Evaluating", remove_on_exit=True) as _bar:
            prompt_review = await prompt_lab.review(
                _candidate, active_prompt, triaged_data, settings, mode=review_mode.value,
                concurrency=concurrency.value, progress=lambda n: _bar.update(increment=n), engine=engine,
            )  # fmt: skip
    except LLMUnavailable as _error:
        mo.stop(True, mo.callout(f"The review failed: {_error}", kind="danger"))
    return (prompt_review,)


@app.cell
def _(prompt_review, triaged_data):
    _results = prompt_review.results()
    _a, _b = _results.values()
    _disagree = eval_frames.disagreements(triaged_data.examples, _a, _b)
    mo.vstack([
        mo.ui.table(eval_frames.summary_frame(_results), selection=None),
        eval_charts.f1_by_class(eval_frames.per_class_side_by_side(_results)),
        mo.hstack([eval_charts.confusion_heatmap(eval_frames.confusion_frame(r), label)
                   for label, r in _results.items()]),
        mo.md(f"**{_disagree.height} messages** labeled differently (`a`: candidate, `b`: active):"),
        mo.ui.table(_disagree.drop("id"), selection=None),
    ])  # fmt: skip
    return


@app.cell
def _(prompt_review):
    _new, _old = prompt_review.candidate.version, prompt_review.active.version
    confirm = mo.ui.checkbox(
        label=f"I compared {_new} with {_old} above; {_new} should classify messages from now on"
    )
    return (confirm,)


@app.cell
def _(prompt_review):
    activate_button = mo.ui.run_button(label=f"Activate {prompt_review.candidate.version}", kind="danger")
    return (activate_button,)


@app.cell
def _(activate_button, confirm, engine, prompt_review, settings):
    activated_runs, _note = [], mo.md("Tick the box, then activate; both evaluations are saved with it.")
    if activate_button.value:
        try:
            with session_scope(engine) as _session:
                activated_runs = prompt_lab.activate_reviewed(
                    _session, prompt_review, confirmed=confirm.value
                )
            _runs = ", ".join(f"#{i}" for i in activated_runs)
            _note = mo.callout(
                mo.md(f"`{prompt_review.candidate.version}` is active. Evaluation runs {_runs} are saved."),
                kind="success",
            )
        except prompt_lab.ReviewError as _error:
            _note = mo.callout(f"Not activated: {_error}.", kind="danger")
    mo.vstack([confirm, activate_button, _note])
    return (activated_runs,)


@app.cell
def _(per_kind, sample):
    def test_the_sample_holds_at_most_the_chosen_number_of_each_kind():
        counts = pl.Series([e.kind.value for e in sample]).value_counts()
        assert sample and counts["count"].max() <= per_kind.value

    return


@app.cell
def _(reference, sample):
    def test_the_local_classifier_answers_every_sampled_message():
        assert reference.results["local"].metrics["n"] == len(sample)

    return


if __name__ == "__main__":
    app.run()
