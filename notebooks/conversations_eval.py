import marimo

__generated_with = "0.25.2"
app = marimo.App(width="full", app_title="Conversations evaluation")

with app.setup:
    from pathlib import Path

    import marimo as mo
    import polars as pl
    from sqlalchemy.exc import DBAPIError

    from core.classification.dataset import DatasetError
    from core.config import get_settings
    from core.evaluation import conversations_view, workbench
    from core.evaluation import runs as eval_runs
    from core.evaluation.conversations import ConversationSet, known_sets, load_conversations
    from core.evaluation.conversations_replay import scratch_database


@app.function
def cli_arg(name):
    """`--name value` given to `python notebook.py` or `marimo edit notebook.py --`; None when not
    given, and in tests."""
    try:
        return mo.cli_args().get(name)
    except Exception:  # pytest runs cells without a marimo runtime, so without arguments
        return None


@app.cell(hide_code=True)
def _():
    mo.md(r"""
    # Conversations evaluation

    Replay a labelled chat through the real pipeline (ingestion, the local classifier,
    conversations and tasks) into a scratch database that is dropped afterwards, then read the
    tasks it opened beside the gold tasks: the figures of `tracker eval --conversations`, each
    gold task with the task matched to it (kind, priority, status and assignee side by side), the
    tasks that match none, and the messages placed somewhere else than gold says.
    """)
    return


@app.cell
def _():
    _bench = workbench.open_database(get_settings())
    settings, database_problem = _bench.settings, _bench.problem
    mo.callout(mo.md(f"{database_problem}\n\nThe replay needs a database server."), kind="warn") if (
        database_problem
    ) else None
    return (settings,)


@app.cell
def _():
    _given = (cli_arg("conversations"), cli_arg("tasks"))
    data_sets = {s.name: s for s in known_sets()}
    if all(_given):
        data_sets = {"the files given": ConversationSet("the files given", *map(Path, _given))} | data_sets
    return (data_sets,)


@app.cell
def _(data_sets):
    set_picker = mo.ui.dropdown([*data_sets, "other files"], value=next(iter(data_sets)), label="Data set")
    return (set_picker,)


@app.cell
def _():
    messages_path = mo.ui.text(label="Messages file (JSON Lines)", full_width=True)
    return (messages_path,)


@app.cell
def _():
    tasks_path = mo.ui.text(label="Gold tasks file", full_width=True)
    return (tasks_path,)


@app.cell
def _(data_sets, messages_path, set_picker, tasks_path):
    chosen = data_sets.get(set_picker.value) or ConversationSet(
        "other files", Path(messages_path.value.strip()), Path(tasks_path.value.strip())
    )
    _files = mo.hstack([messages_path, tasks_path]) if set_picker.value == "other files" else None
    mo.vstack([set_picker, _files])
    return (chosen,)


@app.cell
def _(chosen):
    try:
        data, data_problem = load_conversations(chosen.messages, chosen.tasks), None
    except DatasetError as _e:
        data, data_problem = None, str(_e)
    mo.stop(data is None, mo.callout(mo.md(f"**Cannot read the data set.** {data_problem}"), kind="warn"))
    mo.md(f"**{chosen.name}**: {len(data.messages)} messages, {len(data.gold_tasks)} gold tasks "
          f"(`{chosen.messages}`).")  # fmt: skip
    return (data,)


@app.cell
async def _(data, settings):
    mo.stop(not settings.database_url, mo.callout("No database server: nothing to replay into.", kind="warn"))
    _classifier = eval_runs.build(eval_runs.RunSpec("local"), settings)
    try:
        with (
            mo.status.spinner(title=f"Replaying {len(data.messages)} messages…", remove_on_exit=True),
            scratch_database(settings.database_url) as _engine,
        ):
            view = await conversations_view.replay_view(
                data, engine=_engine, settings=settings, classifier=_classifier
            )
    except DBAPIError as _e:
        _why = f"The replay needs a scratch database ({_e.orig}): use a role that may create databases."
        mo.stop(True, mo.callout(_why, kind="danger"))
    return (view,)


@app.cell
def _(view):
    figures = conversations_view.figures_frame(view.score)
    _misplaced = view.misplaced().height
    _counts = view.tasks["match"].value_counts(sort=True)
    _by_match = ", ".join(f"{n} {m}" for m, n in _counts.iter_rows())
    summary = f"{_misplaced} of {view.messages.height} messages misplaced; tasks: {_by_match}"
    if mo.app_meta().mode == "script":
        with pl.Config(tbl_rows=-1, tbl_hide_dataframe_shape=True):
            print(f"{figures}\n{summary}")
    mo.vstack([mo.md("## Figures"), mo.ui.table(figures, selection=None, pagination=False), mo.md(summary)])
    return


@app.cell
def _(view):
    _gold = view.tasks.filter(pl.col("gold_task").is_not_null())
    _options = {
        f"{t} · {title or ''}"[:90]: t for t, title in _gold.select("gold_task", "gold_title").iter_rows()
    }
    gold_filter = mo.ui.dropdown({"every gold task": None, **_options}, value="every gold task",
                                 label="Gold task", searchable=True)  # fmt: skip
    return (gold_filter,)


@app.cell
def _():
    only_misplaced = mo.ui.switch(value=True, label="only the misplaced messages")
    return (only_misplaced,)


@app.cell
def _(gold_filter, only_misplaced, view):
    shown = view.for_gold_task(gold_filter.value) if gold_filter.value else view
    shown_messages = shown.misplaced() if only_misplaced.value else shown.messages
    mo.vstack([
        mo.md("## Gold tasks and system tasks side by side"),
        mo.md("`match`: matched; missed; settled in the chat (answered or cancelled, and no task "
              "holds it: right); spurious (a task that matches no gold task). `also_in`: other tasks "
              "holding its messages; `gold_in_task`: the gold tasks of the task's messages (`\"\"`: none)."),
        mo.hstack([gold_filter, only_misplaced], justify="start"),
        mo.ui.table(shown.tasks, selection=None),
        mo.md(f"## Messages ({shown_messages.height})\n\n`expected_task`: the task matched to the "
              "message's gold task; `problem`: why it is misplaced."),
        mo.ui.table(shown_messages.drop("misplaced"), selection=None),
    ])  # fmt: skip
    return shown, shown_messages


@app.cell
def _(data, view):
    def test_every_message_and_every_gold_task_is_in_the_view():
        assert view.messages.height == len(data.messages)
        assert view.tasks["gold_task"].drop_nulls().len() == view.score.gold_tasks

    return


if __name__ == "__main__":
    app.run()
