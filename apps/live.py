"""Live screens: a probe of the event outbox every second reruns the screen when something changed."""

from __future__ import annotations

from collections.abc import Sequence

import streamlit as st

from apps import context, data
from core import events

PROBE_SECONDS = 1.0
TASKS = (events.TASK_CREATED, events.TASK_UPDATED)
MESSAGES = (events.MESSAGE_CREATED, events.MESSAGES_IMPORTED, events.MESSAGE_CLASSIFIED)


def follow(types: Sequence[str]) -> int:
    """The newest event seq of these types; the screen reruns by itself when a newer one is committed."""
    seq = data.latest_seq(context.database_url(), types)
    st.session_state[_key(types)] = seq
    with st.sidebar:  # its own root: the probe's runs never shift the screen's elements
        _probe(tuple(types))
    return seq


@st.fragment(run_every=PROBE_SECONDS)
def _probe(types: tuple[str, ...]) -> None:
    if data.latest_seq(context.database_url(), types) != st.session_state.get(_key(types)):
        st.rerun()
    st.caption(":green[●] live")


def _key(types: Sequence[str]) -> str:
    return "live_seq:" + ",".join(types)
