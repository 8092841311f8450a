"""Cascade benchmark: LLM calls per 1,000 messages, and macro-F1 with an always-right LLM.

    uv run python -m evals.bench_cascade --dataset ../shared/datasets/chat_dev.jsonl
        [--threshold 0.85] [--llm-batch-size 20] [--task-size 50] [--format table|json]

The local classifier is trained on the project's seed examples only (never on the data set,
which is read in place). The LLM is a counting pydantic-ai FunctionModel that answers every
fenced message with its gold label, so the figures show what the cascade costs and the best
it can do; the cascade itself (noise rules -> local -> LLM below the threshold) runs as in
the worker, `--task-size` messages at a time (the worker's queue tasks hold up to 50).
"""

from __future__ import annotations

import argparse
import asyncio
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic_ai.messages import ModelMessage, ModelRequest, ModelResponse, TextPart, UserPromptPart
from pydantic_ai.models.function import AgentInfo, FunctionModel

from core.classification.dataset import Example, load_jsonl, seed_examples
from core.classification.factory import build_classifier
from core.classification.llm.cache import MemoryCache
from core.classification.local.classifier import LocalClassifier
from core.classification.local.model import train
from core.classification.prompts import DEFAULT_PROMPT
from core.config import Settings
from core.evaluation.runner import evaluate
from evals.stand_in_llm import read_batch

SWEEP = (0.5, 0.6, 0.7, 0.8, 0.85, 0.9, 0.95)


@dataclass
class OracleLLM:
    """A stand-in LLM that knows the gold labels; counts calls and messages asked about."""

    gold: dict[tuple[str, str | None], Example]
    calls: int = 0
    asked: list[str] = field(default_factory=list)

    def __call__(self, messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
        fenced = read_batch(_first_prompt(messages))
        self.calls += 1
        self.asked += [m.text for m in fenced]
        items = [self._answer(m.id, self.gold[(m.text, m.reply_to)]) for m in fenced]
        return ModelResponse(parts=[TextPart(json.dumps({"items": items}, ensure_ascii=False))])

    @staticmethod
    def _answer(item_id: str, example: Example) -> dict[str, Any]:
        priority = example.priority.value if example.priority else None
        return {"id": item_id, "kind": example.kind.value, "priority": priority,
                "title": example.text[:80], "confidence": 0.99}  # fmt: skip


def _first_prompt(messages: list[ModelMessage]) -> str:
    request = next(m for m in messages if isinstance(m, ModelRequest))
    return next(str(p.content) for p in request.parts if isinstance(p, UserPromptPart))


async def run_cascade(
    local: LocalClassifier, examples: list[Example], threshold: float, args: argparse.Namespace
) -> dict[str, Any]:
    """One cascade run over the data set with a fresh oracle and cache."""
    oracle = OracleLLM({(e.text, e.reply_to): e for e in examples})
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None, database_url=None, cascade_threshold=threshold,
        llm_batch_size=args.llm_batch_size,
    )  # fmt: skip
    cascade = build_classifier(
        settings, "cascade", model=FunctionModel(oracle, model_name="oracle"),
        cache=MemoryCache(), prompt=DEFAULT_PROMPT, local=local,
    )  # fmt: skip
    result = await evaluate(cascade, examples, batch_size=args.task_size)
    n = len(examples)
    assert result.metrics["llm_calls"] == oracle.calls, "outcomes must account for every call"
    return {
        "threshold": threshold,
        "macro_f1": result.metrics["macro_f1"],
        "accuracy": result.metrics["accuracy"],
        "escalated_per_1000": round(1000 * len(oracle.asked) / n, 1),
        "llm_calls_per_1000": round(1000 * oracle.calls / n, 1),
        "llm_calls": oracle.calls,
        "tokens": result.metrics["tokens"],
    }


async def bench(args: argparse.Namespace) -> dict[str, Any]:
    examples = load_jsonl(args.dataset)
    local = LocalClassifier(train(seed_examples()))
    alone = await evaluate(local, examples, batch_size=args.task_size)
    thresholds = sorted({*SWEEP, args.threshold})
    sweep = [await run_cascade(local, examples, t, args) for t in thresholds]
    return {
        "dataset": str(args.dataset),
        "n": len(examples),
        "local_model": local.classifier_version,
        "llm_batch_size": args.llm_batch_size,
        "task_size": args.task_size,
        "local_alone": {k: alone.metrics[k] for k in ("macro_f1", "accuracy")},
        "cascade": next(r for r in sweep if r["threshold"] == args.threshold),
        "sweep": sweep,
    }


def print_table(report: dict[str, Any]) -> None:
    chosen, alone = report["cascade"], report["local_alone"]
    print(f"{report['dataset']}: {report['n']} messages; local model {report['local_model']} "
          f"(seed only); LLM batch {report['llm_batch_size']}, tasks of {report['task_size']}")  # fmt: skip
    print(f"local alone:                 macro-F1 {alone['macro_f1']:.4f}  accuracy {alone['accuracy']:.4f}")
    print(f"cascade @ {chosen['threshold']:.2f}, oracle LLM:  macro-F1 {chosen['macro_f1']:.4f}  "
          f"accuracy {chosen['accuracy']:.4f}")  # fmt: skip
    print(
        f"  messages sent to the LLM:  {chosen['escalated_per_1000']:.1f} per 1,000 "
        "(= LLM calls per 1,000 without batching)"
    )
    print(
        f"  LLM calls (batched):       {chosen['llm_calls_per_1000']:.1f} per 1,000 "
        f"({chosen['llm_calls']} calls; one call per message would be 1,000)"
    )
    print("\nthreshold  macro-F1  accuracy  to-LLM/1000  calls/1000")
    for r in report["sweep"]:
        print(f"{r['threshold']:9.2f}  {r['macro_f1']:8.4f}  {r['accuracy']:8.4f}  "
              f"{r['escalated_per_1000']:11.1f}  {r['llm_calls_per_1000']:10.1f}")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", type=Path, required=True, help="JSON Lines with text and kind")
    parser.add_argument("--threshold", type=float, default=Settings.model_fields["cascade_threshold"].default)
    parser.add_argument("--llm-batch-size", type=int, default=20)
    parser.add_argument("--task-size", type=int, default=50, help="messages per classify() call")
    parser.add_argument("--format", choices=("table", "json"), default="table")
    args = parser.parse_args()
    report = asyncio.run(bench(args))
    if args.format == "json":
        print(json.dumps(report, indent=2, ensure_ascii=False))
    else:
        print_table(report)


if __name__ == "__main__":
    main()
