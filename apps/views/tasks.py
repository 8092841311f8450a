"""Tasks: every task, as a list or as a board by status, filtered and searched."""

import streamlit as st

from apps import context, data, live
from apps.widgets import cards, filters, notices, paging, tables, text
from core.models import TaskStatus
from core.triage.queries import SortKey

PAGE_SIZE = 50
PER_COLUMN = 20
SORTS: dict[SortKey, str] = {
    "triage": "Critical, newest first",
    "newest": "Newest",
    "oldest": "Oldest",
    "updated": "Last changed",
}

st.title("Tasks")
seq = live.follow(live.TASKS)
notices.show_flash()
flt = filters.task_filter("tasks", more=True)
url = context.database_url()
view = st.radio("View", ["List", "Board"], horizontal=True, key="tasks_view", label_visibility="collapsed")

if view == "List":
    sort = st.selectbox("Order", list(SORTS), format_func=SORTS.__getitem__, key="tasks_sort") or "triage"
    offset = paging.page_offset("tasks_page", (flt, sort), PAGE_SIZE)
    items, total = data.task_list(url, flt, offset, PAGE_SIZE, sort, seq)
    paging.past_the_end("tasks_page", offset, len(items))
    st.caption(text.count(total, "task"))
    exports = data.task_exports(url, tuple(t.id for t in items), seq)
    st.dataframe(tables.task_rows(items, exports), hide_index=True, key="tasks_table")
    paging.pager("tasks_page", (flt, sort), total, PAGE_SIZE)
else:
    statuses = flt.status or list(TaskStatus)
    flt.status = statuses
    board = data.board(url, flt, PER_COLUMN, seq)
    for column, status in zip(st.columns(len(statuses)), statuses, strict=True):
        items, total = board[status]
        with column:
            st.subheader(f"{status} · {total:,}")
            for task in items:
                cards.board_card(task)
            if total > len(items):
                st.caption(f"{total - len(items):,} more: use the list or narrow the filters")
