"""Decisions taken on the screens, as widget callbacks.

Each one runs through core in one transaction (all of it or nothing), publishes its events
on NATS (the API pushes them to WebSocket clients) and records the human decision as
labels. The person then sees what happened, or why nothing did.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import partial
from typing import Any

import streamlit as st
from sqlmodel import Session

from apps import context, data
from core.classification import prompts
from core.classification.local import training
from core.exports.plan import request_export
from core.models import LabelOrigin, Task
from core.triage import commands
from core.triage.commands import InvalidTaskChange, TaskConflict
from core.triage.queries import TaskNotFound

CONFLICT = (
    "Nothing was changed: someone else changed {which} since this page was loaded. "
    "The page now shows the current state; check it and decide again."
)
FIELDS = {"title", "kind", "priority", "status", "assignee"}
CORRECTABLE = ("title", "kind", "priority")
SHOWN = "triage_shown"
"""Session key: the tasks (id -> version) the triage screen showed last."""
TASK_PARAM = "task"
"""The query parameter naming the task the task page shows."""


def card_key(name: str, task_id: int, version: int) -> str:
    """A widget key of one task card: a new version of the task gets fresh widgets."""
    return f"{name}:{task_id}:{version}"


def flash(level: str, text: str) -> None:
    """A message for the next render of the screen."""
    st.session_state.setdefault("flash", []).append((level, text))


def _who() -> dict[str, Any]:
    return {"origin": LabelOrigin.dashboard, "author": context.author()}


def _decide(
    done: str | Callable[[Any], str], work: Callable[[Session], Any], which: str = "the task"
) -> bool:
    """Run one decision through core; say what happened (`done`, or `done` of what `work`
    returned), or why nothing did. True when it was done.

    `work` runs in another thread, where Streamlit's session state cannot be read: every
    value it needs is read before.
    """
    try:
        value = context.services().run(work)
    except TaskConflict:
        flash("error", CONFLICT.format(which=which))
    except InvalidTaskChange as exc:
        field = f"the {exc.field} " if exc.field in FIELDS else ""
        flash("error", f"Nothing was changed: {field}{exc.reason}.")
    except TaskNotFound as exc:
        flash("error", f"Nothing was changed: task #{exc} does not exist.")
    else:
        flash("success", done(value) if callable(done) else done)
        return True
    return False


def export_key(task_id: int) -> str:
    return f"export-target-{task_id}"


def export_to(task_id: int) -> None:
    """ "Export to ...": the chosen target gets the task (again, after a failure); the worker sends it."""
    target = st.session_state.get(export_key(task_id))
    if not target:
        flash("error", "Choose a target to export to.")
        return

    def work(session: Session) -> tuple[None, list[dict[str, Any]]]:
        task = session.get(Task, task_id)
        if task is None:
            raise TaskNotFound(task_id)
        return None, request_export(session, task, target)

    _decide(f"Task #{task_id} is on its way to {target}.", work)


def accept(task_id: int, version: int) -> None:
    who = _who()
    _decide(
        f"Accepted task #{task_id}.",
        lambda s: commands.accept_task(s, task_id, expected_version=version, **who),
    )


def reject(task_id: int, version: int) -> None:
    who = _who()
    _decide(
        f"Rejected task #{task_id} as noise.",
        lambda s: commands.reject_task(s, task_id, expected_version=version, **who),
    )


def correct(task_id: int, version: int) -> None:
    """Save the title, kind and priority typed on the card."""
    values = {name: st.session_state[card_key(name, task_id, version)] for name in CORRECTABLE}
    who = _who()
    _decide(
        f"Saved task #{task_id}.",
        lambda s: commands.change_task(s, task_id, values, expected_version=version, **who),
    )


def assign(task_id: int, version: int) -> None:
    name = st.session_state[card_key("assignee", task_id, version)]
    who = _who()
    _decide(
        f"Assigned task #{task_id} to {name}." if name.strip() else f"Unassigned task #{task_id}.",
        lambda s: commands.assign_task(s, task_id, name, expected_version=version, **who),
    )


def merge(task_id: int, version: int) -> None:
    into = st.session_state[card_key("merge_into", task_id, version)]
    if into is None:
        flash("error", "Nothing was changed: give the number of the task to merge into.")
        return
    _merge(task_id, version, int(into))


def merge_into(task_id: int, version: int, into_id: int) -> None:
    """Task page: this task is a duplicate of a similar one; the page then shows that one."""
    if _merge(task_id, version, into_id):
        open_task(into_id)


def _merge(task_id: int, version: int, into_id: int) -> bool:
    who = _who()
    return _decide(
        f"Merged task #{task_id} into #{into_id}.",
        lambda s: commands.merge_task(s, task_id, into_id, expected_version=version, **who),
        which=f"task #{task_id}",
    )


def move_key(message_id: int, task_id: int, version: int) -> str:
    """The key of the "to task #" input of one message on the task page."""
    return card_key(f"move_to:{message_id}", task_id, version)


def move_message(task_id: int, message_id: int, version: int) -> None:
    """Task page: the message belongs to the task whose number was typed beside it."""
    into = st.session_state[move_key(message_id, task_id, version)]
    if into is None:
        flash("error", "Nothing was changed: give the number of the task to move the message to.")
        return
    who = _who()
    _decide(
        f"Moved message #{message_id} to task #{into}.",
        lambda s: commands.move_message(s, task_id, message_id, int(into), **who),
    )


def split_message(task_id: int, message_id: int) -> None:
    """Task page: the message is about other work: it opens a task of its own."""
    who = _who()

    def work(session: Session) -> tuple[int, list[dict[str, Any]]]:
        task, recorded = commands.move_message(session, task_id, message_id, None, **who)
        return task.id or 0, recorded

    _decide(lambda new_id: f"Moved message #{message_id} to a new task #{new_id}.", work)


def open_task(task_id: int) -> None:
    """Make the task page show this task (its address says which: ?task=ID)."""
    st.query_params[TASK_PARAM] = str(task_id)


def move(task_id: int, version: int) -> None:
    """Board: put the task in the status chosen on its card."""
    status = st.session_state[card_key("status", task_id, version)]
    who = _who()
    _decide(
        f"Moved task #{task_id} to {status}.",
        lambda s: commands.change_task(s, task_id, {"status": status}, expected_version=version, **who),
    )


def selected() -> dict[int, int]:
    """The tasks ticked on the triage screen, with the versions the person saw."""
    shown: Mapping[int, int] = st.session_state.get(SHOWN, {})
    return {tid: v for tid, v in shown.items() if st.session_state.get(card_key("pick", tid, v))}


def select_all(value: bool) -> None:
    for tid, v in st.session_state.get(SHOWN, {}).items():
        st.session_state[card_key("pick", tid, v)] = value


def _for_selected(done: str, decide: commands.Decision) -> None:
    versions = selected()
    if not versions:
        flash("error", "Nothing was changed: tick the tasks to act on first.")
        return
    _decide(
        done.replace("{n}", str(len(versions))),
        lambda s: commands.for_each_task(s, versions, decide),
        which="one of the selected tasks",
    )


def export_selected() -> None:
    """ "Export selected to ...": every ticked task goes to the chosen target."""
    target = st.session_state.get("bulk_export_target")
    if not target:
        flash("error", "Choose a target to export to.")
        return

    def export(session: Session, task_id: int, **_: Any) -> commands.Decided:
        task = session.get(Task, task_id)
        if task is None:
            raise TaskNotFound(task_id)
        return task, request_export(session, task, target)

    _for_selected(f"{{n}} tasks are on their way to {target}.", export)


def accept_selected() -> None:
    _for_selected("Accepted {n} tasks.", partial(commands.accept_task, **_who()))


def reject_selected() -> None:
    _for_selected("Rejected {n} tasks as noise.", partial(commands.reject_task, **_who()))


def change_selected(field: str) -> None:
    """Set the kind or the priority chosen in the selection bar on every selected task."""
    value = st.session_state[f"bulk_{field}"]
    who = _who()

    def decide(session: Session, task_id: int, *, expected_version: int | None) -> commands.Decided:
        return commands.change_task(
            session, task_id, {field: value}, expected_version=expected_version, **who
        )

    _for_selected(f"Set the {field} of {{n}} tasks to {value}.", decide)


def assign_selected() -> None:
    name = st.session_state["bulk_assignee"]
    _for_selected(f"Assigned {{n}} tasks to {name}.", partial(commands.assign_task, assignee=name, **_who()))


def merge_selected() -> None:
    into = st.session_state["bulk_merge_into"]
    if into is None:
        flash("error", "Nothing was changed: give the number of the task to merge into.")
        return
    _for_selected(
        f"Merged {{n}} tasks into #{into}.", partial(commands.merge_task, into_id=int(into), **_who())
    )


def activate_prompt(version: str) -> None:
    """Make a stored prompt version the one the LLM classifier uses."""

    def work(session: Session) -> tuple[None, list[dict[str, Any]]]:
        prompts.activate_prompt(session, version)
        return None, []

    try:
        context.services().run(work)
    except KeyError:
        flash("error", f"Nothing was changed: there is no prompt version {version!r}.")
    else:
        flash("success", f"Prompt {version} is now active; the worker picks it up within seconds.")
    data.forget_classifier_state()


def retrain() -> None:
    """Train the local model on the seed examples plus every human decision, and activate it."""
    data_dir = context.settings().runtime_dir

    def work(session: Session) -> tuple[Any, list[dict[str, Any]]]:
        return training.train_local_model(None, data_dir, session), []

    result = context.services().run(work)
    sources = ", ".join(f"{n} {name.replace('_', ' ')}" for name, n in result.sources.items())
    flash("success", f"Trained local model {result.artifact.version} ({sources}) and made it active.")
    data.forget_classifier_state()
