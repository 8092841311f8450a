"""Analytics: message flow by chat and by channel, kind mix and noise, triage speed, LLM spend,
confidence, agreement with people."""

from collections.abc import Callable

import altair as alt
import polars as pl
import streamlit as st

from apps import charts, context, data

st.title("Analytics")
days = st.radio(
    "Period", [7, 30, 90], index=1, format_func="last {} days".format, horizontal=True, key="days"
)
figures = data.figures(context.database_url(), days)


def show(title: str, frame: pl.DataFrame, draw: Callable[[pl.DataFrame], alt.Chart]) -> None:
    """One titled chart, or a note when the period has no data for it."""
    st.subheader(title)
    if frame.is_empty():
        st.caption("No data in this period yet.")
    else:
        st.altair_chart(draw(frame).properties(height=260), width="stretch")


left, right = st.columns(2)
with left:
    show("Messages per day, by chat", figures["messages_per_day"], charts.messages_per_day)
    show("Noise share per day", figures["noise_share"], charts.noise_share)
    show("LLM calls and tokens per day", figures["llm_usage"], charts.llm_volume)
    show("Classifier confidence", figures["confidence"], charts.confidence)
with right:
    show("Kind mix", figures["kind_mix"], charts.kind_mix)
    show("Messages by channel", figures["by_channel"], charts.by_channel)
    show("Time from message to triage (minutes)", figures["triage_delay"], charts.triage_delay)
    show("LLM latency per day", figures["llm_usage"], charts.llm_latency)
    show("Agreement of the classifier with people", figures["agreement"], charts.agreement)
