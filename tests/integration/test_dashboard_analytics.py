"""Analytics: the figures core computes from a known history, and the screen that charts them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine

from core.config import Settings
from core.db import session_scope
from core.models import Kind
from core.triage import analytics
from core.triage.commands import accept_task, change_task, reject_task
from tests.support.dashboard import (
    ANALYTICS,
    Verdict,
    message,
    open_page,
    post,
    task_of,
    texts,
)

pytestmark = pytest.mark.usefixtures("dashboard")


@dataclass
class History:
    now: datetime
    """When the history was written: messages are dated from it."""
    decided: datetime
    """When the human decisions were taken (the clock ran on while writing, more so under load)."""


QUESTION = "a: how do I export the report to csv?"
"""Someone else's question of its own: it opens its own task beside the report of the same minute."""


@pytest.fixture(scope="module")
def history(
    engine: Engine, database_url: str, nats_url: str, tmp_path_factory: pytest.TempPathFactory
) -> History:
    """Yesterday: 3 messages in "dev" (1 noise); today: 1 in "ops" (by email); three human decisions."""
    settings = Settings(database_url=database_url, nats_url=nats_url, data_dir=tmp_path_factory.mktemp("a"))
    now = datetime.now(UTC)
    # "Today" must be the same UTC day for the recent message and the decisions.
    recent = min(timedelta(minutes=30), (now - now.replace(hour=0, minute=0, second=0, microsecond=0)) / 2)
    yesterday = now - timedelta(days=1)
    post(
        engine, settings,
        [message("a: login broken", chat="dev", sent_at=yesterday),
         message("a: thanks", chat="dev", sent_at=yesterday),
         message(QUESTION, chat="dev", sent_at=yesterday, author="Ihor"),
         message("a: renew cert", chat="ops", source="email", sent_at=now - recent)],
        {"a: login broken": Verdict(confidence=0.97, llm_calls=1, input_tokens=100, output_tokens=20, latency_ms=300),
         "a: thanks": Verdict(kind=Kind.noise, priority=None, confidence=0.52),
         QUESTION: Verdict(kind=Kind.question, confidence=0.31, llm_calls=1, input_tokens=80,
                                  output_tokens=10, latency_ms=100),
         "a: renew cert": Verdict(kind=Kind.task, confidence=0.99)},
    )  # fmt: skip
    with session_scope(engine) as session:
        accept_task(session, task_of(engine, "a: renew cert"))  # agrees with the classifier
        change_task(session, task_of(engine, QUESTION), {"kind": Kind.feature})  # disagrees
        reject_task(session, task_of(engine, "a: login broken"))  # disagrees (noise, not bug)
    return History(now, datetime.now(UTC))


def test_figures_from_a_known_history(engine: Engine, history: History) -> None:
    since = history.now - timedelta(days=7)
    today, yesterday = history.now.date(), (history.now - timedelta(days=1)).date()
    with session_scope(engine) as session:
        per_chat = analytics.messages_per_day(session, since)
        kinds = analytics.kinds_per_day(session, since)
        delay = analytics.triage_delay(session, since)
        usage = analytics.llm_usage(session, since)
        histogram = analytics.confidence_histogram(session, since)
        agreement = analytics.agreement(session, since)
        channels = analytics.by_channel(session, since)
    assert per_chat.rows() == [(yesterday, "Dev chat", 3), (today, "Ops chat", 1)]
    mix = dict(analytics.kind_mix(kinds).select("kind", "share").rows())
    assert mix == {"bug": 0.25, "noise": 0.25, "question": 0.25, "task": 0.25}
    noise = dict(analytics.noise_share(kinds).select("day", "noise_share").rows())
    assert noise[yesterday] == pytest.approx(1 / 3) and noise[today] == 0
    [(_day, decisions, median, _p90)] = delay.filter(delay["day"] == today).rows()
    # The median of (30 minutes, a day, a day) after the messages: a day plus the time writing took.
    minutes = [24 * 60 + (at - history.now).total_seconds() / 60 for at in (history.now, history.decided)]
    assert decisions == 3 and minutes[0] - 0.1 <= median <= minutes[1] + 0.1
    assert usage.select("calls", "tokens").sum().rows() == [(2, 210)]
    assert usage["mean_latency_ms"].drop_nulls().to_list() == [200.0]
    counts = dict(zip(histogram["low"].round(2).to_list(), histogram["messages"].to_list(), strict=True))
    assert counts[0.95] == 2 and counts[0.5] == 1 and counts[0.3] == 1 and sum(counts.values()) == 4
    assert agreement.select("decisions", "agreed").sum().rows() == [(3, 1)]
    assert channels.rows() == [("test", 3, 2, 1), ("email", 1, 1, 0)]


def test_the_screen_draws_every_chart(engine: Engine, history: History) -> None:
    at = open_page(ANALYTICS)
    assert len(at.get("vega_lite_chart")) == 9
    assert "No data in this period yet." not in texts(at)
    at.radio(key="days").set_value(7).run()
    assert not at.exception and len(at.get("vega_lite_chart")) == 9
