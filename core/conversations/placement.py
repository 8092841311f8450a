"""Placing each classified message: into a conversation of its chat (or none), then its task.

The entry point the pipeline calls, in the transaction that stores the message's issue,
for the messages of a batch in the order they were sent. Placement is once per message:
a redelivered or re-classified message keeps its conversation and only re-reads what it
says; an edit thereby re-evaluates its message without ever attaching it twice.
"""

from __future__ import annotations

from functools import cache

from sqlmodel import Session

from core import events
from core.conversations import features, scorer, signals, store, tasks
from core.conversations.text import terms
from core.models import ACTIONABLE_KINDS, Conversation, Issue, Message

Pending = tasks.Pending


@cache
def shipped_scorer() -> scorer.Scorer:
    return scorer.load()


def place(session: Session, message: Message, issue: Issue, model: scorer.Scorer | None = None) -> Pending:
    """Put the message in its conversation and bring the conversation's task up to date
    (the session flushes once, at the end)."""
    with session.no_autoflush:
        pending = _place(session, message, issue, model or shipped_scorer())
    session.flush()
    return pending


def _place(session: Session, message: Message, issue: Issue, model: scorer.Scorer) -> Pending:
    said = signals.read(message.text)
    bag = dict(terms(message.text))
    conversation = _placed(session, message)
    if conversation is None:
        conversation = _choose(session, message, issue, said, bag, model)
        if conversation is None:
            return []
        store.join(conversation, message, bag)
    return _settle(session, conversation, message, issue, said, bag)


def _placed(session: Session, message: Message) -> Conversation | None:
    if message.conversation_id is None:
        return None
    return session.get(Conversation, message.conversation_id)


def _choose(
    session: Session,
    message: Message,
    issue: Issue,
    said: signals.Signals,
    bag: dict[str, int],
    model: scorer.Scorer,
) -> Conversation | None:
    """The open conversation the message fits best, a new one for new work, or none."""
    arrival = arrival_of(session, message, issue, said, bag)
    best = best_candidate(arrival, store.candidates(session, message, arrival.reply_conversation), model)
    if best is not None:
        return session.get(Conversation, best)
    if arrival.actionable:
        return store.open_conversation(session, message)
    return None


def arrival_of(
    session: Session, message: Message, issue: Issue, said: signals.Signals, bag: dict[str, int]
) -> features.Arrival:
    replied = store.conversation_of(session, message.reply_to_id)
    return features.Arrival(
        author_id=message.author_id,
        author=message.author,
        sent_at=store.sent_at(message),
        thread_id=message.thread_id,
        terms=bag,
        words=features.arrival_stems(message.text),
        signals=said,
        actionable=issue.kind in ACTIONABLE_KINDS,
        kind=issue.kind,
        reply_conversation=replied,
        replies_outside=message.reply_to_id is not None and replied is None,
    )


def best_candidate(
    arrival: features.Arrival, candidates: list[features.Open], model: scorer.Scorer
) -> int | None:
    """The id of the conversation most likely to hold the message, if likely enough. A fresh
    report (new work from someone not in the conversation, sharing no word with it, not a
    reply) never joins: interleaved conversations of the same minutes stay apart."""
    rows = features.vectors(arrival, candidates)
    scored = [
        (model.probability(row), c.id)
        for row, c in zip(rows, candidates, strict=True)
        if not features.fresh_report(row)
    ]
    probability, best = max(scored, default=(0.0, None))
    return best if probability >= model.threshold else None


def _settle(
    session: Session,
    conversation: Conversation,
    message: Message,
    issue: Issue,
    said: signals.Signals,
    bag: dict[str, int],
) -> Pending:
    task = tasks.task_of(session, conversation)
    if task is not None:
        return tasks.follow(session, task, message, issue, said)
    if issue.kind not in ACTIONABLE_KINDS:
        return []
    same = tasks.duplicate_target(session, message, issue, bag)
    if same is not None:
        return tasks.report_duplicate(session, conversation, same, message)
    opened, ids = tasks.open_task(session, conversation, message, issue)
    tasks.follow(session, opened, message, issue, said)  # what the report itself says ("urgent")
    return [(events.TASK_CREATED, events.task_payload(opened, ids))]
