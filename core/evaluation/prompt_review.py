"""Tuning the LLM prompt: unsaved drafts, new stored versions, and activation after a review.

A version becomes active here only through `activate_reviewed`: its evaluation and the active
version's on the triaged messages must have been made (a PromptReview), the stored version must
be exactly what was evaluated, the active version must still be the one it was compared with,
and the person must have confirmed. Both evaluations are stored as EvalRuns.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass

from pydantic_ai.models import Model
from sqlalchemy import Engine
from sqlmodel import Session

from core.classification.prompts import (
    PromptVersion,
    activate_prompt,
    add_prompt,
    as_version,
    get_active_prompt,
    get_prompt,
)
from core.classification.types import LLMUnavailable
from core.config import ClassifierMode, Settings
from core.evaluation.data import TRIAGED, EvalData
from core.evaluation.runner import EvalResult, ProgressFn
from core.evaluation.runs import RunSpec, evaluate_specs
from core.evaluation.stored import save_eval_run

DRAFT_PREFIX = "draft-"
MAX_VERSION = 64


class ReviewError(ValueError):
    """Activation was refused; the message says what to do first."""


def draft(text: str, base: PromptVersion) -> PromptVersion:
    """`base` while its text is unchanged; else an unsaved version named by the text's hash (so that
    cached LLM answers belong to this text only)."""
    if text == base.text:
        return base
    digest = hashlib.sha256(text.encode()).hexdigest()[:10]
    return PromptVersion(f"{DRAFT_PREFIX}{digest}", text, base.model, dict(base.settings))


def next_version(versions: Iterable[str]) -> str:
    """The next `vN` name after the highest one in use."""
    numbers = [int(m.group(1)) for v in versions if (m := re.fullmatch(r"v(\d+)", v))]
    return f"v{max(numbers, default=0) + 1}"


def save_version(
    session: Session, version: str, text: str, base: PromptVersion, notes: str | None = None
) -> PromptVersion:
    """Store `text` as a new, inactive version with the base version's model and settings."""
    name = version.strip()
    if not name or len(name) > MAX_VERSION or name.startswith(DRAFT_PREFIX):
        raise ValueError(f"a version name has 1 to {MAX_VERSION} characters and does not start "
                         f"with {DRAFT_PREFIX!r}")  # fmt: skip
    row = add_prompt(session, name, text, model=base.model, settings=dict(base.settings), notes=notes or None)
    return as_version(row)


@dataclass(frozen=True)
class PromptReview:
    """A candidate version's evaluation beside the active version's, on the same triaged messages."""

    candidate: PromptVersion
    active: PromptVersion
    data: EvalData
    candidate_result: EvalResult
    active_result: EvalResult

    def results(self) -> dict[str, EvalResult]:
        """Both results, labeled `candidate vN` and `active vM`."""
        return {f"candidate {self.candidate.version}": self.candidate_result,
                f"active {self.active.version}": self.active_result}  # fmt: skip


async def review(
    candidate: PromptVersion,
    active: PromptVersion,
    data: EvalData,
    settings: Settings,
    *,
    mode: ClassifierMode = "llm",
    concurrency: int = 4,
    progress: ProgressFn | None = None,
    model: Model | None = None,
    engine: Engine | None = None,
) -> PromptReview:
    """Evaluate the candidate and the active version on the triaged messages (LLMUnavailable if away)."""
    if data.name != TRIAGED or not data.examples:
        raise ReviewError("a prompt is reviewed on the triaged messages, and there are none")
    if candidate.version == active.version:
        raise ReviewError(f"{candidate.version} is the active version already")
    specs = [RunSpec(mode, prompt=candidate), RunSpec(mode, prompt=active)]
    runs = await evaluate_specs(
        specs, data.examples, settings, concurrency=concurrency, progress=progress, model=model, engine=engine
    )
    if runs.failures:
        raise LLMUnavailable(next(iter(runs.failures.values())))
    first, second = (runs.results[s.label] for s in specs)
    return PromptReview(candidate, active, data, first, second)


def activate_reviewed(session: Session, reviewed: PromptReview, *, confirmed: bool) -> list[int]:
    """Store both evaluations and activate the candidate; ReviewError says why not when it may not be."""
    version = reviewed.candidate.version
    if not confirmed:
        raise ReviewError(f"confirm that {version} should replace {reviewed.active.version} first")
    if reviewed.data.name != TRIAGED:
        raise ReviewError("only a review on the triaged messages can activate a version")
    stored = get_prompt(session, version)
    if stored is None:
        raise ReviewError(f"{version} is not stored: save it as a version first")
    if as_version(stored) != reviewed.candidate:
        raise ReviewError(f"the stored {version} differs from the one evaluated: evaluate it again")
    current = get_active_prompt(session).version
    if current != reviewed.active.version:
        raise ReviewError(
            f"the active version is now {current}, not {reviewed.active.version}: evaluate again"
        )
    ids = [
        save_eval_run(session, r, reviewed.data.name)
        for r in (reviewed.candidate_result, reviewed.active_result)
    ]
    activate_prompt(session, version)
    return [i for i in ids if i is not None]
