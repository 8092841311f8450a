"""How a message relates to an open conversation of its chat, as numbers for the scorer.

Every feature is cheap: the conversation carries its own summary (authors, stems, last
message), so placing a message reads a few rows and never the conversation's messages.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache

from core.conversations.signals import Signals
from core.conversations.text import name_key, similarity, words

DAY_MINUTES = 24 * 60
REPORT_WORDS = 15
"""Distinct words from which a message is a report of its own more than news about one."""


@dataclass(frozen=True)
class Arrival:
    """A message being placed: what placement knows of it. Only conversations of its forum
    topic are weighed (a topic is a border: a reply crosses it, and so does work its author took
    in another topic, `placement.Placing._carried_on`)."""

    author_id: str | None
    author: str | None
    sent_at: datetime
    thread_id: str | None
    terms: Mapping[str, int]
    words: frozenset[str]
    """Word stems of all its words (names included), for mentions."""
    signals: Signals
    actionable: bool
    kind: str | None = None
    """Its classified kind."""
    reply_conversation: int | None = None
    """The conversation of the message it replies to."""
    replies_outside: bool = False
    """It replies to a message that is in no conversation (small talk)."""
    subject: frozenset[str] = frozenset()
    """Stems of what it names up front as its subject ("по кошику — ...")."""
    opens_with: bool = False
    """It starts the way a new report does (a greeting, "Bug:", "Питання:", 🐞)."""
    called: str = ""
    """The name key of whom it turns to first ("Віко, ...")."""


@dataclass(frozen=True)
class Open:
    """An open conversation of the chat, summarised."""

    id: int
    thread_id: str | None
    last_message_at: datetime
    last_author_id: str | None
    authors: Mapping[str, str]
    terms: Mapping[str, int]
    has_task: bool
    assignee: str | None = None
    """Who took the conversation's task."""
    kind: str | None = None
    """The kind of the conversation's task."""
    rank: int = 0
    """0 for the chat's most recently active conversation, 1 for the next, ..."""
    names: frozenset[str] = field(default_factory=frozenset)
    closed: bool = False
    """Its task was done or withdrawn (an answered question is not counted)."""
    key: str = ""
    """The conversation's name in a training replay."""


NAMES = (
    "reply", "gap", "within_5_min", "next_day", "author_in", "author_last", "mentions",
    "similarity", "rank", "has_task", "actionable", "short", "moves_work", "fresh_report",
    "assignee", "distinct", "replies_elsewhere", "replies_outside", "author_in_30_min",
    "other_kind", "author_latest", "subject", "long", "opens_with", "addressed",
    "reopens", "answers", "calls_other",
)  # fmt: skip
"""The features, in vector order (the scorer's weights follow it)."""


def arrival_stems(text: str) -> frozenset[str]:
    return frozenset(name_key(w) for w in words(text) if len(w) >= 3)


def name_stems(authors: Mapping[str, str]) -> frozenset[str]:
    """The name keys of the authors' names ("Ігорю" and "Ihor" find "Ігор Мельник")."""
    return _stems_of(tuple(authors.values()))


@lru_cache(maxsize=4096)
def _stems_of(names: tuple[str, ...]) -> frozenset[str]:
    return frozenset(name_key(w) for name in names for w in words(name) if len(w) >= 3)


@dataclass(frozen=True)
class Among:
    """What the candidate conversations say together about a message."""

    spread: Mapping[str, int]
    """In how many candidates each stem of the message occurs."""
    latest: int | None
    """The candidate its author wrote in last."""
    member: bool
    """It turns first to someone who wrote in one of them."""


def vectors(message: Arrival, candidates: Sequence[Open]) -> list[list[float]]:
    """The features of placing `message` in each candidate conversation."""
    spread = Counter(t for c in candidates for t in c.terms.keys() & message.terms.keys())
    mine = [c for c in candidates if message.author_id in c.authors]
    latest = max(mine, key=lambda c: c.last_message_at).id if mine else None
    member = bool(message.called) and any(message.called in c.names for c in candidates)
    among = Among(spread, latest, member)
    return [vector(message, c, among) for c in candidates]


def vector(message: Arrival, conversation: Open, among: Among) -> list[float]:
    """The features of placing `message` in `conversation`, in NAMES order."""
    gap = max((message.sent_at - conversation.last_message_at).total_seconds() / 60, 0.0)
    reply = message.reply_conversation == conversation.id
    author_in = message.author_id in conversation.authors
    alike = similarity(message.terms, conversation.terms)
    asked = not author_in and _addressed(message, conversation)
    answers = _answers(message, conversation, gap)
    mentions = bool(message.words & conversation.names - _own_name(message, conversation))
    return [
        float(reply),
        math.log1p(gap) / math.log1p(DAY_MINUTES),
        float(gap <= 5),
        float(gap >= 6 * 60),
        float(author_in),
        float(message.author_id == conversation.last_author_id),
        float(mentions),
        alike,
        min(conversation.rank, 10) / 10,
        float(conversation.has_task),
        float(message.actionable),
        float(is_short(message)),
        float(message.signals.moves_work),
        float(_fresh(message, reply or author_in or asked or answers or mentions, alike)),
        float(message.author is not None and message.author == conversation.assignee),
        _distinct(message, conversation, among.spread),
        float(message.reply_conversation is not None and not reply),
        float(message.replies_outside),
        float(author_in and gap <= 30),
        float(message.actionable and conversation.kind is not None and message.kind != conversation.kind),
        float(conversation.id == among.latest),
        _named(message, conversation),
        float(len(message.words) >= REPORT_WORDS),
        float(message.opens_with),
        float(asked),
        float(conversation.closed and message.actionable),
        float(answers),
        float(among.member and _calls_other(message, conversation)),
    ]


def is_short(message: Arrival) -> bool:
    """A few words at most ("ok", "+1", "дякую!")."""
    return len(message.words) <= 3


def _fresh(message: Arrival, known: bool, alike: float) -> bool:
    """New work from a stranger: actionable, no shared word, not a reply nor from someone in
    the conversation, named in it or naming one of its people (`known`), no short question."""
    return message.actionable and not (known or short_question(message)) and alike == 0


def _answers(message: Arrival, conversation: Open, gap: float) -> bool:
    """Fewer words than a report, within five minutes of the chat's latest conversation, neither
    opening like a report ("Наступне: ...") nor naming a subject of their own ("Експорт: ..."), that
    answer its question ("Актуальний список в адмінці, розділ «Міста»"), open with an answer ("Не я.
    Може міграція впала?"), move its work ("похоже, пагинация не работает... посмотрю") or say a few
    words ("Давайте в 2.5"), whoever says them."""
    if conversation.rank != 0 or gap > 5 or len(message.words) >= REPORT_WORDS:
        return False
    if message.opens_with or message.subject:
        return False
    said = message.signals
    return (
        is_short(message)
        or said.moves_work
        or said.replies
        or (conversation.kind == "question" and not said.asks)
    )


def short_question(message: Arrival) -> bool:
    """ "How long?", "Which version?": a question of a few words asks about what was just said."""
    return is_short(message) and message.signals.asks


def _distinct(message: Arrival, conversation: Open, spread: Mapping[str, int]) -> float:
    shared = message.terms.keys() & conversation.terms.keys()
    return min(sum(1 / spread[t] for t in shared) / max(math.sqrt(len(message.terms)), 1.0), 1.0)


def _named(message: Arrival, conversation: Open) -> float:
    """The share of the subject it names up front that the conversation talks about."""
    if not message.subject:
        return 0.0
    return len(message.subject & conversation.terms.keys()) / len(message.subject)


def _own_name(message: Arrival, conversation: Open) -> frozenset[str]:
    own = conversation.authors.get(message.author_id or "")
    return _stems_of((own,)) if own else frozenset()


def with_assignee(message: Arrival, conversation: Open) -> bool:
    """The message is by the conversation's assignee or turns to them ("Віко, а зробиш ще квадрат?")."""
    if not conversation.assignee:
        return False
    return message.author == conversation.assignee or message.called in _stems_of((conversation.assignee,))


def _calls_other(message: Arrival, conversation: Open) -> bool:
    """It turns first to a chat member the conversation has not heard from, nor named, nor given
    the work to ("Женю, онови targetSdk" after "Артуре, потрібне вивантаження"): a new request to
    someone else."""
    if message.called in conversation.names or with_assignee(message, conversation):
        return False
    return message.called not in map(name_key, conversation.terms)


def _addressed(message: Arrival, conversation: Open) -> bool:
    """The conversation names the message's author ("Ліаме, глянь" and Liam answers)."""
    if not message.author:
        return False
    return not _stems_of((message.author,)).isdisjoint(map(name_key, conversation.terms))


FRESH_REPORT = NAMES.index("fresh_report")
_AUTHOR_IN = NAMES.index("author_in")
_ASSIGNEE = NAMES.index("assignee")
_RANK = NAMES.index("rank")
_WITHIN_5_MIN = NAMES.index("within_5_min")
_AUTHOR_IN_30_MIN = NAMES.index("author_in_30_min")
_AUTHOR_LATEST = NAMES.index("author_latest")
_ANSWERS = NAMES.index("answers")


def fresh_report(row: Sequence[float]) -> bool:
    """The features say: new work by someone not in the conversation nor named in it, no short
    question, no reply, no shared word."""
    return row[FRESH_REPORT] > 0


def live(row: Sequence[float]) -> bool:
    """The features say: the chat's latest conversation, its last message within five minutes."""
    return row[_RANK] == 0 and row[_WITHIN_5_MIN] > 0


def answers(row: Sequence[float]) -> bool:
    """The features say: it answers, or moves the work of, the chat's latest conversation, just now."""
    return row[_ANSWERS] > 0


def own_work(row: Sequence[float]) -> bool:
    """The features say: the author took this conversation's task or wrote in it."""
    return row[_AUTHOR_IN] > 0 or row[_ASSIGNEE] > 0


def just_wrote(row: Sequence[float]) -> bool:
    """The features say: the author wrote in this conversation last, within half an hour."""
    return row[_AUTHOR_IN_30_MIN] > 0 and row[_AUTHOR_LATEST] > 0
