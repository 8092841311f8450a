"""Classifier: what classifies messages now, how it scored, and the levers: retrain, change the prompt."""

import streamlit as st

from apps import actions, charts, context, data
from apps.widgets import notices, tables

st.title("Classifier")
notices.show_flash()
settings = context.settings()
url = context.database_url()
active_prompt, prompt_rows = data.prompt_versions(url)
models = data.local_models(url)
active_model = next((m.version for m in models if m.active), "built-in seed model")

cols = st.columns(4)
cols[0].metric("Mode", settings.classifier)
cols[1].metric("LLM", settings.llm_model, help=f"provider {settings.llm_provider}")
cols[2].metric("Active prompt", active_prompt.version)
cols[3].metric("Local model", active_model)
with st.expander(f"Prompt {active_prompt.version}"):
    st.code(active_prompt.text, language=None, wrap_lines=True)

st.subheader("Prompt versions")
st.dataframe(prompt_rows, hide_index=True, key="prompts_table")
with st.container(horizontal=True, vertical_alignment="bottom"):
    chosen = st.selectbox("Version", [row["version"] for row in prompt_rows], key="prompt_choice")
    st.button(
        "Activate",
        key="activate_prompt",
        on_click=actions.activate_prompt,
        args=(chosen,),
        disabled=chosen == active_prompt.version,
    )

st.subheader("Local models")
st.dataframe(tables.model_rows(models), hide_index=True, key="models_table")
st.button(
    "Retrain the local model",
    key="retrain",
    on_click=actions.retrain,
    help="Seed examples plus every human triage decision; the new model becomes the active one.",
)

st.subheader("Evaluation runs")
runs = data.eval_runs(url)
if not runs:
    st.caption("No evaluation runs yet: `tracker eval --dataset FILE.jsonl --save` records one.")
else:
    table = tables.eval_table(runs)
    st.dataframe(table, hide_index=True, key="evals_table")
    st.altair_chart(charts.eval_scores(table), width="stretch")
