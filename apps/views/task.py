"""Task: one task's whole story: the conversation with each message's role, the reporters, the
resolution, every change with its evidence, and the open tasks like it; merge it, move a message out."""

import streamlit as st

from apps import context, data, live
from apps.widgets import detail, notices
from core.triage.queries import TaskNotFound

st.title("Task")
seq = live.follow(live.TASKS)
notices.show_flash()
task_id = detail.chosen_task()
if task_id is None:
    st.info("Give a task number, or open a task from the triage inbox or the board.")
    st.stop()
try:
    task, evidence = data.task_page(context.database_url(), task_id, seq)
except TaskNotFound:
    st.warning(f"There is no task #{task_id}.")
    st.stop()

detail.head(task)
left, right = st.columns([3, 2])
with left:
    detail.conversation(task)
with right:
    detail.exports(task, data.export_targets(context.database_url()))
    detail.similar(task)
    detail.history(task, evidence)
