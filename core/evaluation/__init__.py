"""Evaluating classifiers; `tracker eval`, the notebooks and the benchmarks share it.

data (where labeled examples come from) -> runs (a configuration's classifier) -> runner
(batched classification) -> metrics (scores) -> stored (saved runs); frames and charts show
results, prompt_review activates a prompt after a review, workbench checks the database and the
LLM for interactive sessions, nlbse runs the NLBSE'24 benchmark.

Conversations (the tasks opened from a chat): conversations (chat messages, gold tasks) ->
conversations_replay (the messages through ingestion and the pipeline) -> conversations_score.
"""
