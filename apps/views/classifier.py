"""Classifier: what classifies messages now, how it scored, and the levers: retrain, change the prompt."""

import polars as pl
import streamlit as st

from apps import actions, charts, context, data, widgets

st.title("Classifier")
widgets.show_flash()
settings = context.settings()
url = context.database_url()
active_prompt, prompt_rows = data.prompt_versions(url)
models = data.local_models(url)
active_model = next((m.version for m in models if m.active), "seed model (none trained here yet)")

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
        "Activate", on_click=actions.activate_prompt, args=(chosen,), disabled=chosen == active_prompt.version
    )

st.subheader("Local models")
st.dataframe(
    [{"version": m.version, "active": m.active, "examples": m.n_examples, "trained": m.created_at,
      "macro_f1": m.metrics.get("macro_f1"), "data hash": m.data_hash} for m in models],
    hide_index=True, key="models_table",
)  # fmt: skip
st.button(
    "Retrain the local model",
    on_click=actions.retrain,
    help="Seed examples plus every human triage decision; the new model becomes the active one.",
)

st.subheader("Evaluation runs")
runs = data.eval_runs(url)
if not runs:
    st.caption("No evaluation runs yet: `tracker eval --dataset FILE.jsonl --save` records one.")
else:
    table = pl.DataFrame(
        [{"run": r["id"], "when": r["created_at"], "dataset": r["dataset"], "classifier": r["classifier"],
          "prompt": r["prompt_version"], "model": r["model"], **{k: r["metrics"].get(k) for k in
          ("n", "accuracy", "macro_f1", "accuracy_at_conf_0_9", "coverage_at_conf_0_9", "llm_calls")}}
         for r in runs]
    )  # fmt: skip
    st.dataframe(table, hide_index=True, key="evals_table")
    st.altair_chart(charts.eval_scores(table), width="stretch")
