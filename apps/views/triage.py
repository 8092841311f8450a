"""Triage inbox: new tasks, critical and newest first; one click accepts, rejects, corrects or merges."""

import streamlit as st

from apps import actions, context, data, live
from apps.widgets import cards, filters, notices, paging, selection, text
from core.models import TaskStatus

PAGE_SIZE = 25

st.title("Triage inbox")
seq = live.follow(live.TASKS)
notices.show_flash()
flt = filters.task_filter("triage", statuses=[TaskStatus.new])

offset = paging.page_offset("triage_page", flt, PAGE_SIZE)
shown, total = data.task_cards(context.database_url(), flt, offset, PAGE_SIZE, seq)
paging.past_the_end("triage_page", offset, len(shown))
st.session_state[actions.SHOWN] = {card.task.id: card.task.version for card in shown}

st.caption(f"{text.count(total, 'new task')} to triage")
if not shown:
    st.info("Nothing to triage. New tasks appear here by themselves.")
else:
    selection.selection_bar()
for card in shown:
    cards.triage_card(card)
paging.pager("triage_page", flt, total, PAGE_SIZE)
