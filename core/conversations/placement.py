"""Placing each classified message: into a conversation of its chat (or none), then its task.

The entry point the pipeline calls, in the transaction that stores a batch's issues, for
the batch's messages in the order they were sent. The batch's chats (their open
conversations and tasks) and where its messages already stand are read once, then kept
current in memory: placing a message reads nothing more unless it opens a task, and the
session flushes once at the end of the batch.

Placement is once per message: a redelivered or re-classified message keeps its
conversation and only re-reads what it says; an edit thereby re-evaluates its message
without ever attaching it twice.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from functools import cache
from operator import itemgetter

from sqlmodel import Session

from core import events
from core.conversations import features, scorer, signals, store, tasks
from core.conversations.progress import Standings
from core.conversations.text import NAMED_NUMBER, called, greets_only, opens, similarity, subject, terms
from core.models import ACTIONABLE_KINDS, Issue, Kind, Message

Pending = tasks.Pending


@cache
def shipped_scorer() -> scorer.Scorer:
    return scorer.load()


class Placing:
    """Placement of one batch's messages, in the caller's transaction (which it makes hold the
    batch's chats: placement is serialised per chat)."""

    def __init__(
        self, session: Session, messages: Sequence[Message], model: scorer.Scorer | None = None
    ) -> None:
        self.session = session
        self.model = model or shipped_scorer()
        self.chats = store.Chats(session, messages)
        self.standings = Standings(session, self.chats.standing, self.chats.holds)
        self.unflushed = False
        """The batch may have changed a task since the session last flushed."""

    def finish(self) -> None:
        """Write what the batch's placements changed: the conversations in one round trip, the
        tasks, then the links in one more."""
        self.chats.write()
        self.session.flush()
        self.standings.write()

    def place(self, message: Message, issue: Issue) -> Pending:
        """Put the message in its conversation and bring the conversation's task up to date."""
        with self.session.no_autoflush:
            said = signals.read(message.text)
            bag = dict(terms(message.text))
            conversation = self.chats.get(message.conversation_id) if message.conversation_id else None
            if conversation is None:
                conversation = self._choose(message, issue, said, bag)
                if conversation is None:
                    return []
            return self._settle(conversation, message, issue, said, bag)

    def _choose(
        self, message: Message, issue: Issue, said: signals.Signals, bag: dict[str, int]
    ) -> store.ConversationState | None:
        """The open conversation the message fits best, a new one for new work, or none (a
        greeting alone joins none); the message joins it."""
        if greets_only(message.text):
            return None
        arrival = arrival_of(message, issue, said, bag, self.chats.conversation_of(message.reply_to_id))
        best = best_candidate(arrival, self.chats.candidates(message, arrival.reply_conversation), self.model)
        carried = self._carried_on(message, arrival, best, bag)
        if carried is not None:
            return carried
        if best is None:
            return self.chats.open(message, bag) if opens_work(arrival) else None
        chosen = self.chats.get(best)
        if chosen is not None:
            store.join(chosen, message, bag)
        return chosen

    def _carried_on(
        self, message: Message, arrival: features.Arrival, best: int | None, bag: dict[str, int]
    ) -> store.ConversationState | None:
        """Work its author took in another forum topic of the chat, that the message carries on in
        its own ("по карті: ..." in «Розробка» after "гляну" in «Підтримка»): the message joins the
        conversation of this topic that carries the task already, else a new one of the task."""
        taken = self.chats.taken_elsewhere(message) if _may_carry_on(message, arrival) else []
        if not taken:
            return None
        here = self.chats.get(best) if best is not None else None
        there = _work_carried_on(arrival, taken, here)
        if there is None:
            return None
        carrying = self.chats.carrying(message, there.task_id)
        if carrying is None:
            carrying = self.chats.open(message, bag)
            carrying.task_id = there.task_id
        else:
            store.join(carrying, message, bag)
        return carrying

    def _settle(
        self,
        conversation: store.ConversationState,
        message: Message,
        issue: Issue,
        said: signals.Signals,
        bag: dict[str, int],
    ) -> Pending:
        task = tasks.surviving(self.session, self.chats.task(conversation.task_id))
        if task is not None:
            self.unflushed = True
            merged: Pending = []
            if said.same:
                self.chats.write()  # the batch's earlier conversations are found
                task, merged = tasks.same_as_earlier(
                    self.session, conversation, task, message, said, self.standings
                )
                self.chats.tasks[task.id or 0] = task
            return merged + tasks.follow(self.session, task, message, issue, said, self.standings)
        if issue.kind not in ACTIONABLE_KINDS:
            return []
        self.chats.write()  # the conversations of the tasks opened so far are found as duplicates
        if self.unflushed:  # and the tasks as the batch changed them (one done is no duplicate)
            self.session.flush()
        self.unflushed = True
        same = tasks.duplicate_target(self.session, message, issue, bag)
        if same is not None:
            return tasks.report_duplicate(self.session, conversation, same, message, self.standings)
        opened, ids = tasks.open_task(self.session, conversation, message, issue, self.standings)
        self.chats.tasks[opened.id or 0] = opened
        # What the report itself says ("urgent"):
        tasks.follow(self.session, opened, message, issue, said, self.standings)
        return [(events.TASK_CREATED, events.task_payload(opened, ids))]


JUST_TOOK = timedelta(hours=1)
"""Work its author wrote in this recently, in another topic, is what a message that fits nothing
in its own carries on."""


def _may_carry_on(message: Message, arrival: features.Arrival) -> bool:
    """Whether the message may carry on work from another topic: news of work, or an actionable
    message that does not open like a new report; no reply (a reply stays in its chain), nor the
    first message of a thread of its own (a new email thread is a new subject)."""
    moves = arrival.actionable or arrival.signals.moves_work
    starts_thread = message.thread_id == message.external_id
    return moves and arrival.reply_conversation is None and not (arrival.opens_with or starts_thread)


def _work_carried_on(
    arrival: features.Arrival, taken: list[store.ConversationState], here: store.ConversationState | None
) -> store.ConversationState | None:
    """Of the conversations (one or more) of work its author took in other topics, the one the message carries
    on: the one it talks about (two words or more in common, the subject it names up front when
    it would join a conversation of its own topic), more than about where it would go in its own;
    else, when it fits nothing in its own and says something of the work, the one its author
    wrote in last, within the hour."""
    if here is not None and any(c.task_id == here.task_id for c in taken):
        return None
    alike, there = max(((similarity(arrival.terms, c.terms), c) for c in taken), key=itemgetter(0))
    if _talks_about(arrival, there, here) and (here is None or alike > similarity(arrival.terms, here.terms)):
        return there
    if here is not None or not _says_of_work(arrival):
        return None
    mine = [
        c
        for c in taken
        if c.last_author_id == arrival.author_id and arrival.sent_at - c.last_message_at <= JUST_TOOK
    ]
    return max(mine, key=lambda c: c.last_message_at, default=None)


def _talks_about(
    arrival: features.Arrival, there: store.ConversationState, here: store.ConversationState | None
) -> bool:
    """The subject the message names up front is the other topic's work, where the message would
    join a conversation of its own topic; else two words in common, versions and numbers aside
    (a release topic's "2.4" is every task's)."""
    if here is not None:
        return bool(arrival.subject & there.terms.keys())
    shared = arrival.terms.keys() & there.terms.keys()
    return sum(1 for t in shared if not NAMED_NUMBER.fullmatch(t)) >= 2


def _says_of_work(arrival: features.Arrival) -> bool:
    """News of work, a subject named up front ("по кнопці: ..."), or as many words as a report."""
    return arrival.signals.moves_work or bool(arrival.subject) or len(arrival.words) >= features.REPORT_WORDS


def arrival_of(
    message: Message, issue: Issue, said: signals.Signals, bag: dict[str, int], replied: int | None
) -> features.Arrival:
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
        subject=frozenset(subject(message.text)),
        opens_with=opens(message.text),
        called=called(message.text),
    )


def best_candidate(
    arrival: features.Arrival, candidates: list[features.Open], model: scorer.Scorer
) -> int | None:
    """The id of the conversation most likely to hold the message, if likely enough; the
    conversation it replies to when it is more than a few words. A fresh
    report (new work from someone not in the conversation, sharing no word with it, not a
    reply) never joins: interleaved conversations of the same minutes stay apart."""
    if arrival.reply_conversation is not None and not features.is_short(arrival):
        return arrival.reply_conversation  # a reply that says something stays in its chain
    named = _naming(arrival, candidates)
    if named is not None:
        return named
    rows = features.vectors(arrival, candidates)
    scored = [
        (
            model.probability(row),
            c.id,
            c.has_task and (features.own_work(row) or features.live(row)),
            c.has_task and features.just_wrote(row),
        )
        for row, c in zip(rows, candidates, strict=True)
        if not features.fresh_report(row) and not (c.closed and _own_report(arrival, c))
    ]
    probability, best, _, _ = max(scored, default=(0.0, None, False, False))
    if probability >= model.threshold:
        return _taken_call(arrival, candidates, rows, model, best) or best
    if _says_too_little(arrival):
        return _latest_if_live(arrival, candidates)
    if arrival.signals.escalates_this and not arrival.replies_outside:
        return _escalated(arrival, candidates)
    if opens_work(arrival):
        return None
    return _progress_target(arrival, scored)


def _taken_call(
    arrival: features.Arrival,
    candidates: list[features.Open],
    rows: list[list[float]],
    model: scorer.Scorer,
    best: int | None,
) -> int | None:
    """ "я оновлю" just after "Хтось оновить?": taking work answers the call for it, a task
    nobody took yet, rather than going to work its author took before (whose words it may share)."""
    if not arrival.signals.take or not any(c.id == best and c.assignee == arrival.author for c in candidates):
        return None
    calls = (c for row, c in zip(rows, candidates, strict=True) if features.answers(row) and model.joins(row))
    return next((c.id for c in calls if c.has_task and c.assignee is None), None)


def _naming(arrival: features.Arrival, candidates: list[features.Open]) -> int | None:
    """The one conversation that names the pull request or ticket the message names ("залив
    #452 на prod" after "Фікс у PR #452"), if just one does."""
    numbers = [t for t in arrival.terms if t.startswith("#")]
    naming = {c.id for c in candidates for n in numbers if n in c.terms}
    return naming.pop() if len(naming) == 1 else None


def _own_report(arrival: features.Arrival, closed: features.Open) -> bool:
    reported = len(arrival.words) >= features.REPORT_WORDS or arrival.opens_with
    if not (arrival.actionable and reported) or arrival.signals.same:
        return False
    return not features.with_assignee(arrival, closed)


FOLLOW_UP = timedelta(minutes=15)
"""A question or request of a few words this soon after a conversation's last message is about it."""


def _says_too_little(arrival: features.Arrival) -> bool:
    """A question or request of a few words ("How long?", "Давайте в 2.5"), no reply and no
    news of work: it says too little to be new work of its own. A problem of a few words ("прод
    лежить") is a report."""
    said = arrival.signals
    return (
        arrival.actionable
        and features.is_short(arrival)
        and (said.asks or arrival.kind != Kind.bug)
        and not (arrival.reply_conversation or said.moves_work)
    )


def _latest_if_live(arrival: features.Arrival, candidates: list[features.Open]) -> int | None:
    """ "How long?", "А як правильно?": the chat's latest conversation, if it is still going on."""
    latest = _latest(arrival, candidates, FOLLOW_UP)
    return latest.id if latest else None


def _latest(
    arrival: features.Arrival, candidates: list[features.Open], within: timedelta
) -> features.Open | None:
    """The chat's latest conversation, if it went on within `within` of the message."""
    latest = candidates[0] if candidates else None  # they come latest first
    return latest if latest is not None and arrival.sent_at - latest.last_message_at <= within else None


ESCALATED = timedelta(minutes=30)
"""An escalation of what was just said ("This is critical — ...") this soon after the chat's
latest conversation is about its work."""


def _escalated(arrival: features.Arrival, candidates: list[features.Open]) -> int | None:
    """ "This is critical — the rating dropped overnight", "...12 refund requests. This is
    critical": the chat's latest conversation, when it holds open work and went on within the
    half hour; else the escalation is a report of its own."""
    latest = _latest(arrival, candidates, ESCALATED)
    return latest.id if latest and latest.has_task else None


def opens_work(arrival: features.Arrival) -> bool:
    """Whether the message, fitting no open conversation, starts new work: an actionable
    message that is not news about work in progress ("залив фікс", "беру", "done"). A long
    message that says "перевіряю" on the way to a request is a request; a question asks for
    work, unless it asks to review a pull request. A few words replying to small talk, or a
    request shorter than a report, are small talk ("Доброе. Лишь бы не спамил", "would love to,
    take photos 📸"); a problem reported in reply to an announcement is not. Good news the
    classifier calls a bug ("Support is quiet after the release 🙂") reports no problem."""
    said = arrival.signals
    news = said.moves_work and (said.merged or not said.asks)
    progress_news = news and len(arrival.words) < features.REPORT_WORDS and not said.needs
    chatter = arrival.replies_outside and (features.is_short(arrival) or _asks_in_passing(arrival))
    good_news = said.cheers and arrival.kind == Kind.bug and not said.needs
    return arrival.actionable and not (progress_news or chatter or good_news)


def _asks_in_passing(arrival: features.Arrival) -> bool:
    """A request or question shorter than a report, replying to small talk, belongs to it ("send
    photos!" to an invitation); a problem reported in reply to anything is a report."""
    return arrival.kind != Kind.bug and len(arrival.words) < features.REPORT_WORDS


Scored = tuple[float, int, bool, bool]
"""A candidate's probability, id, whether the message's author works on it or it is live, and
whether the author wrote in it last, within half an hour."""


def _progress_target(arrival: features.Arrival, scored: list[Scored]) -> int | None:
    """News about work in progress that fits no conversation well enough goes to the likeliest
    open task its author works on (took, or wrote in) or the one just being discussed (the
    chat's latest, within five minutes: "я оновлю" after "Хтось оновить?"): progress never
    opens a task. Thanks for help ("помогло, спасибо!") go to the conversation their author
    wrote in last, within half an hour."""
    if not arrival.signals.moves_work:
        return _thanked(arrival, scored)
    own = [(probability, conversation) for probability, conversation, mine, _ in scored if mine]
    return max(own, default=(0.0, None))[1]


def _thanked(arrival: features.Arrival, scored: list[Scored]) -> int | None:
    if not arrival.signals.grateful:
        return None
    return next((conversation for _, conversation, _, just_wrote in scored if just_wrote), None)
