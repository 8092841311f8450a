"""LLM calls per 1,000 messages, all included: cascade classification plus task summaries.

    uv run python -m evals.bench_summaries --messages evals/datasets/demo_threads.jsonl \\
        --tasks evals/datasets/demo_threads_tasks.jsonl \\
        --database postgresql://postgres@127.0.0.1:5432/postgres [--task-size 10]

The data set is replayed into a scratch PostgreSQL database in time order through ingestion
and the real pipeline, `--task-size` messages per classify call (the worker's queue tasks
coalesce what arrives together), with the cascade: the local classifier trained on the seed
examples, and below the threshold a stand-in LLM answering each fenced message with its gold
task's kind (noise outside tasks). Before each classify call the worker's summary round
runs at the first message's time (and once more when the last tasks have waited out
summary_settle + summary_max_wait) with the same stand-in writing titles and summaries
(evals.stand_in_llm.summary_item). Calls are counted at the stand-in, by kind.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from pydantic_ai.messages import ModelMessage, ModelRequest, ModelResponse, TextPart, UserPromptPart
from pydantic_ai.models.function import AgentInfo, FunctionModel

from core.classification.dataset import seed_examples
from core.classification.factory import build_classifier
from core.classification.llm.cache import MemoryCache
from core.classification.local.classifier import LocalClassifier
from core.classification.local.model import train
from core.classification.prompts import DEFAULT_PROMPT
from core.config import Settings
from core.conversations.summaries import Summarizer, SummaryAgent
from core.db import session_scope
from core.evaluation.conversations import ChatMessage, load_conversations
from core.evaluation.conversations_replay import in_time_order, incoming, scratch_database
from core.messages.ingest import ingest
from core.triage.pipeline import classify_messages
from evals.stand_in_llm import read_batch, read_conversations, summary_item


@dataclass
class StandIn:
    """Answers classification batches with gold kinds and summary batches with the opening
    message as title; counts the calls of each."""

    kinds: dict[str, str]
    classify_calls: int = 0
    summary_calls: int = 0
    summarized: int = 0

    def __call__(self, messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
        prompt = _first_prompt(messages)
        threads = read_conversations(prompt)
        if threads:
            self.summary_calls += 1
            self.summarized += len(threads)
            items = [summary_item(task, texts) for task, texts in threads.items()]
        else:
            self.classify_calls += 1
            items = [self._kind(m.id, m.text) for m in read_batch(prompt)]
        return ModelResponse(parts=[TextPart(json.dumps({"items": items}, ensure_ascii=False))])

    def _kind(self, item_id: str, text: str) -> dict[str, Any]:
        kind = self.kinds.get(text, "noise")
        return {"id": item_id, "kind": kind, "priority": None if kind == "noise" else "medium",
                "title": text[:80], "confidence": 0.99}  # fmt: skip


def _first_prompt(messages: list[ModelMessage]) -> str:
    request = next(m for m in messages if isinstance(m, ModelRequest))
    return next(str(p.content) for p in request.parts if isinstance(p, UserPromptPart))


async def _announce_nothing(new_events: list[dict[str, Any]]) -> None:
    """A replay has no listeners."""


def _receive(engine: Any, chunk: list[ChatMessage]) -> list[int]:
    with session_scope(engine) as session:
        received, _ = ingest(session, [incoming(m) for m in chunk])
    return [r.message.id or 0 for r in received]


async def bench(args: argparse.Namespace) -> dict[str, Any]:
    data = load_conversations(args.messages, args.tasks)
    by_id = {m.id: m.text for m in data.messages}
    stand_in = StandIn({by_id[m]: t.kind for t in data.gold_tasks for m in t.messages if m in by_id})
    model = FunctionModel(stand_in, model_name="stand-in")
    messages = in_time_order(data.messages)
    with scratch_database(args.database) as engine, tempfile.TemporaryDirectory() as data_dir:
        url = engine.url.render_as_string(hide_password=False)
        settings = Settings(_env_file=None, database_url=url, data_dir=Path(data_dir),  # type: ignore[call-arg]
                            classifier="cascade", llm_output_mode="prompted")  # fmt: skip
        local = LocalClassifier(train(seed_examples()))
        cascade = build_classifier(settings, "cascade", model=model, cache=MemoryCache(),
                                   prompt=DEFAULT_PROMPT, local=local)  # fmt: skip
        summarizer = Summarizer(engine, settings, SummaryAgent(settings, model), MemoryCache())
        for start in range(0, len(messages), args.task_size):
            chunk: list[ChatMessage] = messages[start : start + args.task_size]
            await summarizer.round(_announce_nothing, now=chunk[0].sent_at)
            ids = await asyncio.to_thread(_receive, engine, chunk)
            await classify_messages(ids, engine=engine, settings=settings, classifier=cascade,
                                    publish=_announce_nothing)  # fmt: skip
        end = messages[-1].sent_at + timedelta(seconds=settings.summary_settle + settings.summary_max_wait)
        await summarizer.round(_announce_nothing, now=end)
    n = len(messages)
    total = stand_in.classify_calls + stand_in.summary_calls
    return {"dataset": str(args.messages), "messages": n, "task_size": args.task_size,
            "classify_calls": stand_in.classify_calls, "summary_calls": stand_in.summary_calls,
            "tasks_summarized": stand_in.summarized,
            "calls_per_1000": round(1000 * total / n, 1)}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=Path, default=Path("evals/datasets/demo_threads.jsonl"))
    parser.add_argument("--tasks", type=Path, default=Path("evals/datasets/demo_threads_tasks.jsonl"))
    parser.add_argument("--database", required=True, help="PostgreSQL server URL (may create databases)")
    parser.add_argument("--task-size", type=int, default=10, help="messages per classify call")
    print(json.dumps(asyncio.run(bench(parser.parse_args())), indent=2))


if __name__ == "__main__":
    main()
