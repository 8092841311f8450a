"""Triage inbox: new tasks, critical and newest first; one click accepts, rejects, corrects or merges."""

import streamlit as st

from apps import actions, context, data, live, widgets
from core.models import TaskStatus

PAGE_SIZE = 25

st.title("Triage inbox")
seq = live.follow(live.TASKS)
widgets.show_flash()
flt = widgets.task_filter("triage", statuses=[TaskStatus.new])

offset = widgets.page_offset("triage_page", flt, PAGE_SIZE)
cards, total = data.task_cards(context.database_url(), flt, offset, PAGE_SIZE, seq)
widgets.past_the_end("triage_page", offset, len(cards))
st.session_state[actions.SHOWN] = {card.task.id: card.task.version for card in cards}

st.caption(f"{widgets.count(total, 'new task')} to triage")
if not cards:
    st.info("Nothing to triage. New tasks appear here by themselves.")
else:
    widgets.selection_bar()
for card in cards:
    widgets.triage_card(card)
widgets.pager("triage_page", flt, total, PAGE_SIZE)
