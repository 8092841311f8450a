# ruff: noqa: B018  (a marimo cell shows the value of its last expression)
import marimo

__generated_with = "0.25.2"
app = marimo.App(width="medium", app_title="Classifier evaluation")

with app.setup:
    import os

    import marimo as mo
    import polars as pl

    from core.classification.local.registry import list_local_models
    from core.classification.prompts import DEFAULT_PROMPT, as_version, get_active_prompt, list_prompts
    from core.config import get_settings
    from core.db import session_scope
    from core.evaluation import charts as eval_charts
    from core.evaluation import data as eval_data
    from core.evaluation import frames as eval_frames
    from core.evaluation import runs as eval_runs
    from core.evaluation import stored as stored_runs
    from core.evaluation import workbench
    from core.evaluation.metrics import KIND_LABELS


@app.function
def cli_arg(name):
    """`--name value` given to `python notebook.py` or `marimo edit notebook.py --` ("" for a bare
    `--name`); None when not given, and in tests."""
    try:
        return mo.cli_args().get(name)
    except Exception:  # pytest runs cells without a marimo runtime, so without arguments
        return None


@app.cell(hide_code=True)
def _():
    mo.md(r"""
    # Classifier evaluation

    Score the local classifier, the LLM and the cascade on the messages people triaged (or on a
    JSON Lines data set), compare two runs message by message, read the errors, and save a run
    for the dashboard's Classifier page. The database and the LLM are the ones `tracker` uses
    (`TRACKER_*` settings). The tasks the classifier makes of whole conversations are scored in
    `notebooks/conversations_eval.py` (gold and system tasks side by side, the misplaced messages).
    """)
    return


@app.cell
def _():
    _bench = workbench.open_database(get_settings())
    settings, engine, database_problem = _bench.settings, _bench.engine, _bench.problem
    _hint = "Triaged messages, prompt versions and saved runs need it; files and the seed set still work."
    mo.callout(mo.md(f"{database_problem}\n\n{_hint}"), kind="warn") if database_problem else None
    return engine, settings


@app.cell
async def _(settings):
    llm_problem = await workbench.llm_problem(settings)
    _where = settings.llm_base_url if settings.llm_provider == "openai" else settings.ollama_url
    (
        mo.callout(mo.md(f"**The LLM cannot be used.** {llm_problem}"), kind="warn")
        if llm_problem
        else mo.md(f"LLM: `{settings.llm_model}` at {_where} answers.")
    )
    return (llm_problem,)


@app.cell
def _(engine, settings):
    triaged_data = None
    if settings.database_url:
        with session_scope(engine) as _session:
            triaged_data = eval_data.triaged(_session)
    return (triaged_data,)


@app.cell
def _(engine, settings):
    prompt_versions, active_prompt = [DEFAULT_PROMPT], DEFAULT_PROMPT
    if settings.database_url:
        with session_scope(engine) as _session:
            prompt_versions = [as_version(p) for p in list_prompts(_session)]
            active_prompt = get_active_prompt(_session)
    return active_prompt, prompt_versions


@app.cell
def _(engine, settings):
    local_model_files = {"active local model": None}
    if settings.database_url:
        with session_scope(engine) as _session:
            local_model_files |= {m.version: m.path for m in list_local_models(_session)
                                  if os.path.isfile(m.path)}  # fmt: skip
    return (local_model_files,)


@app.cell(hide_code=True)
def _():
    mo.md(r"""
    ## Data
    """)
    return


@app.cell
def _():
    _named = cli_arg("dataset") or os.environ.get("TRACKER_EVAL_DATASET") or ""
    _sources = {
        "triaged messages (database)": "db",
        "a JSON Lines file": "file",
        "the seed set's held-out part": "seed",
    }
    _default = eval_data.default_source(str(_named))
    source_picker = mo.ui.dropdown(
        _sources, value=next(k for k, v in _sources.items() if v == _default), label="Data"
    )
    path_input = mo.ui.text(value=str(_named), label="JSON Lines file", full_width=True)
    mo.hstack([source_picker, path_input], widths=[1, 2])
    return path_input, source_picker


@app.cell
def _(path_input, source_picker, triaged_data):
    choice = eval_data.choose_data(source_picker.value, path_input.value.strip() or None, triaged_data)
    data = choice.data
    _problems = [mo.callout(mo.md(p), kind="warn") for p in choice.problems]
    _scoring = mo.md(f"**Scoring:** {data.description} (saved runs record it as `{data.name}`).")
    mo.vstack([*_problems, _scoring])
    return choice, data


@app.cell
async def _(choice, settings):
    mo.stop(not choice.unlabeled)
    _local = eval_runs.build(eval_runs.RunSpec("local"), settings)
    unlabeled_frame = eval_frames.classified_frame(choice.unlabeled, await _local.classify(choice.unlabeled))
    mo.vstack([
        mo.md(f"The file's {len(choice.unlabeled)} messages have no labels to score against; "
              "here is what the local classifier says about them."),
        mo.ui.table(unlabeled_frame, selection=None),
    ])  # fmt: skip
    return


@app.cell(hide_code=True)
def _():
    mo.md(r"""
    ## Classifiers
    """)
    return


@app.cell
def _(llm_problem):
    mode_picker = mo.ui.multiselect(
        ["local"] if llm_problem else ["local", "cascade", "llm"], value=["local"], label="Classifiers"
    )
    return (mode_picker,)


@app.cell
def _(active_prompt, prompt_versions):
    prompt_picker = mo.ui.multiselect(
        [p.version for p in prompt_versions], value=[active_prompt.version], label="Prompt versions"
    )
    return (prompt_picker,)


@app.cell
def _(settings):
    llm_models_input = mo.ui.text(value=settings.llm_model, label="LLM models (comma-separated)")
    return (llm_models_input,)


@app.cell
def _(local_model_files):
    local_picker = mo.ui.multiselect(
        list(local_model_files), value=["active local model"], label="Local models"
    )
    return (local_picker,)


@app.cell
def _():
    concurrency = mo.ui.slider(1, 16, value=4, label="LLM calls at once")
    return (concurrency,)


@app.cell
def _():
    run_button = mo.ui.run_button(label="Run evaluation")
    return (run_button,)


@app.cell
def _(concurrency, llm_models_input, local_picker, mode_picker, prompt_picker, run_button):
    mo.vstack([
        mo.hstack([mode_picker, local_picker, prompt_picker]),
        mo.hstack([llm_models_input, concurrency, run_button]),
    ])  # fmt: skip
    return


@app.cell
def _(llm_models_input, local_model_files, local_picker, mode_picker, prompt_picker, prompt_versions):
    specs = eval_runs.plan_runs(
        mode_picker.value,
        [p for p in prompt_versions if p.version in prompt_picker.value],
        [m.strip() for m in llm_models_input.value.split(",") if m.strip()],
        [local_model_files[name] for name in local_picker.value],
    )
    mo.md("Runs: " + (", ".join(f"`{s.label}`" for s in specs) or "none"))
    return (specs,)


@app.cell
async def _(concurrency, data, engine, run_button, settings, specs):
    mo.stop(not specs, mo.callout("Pick at least one classifier.", kind="info"))
    mo.stop(
        any(s.uses_llm for s in specs) and not run_button.value,
        mo.callout(mo.md("Press **Run evaluation**: these runs ask the LLM (answers already in the "
                         "shared cache cost nothing)."), kind="info"),
    )  # fmt: skip
    _local = eval_data.fair_local(data, settings.runtime_dir)
    _total = len(data.examples) * len(specs)
    with mo.status.progress_bar(total=_total, title="Classifying", remove_on_exit=True) as _bar:
        runs = await eval_runs.evaluate_specs(
            specs, data.examples, settings, concurrency=concurrency.value,
            progress=lambda n: _bar.update(increment=n), local=_local, engine=engine,
        )  # fmt: skip
    return (runs,)


@app.cell
def _(runs):
    mo.stop(not runs.failures)
    _lines = "\n".join(f"- `{label}`: {why}" for label, why in runs.failures.items())
    mo.callout(mo.md(f"**These runs failed:**\n\n{_lines}\n\nThe other runs are below."), kind="danger")
    return


@app.cell
def _(choice, data, llm_problem, runs):
    mo.stop(not runs.results, mo.callout("No run finished: nothing to show.", kind="warn"))
    summary = eval_frames.summary_frame(runs.results)
    if mo.app_meta().mode == "script":
        _notes = [*choice.problems, *(f"{k}: {v}" for k, v in runs.failures.items()), llm_problem or ""]
        print("\n".join(f"note: {n}" for n in _notes if n))
        with pl.Config(tbl_cols=-1, tbl_width_chars=160, tbl_hide_dataframe_shape=True):
            print(f"data: {data.description}\n{summary}")
    mo.vstack([mo.md("## Scores and cost"), mo.ui.table(summary, selection=None)])
    return


@app.cell
def _(runs):
    mo.stop(not runs.results)
    inspect_picker = mo.ui.dropdown(
        list(runs.results), value=next(iter(runs.results)), label="Run to inspect"
    )
    inspect_picker
    return (inspect_picker,)


@app.cell
def _(inspect_picker, runs):
    inspected = runs.results[inspect_picker.value]
    _calibration = eval_frames.calibration_frame(inspected)
    _ece = eval_frames.calibration_error(_calibration)
    mo.vstack([
        mo.md(f"### {inspect_picker.value}\n\nmacro-F1 **{inspected.metrics['macro_f1']}**, "
              f"accuracy at confidence ≥ 0.9: {inspected.metrics['accuracy_at_conf_0_9']}, "
              f"expected calibration error: {_ece}"),
        mo.ui.table(eval_frames.per_class_frame(inspected), selection=None),
        mo.hstack([
            eval_charts.confusion_heatmap(eval_frames.confusion_frame(inspected), "Confusion"),
            eval_charts.calibration_chart(_calibration, "Calibration"),
        ]),
    ])  # fmt: skip
    return (inspected,)


@app.cell(hide_code=True)
def _():
    mo.md(r"""
    ## Two runs side by side
    """)
    return


@app.cell
def _(data, engine, settings):
    saved_run_ids = {}
    if settings.database_url:
        with session_scope(engine) as _session:
            saved_run_ids = stored_runs.saved_runs(_session, data.name)
    return (saved_run_ids,)


@app.cell
def _(runs, saved_run_ids):
    _options = [*runs.results, *saved_run_ids]
    compare_a = mo.ui.dropdown(_options, value=_options[0] if _options else None, label="A")
    compare_b = mo.ui.dropdown(_options, value=_options[1] if len(_options) > 1 else None, label="B")
    mo.hstack([compare_a, compare_b], justify="start")
    return compare_a, compare_b


@app.cell
def _(compare_a, compare_b, data, engine, runs, saved_run_ids, settings):
    mo.stop(
        not (compare_a.value and compare_b.value) or compare_a.value == compare_b.value,
        mo.callout("Pick two different runs: run two configurations, or pick a saved run.", kind="info"),
    )

    def _result(label):
        if label in runs.results:
            return runs.results[label]
        with session_scope(engine) as _session:
            return stored_runs.load_eval_run(_session, saved_run_ids[label])

    pair = {compare_a.value: _result(compare_a.value), compare_b.value: _result(compare_b.value)}
    disagreement = eval_frames.disagreements(data.examples, *pair.values())
    mo.vstack([
        mo.ui.table(eval_frames.summary_frame(pair), selection=None),
        eval_charts.f1_by_class(eval_frames.per_class_side_by_side(pair)),
        mo.md(f"**{disagreement.height} messages** labeled differently (`right`: which run agrees with "
              "the human label)"),
        mo.ui.table(disagreement.drop("id"), selection=None),
    ])  # fmt: skip
    return


@app.cell(hide_code=True)
def _():
    mo.md(r"""
    ## Errors
    """)
    return


@app.cell
def _():
    gold_filter = mo.ui.dropdown(["any", *KIND_LABELS], value="any", label="True kind")
    predicted_filter = mo.ui.dropdown(["any", *KIND_LABELS, "error"], value="any", label="Predicted kind")
    return gold_filter, predicted_filter


@app.cell
def _(data, gold_filter, inspect_picker, inspected, predicted_filter):
    wrong = eval_frames.errors(
        eval_frames.predictions_frame(data.examples, inspected),
        gold=None if gold_filter.value == "any" else gold_filter.value,
        predicted=None if predicted_filter.value == "any" else predicted_filter.value,
    )
    _columns = ["text", "reply_to", "gold_kind", "kind", "confidence", "priority", "title", "error"]
    mo.vstack([
        mo.md(f"Errors of `{inspect_picker.value}`, with the message each one replies to:"),
        mo.hstack([gold_filter, predicted_filter], justify="start"),
        mo.md(f"**{wrong.height}** errors"),
        mo.ui.table(wrong.select(_columns), selection=None),
    ])  # fmt: skip
    return


@app.cell(hide_code=True)
def _():
    mo.md(r"""
    ## Save
    """)
    return


@app.cell
def _(settings):
    save_button = mo.ui.run_button(label="Save the inspected run", disabled=not settings.database_url)
    return (save_button,)


@app.cell
def _(data, engine, inspect_picker, inspected, runs, save_button, settings):
    mo.stop(not settings.database_url, mo.callout("No database: runs cannot be saved.", kind="warn"))
    _to_save = {}
    if save_button.value:
        _to_save = {inspect_picker.value: inspected}
    elif cli_arg("save") is not None:
        _to_save = runs.results
    saved_run_numbers = {}
    if _to_save:
        with session_scope(engine) as _session:
            saved_run_numbers = {
                label: stored_runs.save_eval_run(_session, r, data.name) for label, r in _to_save.items()
            }
    _done = ", ".join(f"`{label}` as run #{number}" for label, number in saved_run_numbers.items())
    mo.vstack([
        save_button,
        mo.callout(mo.md(f"Saved {_done}: the dashboard's Classifier page lists it."), kind="success")
        if _done else mo.md("Saved runs are listed on the dashboard's Classifier page."),
    ])  # fmt: skip
    return (saved_run_numbers,)


@app.cell
def _(data, runs):
    def test_every_finished_run_scored_every_message():
        assert runs.results, runs.failures
        assert all(r.metrics["n"] == len(data.examples) for r in runs.results.values())

    return


@app.cell
def _(inspected):
    def test_the_inspected_run_has_a_confusion_heatmap_and_a_calibration_plot():
        heat = eval_charts.confusion_heatmap(eval_frames.confusion_frame(inspected)).to_dict()
        calibration = eval_charts.calibration_chart(eval_frames.calibration_frame(inspected)).to_dict()
        assert heat["layer"][0]["mark"]["type"] == "rect"
        assert calibration["layer"][1]["encoding"]["x"]["field"] == "confidence"

    return


if __name__ == "__main__":
    app.run()
