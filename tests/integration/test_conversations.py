"""Conversations become tasks (issue 11): one task per piece of work, kept current by the chat.

Each chat goes through ingestion and the real pipeline on a real PostgreSQL, one message at a
time as it would arrive live; a scripted classifier says each message's kind.
"""

from __future__ import annotations

import threading
from dataclasses import asdict
from datetime import timedelta

import pytest
from sqlalchemy import Engine, text

from core.config import Settings
from core.conversations import progress, store
from core.conversations.text import terms
from core.db import driver, session_scope
from core.messages.ingest import apply_edit, ingest
from core.models import ChangeOrigin, Conversation, Kind, Message, Priority, Task, TaskStatus
from core.schemas import TaskUpdate
from core.triage.commands import update_task
from core.triage.pipeline import classify_messages
from tests.support.conversations import PUSH_BUG, START, Chat, Line, Verdicts, history, links, say, tasks

pytestmark = pytest.mark.backbone

BUG = Kind.bug


async def test_a_bug_discussed_in_six_messages_is_one_task_the_chat_keeps_current(
    engine: Engine, settings: Settings
) -> None:
    chat = Chat()
    published = await say(engine, settings, chat, PUSH_BUG)
    [task] = tasks(engine, chat)
    placed = links(engine, chat)
    assert sorted(placed) == list(range(6)) and {t for t, _ in placed.values()} == {task.id}
    assert [placed[i][1] for i in range(6)] == ["source", "detail", "detail", "update", "update", "update"]
    assert (task.status, task.assignee, task.priority) == (TaskStatus.done, "Dima", Priority.critical)
    changes = {(c.field, c.new): c for c in history(engine, task.id)}
    assert changes[("priority", "critical")].message_id == chat.ids[3]
    assert changes[("assignee", "Dima")].message_id == chat.ids[4]
    assert changes[("status", "in_progress")].message_id == chat.ids[4]
    assert changes[("status", "done")].message_id == chat.ids[5]
    assert all(c.origin == ChangeOrigin.chat for c in changes.values())
    kinds = [e["type"] for e in published]
    assert kinds.count("task.created") == 1 and kinds.count("task.updated") >= 5


async def test_interleaved_conversations_stay_apart_and_small_talk_outside(
    engine: Engine, settings: Settings
) -> None:
    chat = Chat()
    await say(engine, settings, chat, [
        Line("Olena", 0, "Доброго ранку всім ☀️"),
        Line("Sergey", 1, "Баг: экспорт CSV игнорирует фильтр по датам", BUG),
        Line("Kate", 2, "Feature request: dark mode in the app, 14 requests this month", Kind.feature),
        Line("Dmytro", 3, "Бачу, там запит без WHERE", reply=1),
        Line("Anna", 4, "Dark mode is a big one, every screen", reply=2),
        Line("Olena", 5, "Запишу dark mode в беклог на Q1", reply=2),
        Line("Dmytro", 6, "Фікс експорту простий, зроблю сьогодні", reply=3),
    ])  # fmt: skip
    export, dark = tasks(engine, chat)
    placed = links(engine, chat)
    assert 0 not in placed  # the greeting belongs to no task
    assert {i for i, (t, _) in placed.items() if t == export.id} == {1, 3, 6}
    assert {i for i, (t, _) in placed.items() if t == dark.id} == {2, 4, 5}
    assert (export.status, export.assignee) == (TaskStatus.in_progress, "Dmytro")
    assert (dark.status, dark.assignee) == (TaskStatus.new, None)  # put off: nobody took it


async def test_greetings_join_no_conversation_even_one_that_greeted_too(
    engine: Engine, settings: Settings
) -> None:
    """A week's greeting that the classifier took for a task does not gather every later
    "good morning" of the chat."""
    chat = Chat()
    await say(engine, settings, chat, [
        Line("Oksana", 0, "Доброго ранку, команда ☀️ Новий тиждень, нові маршрути", Kind.task),
        Line("Andriy", 2, "Доброго ранку!"),
        Line("Lesya", 3, "Всім привіт 🙂"),
        Line("Oksana", 60 * 24, "Доброго ранку)"),
    ])  # fmt: skip
    [greeting] = tasks(engine, chat)
    assert {i: t for i, (t, _) in links(engine, chat).items()} == {0: greeting.id}


async def test_a_follow_up_that_is_no_reply_joins_by_author_time_and_words(
    engine: Engine, settings: Settings
) -> None:
    chat = Chat()
    await say(engine, settings, chat, [
        Line("Kate", 0, "Customers say the cart empties after login on iOS", BUG),
        Line("Dmytro", 2, "Схоже, мердж кошика не викликається після логіну", reply=0),
        Line("Dmytro", 3, "Гляну після планування"),
        Line("Yulia", 30, "Хто йде на обід о 13?"),
        Line("Dmytro", 200, "Знайшов: мердж кошика викликається до створення сесії після логіну, PR #812"),
    ])  # fmt: skip
    [task] = tasks(engine, chat)
    placed = links(engine, chat)
    assert {i for i, (t, _) in placed.items() if t == task.id} == {0, 1, 2, 4}
    assert (task.status, task.assignee) == (TaskStatus.in_progress, "Dmytro")
    # Its conversation's row sums up the four messages (written back once a batch, no ORM).
    with engine.connect() as conn:
        row = conn.execute(text("SELECT * FROM conversations WHERE task_id = :task"), {"task": task.id}).one()
        held = conn.execute(text("SELECT id FROM messages WHERE conversation_id = :c"), {"c": row.id}).all()
    assert sorted(m.id for m in held) == [chat.ids[i] for i in (0, 1, 2, 4)] and row.message_count == 4
    assert (row.authors, row.last_author_id) == ({"kate": "Kate", "dmytro": "Dmytro"}, "dmytro")
    assert row.last_message_at == START + timedelta(minutes=200)
    assert terms("мердж кошика після логіну").keys() <= row.terms.keys()


async def test_plus_ones_add_reporters_never_tasks_and_raise_priority(
    engine: Engine, settings: Settings
) -> None:
    chat = Chat()
    await say(engine, settings, chat, [
        Line("Oksana", 0, "Клієнти не можуть вибрати відділення НП на оформленні", BUG),
        Line("Vadym", 2, "У меня тоже, Одесса пустая", reply=0),
        Line("Maryna", 3, "+1", reply=0),
    ])  # fmt: skip
    [task] = tasks(engine, chat)
    assert [role for _, role in sorted(links(engine, chat).items())] == [
        (task.id, "source"), (task.id, "plus_one"), (task.id, "plus_one"),
    ]  # fmt: skip
    assert (task.reporters, task.priority) == (3, Priority.high)  # medium, raised at three reporters


async def test_a_new_report_of_an_open_problem_in_another_chat_is_a_duplicate(
    engine: Engine, settings: Settings
) -> None:
    dev = Chat()
    support = Chat(source=dev.source)
    await say(
        engine,
        settings,
        dev,
        [Line("Taras", 0, "Android push notifications not delivered since 3.0.4 update", BUG)],
    )
    await say(engine, settings, support, [Line("Kate", 600, "Customers report push notifications not delivered on Android", BUG)])  # fmt: skip
    [original] = tasks(engine, dev)
    assert [t.id for t in tasks(engine, support)] == [original.id]
    assert links(engine, support) == {0: (original.id, "duplicate")}
    assert tasks(engine, dev)[0].reporters == 2


async def test_a_problem_fixed_earlier_in_the_batch_is_no_duplicate_of_a_new_report(
    engine: Engine, settings: Settings
) -> None:
    """One batch (a busy worker, a history import): the fix said in it closes the task before the
    next chat's report of the same problem is weighed, so that report opens a task of its own."""
    dev, support = Chat(), Chat()
    support.source = dev.source
    lines = [
        (dev, [
            Line("Taras", 0, "Android push notifications not delivered since 3.0.4 update", BUG),
            Line("Taras", 30, "задеплоїв фікс пушів в 3.0.5 ✅", reply=0),
        ]),
        (support, [Line("Kate", 600, "Customers report push notifications not delivered on Android", BUG)]),
    ]  # fmt: skip
    with session_scope(engine) as session:
        for chat, said in lines:
            received, _ = ingest(session, [chat.incoming(i, line) for i, line in enumerate(said)])
            chat.ids.extend(r.message.id or 0 for r in received)
    verdicts = Verdicts({line.text: line for _, said in lines for line in said})
    await classify_messages(
        dev.ids + support.ids, engine=engine, settings=settings, classifier=verdicts, publish=_ignore
    )
    [fixed], [reported] = tasks(engine, dev), tasks(engine, support)
    assert fixed.status == TaskStatus.done and reported.id != fixed.id
    assert links(engine, support) == {0: (reported.id, "source")} and fixed.reporters == 1


DAY = 24 * 60


async def test_the_chat_saying_it_is_the_problem_reported_before_merges_the_new_task_into_it(
    engine: Engine, settings: Settings
) -> None:
    chat = Chat()
    lines = [
        Line("Oksana", 0, "На оформленні не підтягуються відділення Нової пошти, список порожній", BUG),
        Line("Nazar", 30, "пофіксив, відділення Нової пошти підтягуються ✅", reply=0),
        Line("Maryna", 4 * DAY, "Клієнтка пише: на сайті не вибирається відділення Нової пошти в Житомирі", BUG),
        Line("Maryna", 4 * DAY + 1, "Це те саме, що Оксана казала?", reply=2),
        Line("Artem", 4 * DAY + 5, "так, те саме, Назар пофіксив. Напишіть клієнтці, що можна оформлювати", reply=3),
    ]  # fmt: skip
    await say(engine, settings, chat, lines)
    original, absorbed = tasks(engine, chat)
    assert absorbed.merged_into_id == original.id  # asking (line 3) merged nothing; saying so did
    held = {i: role for i, (t, role) in links(engine, chat).items() if t == original.id}
    assert set(held) == {0, 1, 2, 3, 4} and held[2] == "duplicate"
    assert (original.reporters, original.status) == (2, TaskStatus.done)
    merged = [c for c in history(engine, absorbed.id) if c.field == "merged_into_id"]
    assert [(c.new, c.message_id, c.origin) for c in merged] == [
        (str(original.id), chat.ids[4], ChangeOrigin.chat)
    ]
    before = links(engine, chat)
    await classify_messages(
        chat.ids, engine=engine, settings=settings, classifier=Verdicts(), publish=_ignore
    )
    assert links(engine, chat) == before and tasks(engine, chat)[0].reporters == 2


async def test_the_chat_naming_whose_problem_it_is_merges_the_new_task_into_that_report(
    engine: Engine, settings: Settings
) -> None:
    """ "те саме, що в Агролайн": the client named finds its report when the words do not; a day
    named ("те саме, що вчора") names no report."""
    chat = Chat()
    await say(engine, settings, chat, [
        Line("Lesia", 0, "Агролайн пише: оптимізація маршруту повертає порожній список, якщо точок понад 60", BUG),
        Line("Oksana", 10, "Клієнт Зерно: з вчора експорт накладних у PDF обрізає останню сторінку", BUG),
        Line("Mark", DAY, "NovaFreight says the planner shows a blank map for a big day, around 70 drops", BUG),
        Line("Lesia", DAY + 4, "Схоже на те саме, що в Агролайн. Андрій вже фіксить", reply=2),
        Line("Mark", DAY + 60, "Hlib from Kolos: the invoices come without VAT numbers", BUG),
        Line("Lesia", DAY + 62, "це те саме, що вчора", reply=4),
    ])  # fmt: skip
    agroline, zerno, nova, kolos = tasks(engine, chat)
    assert nova.merged_into_id == agroline.id and agroline.reporters == 2
    assert (zerno.merged_into_id, kolos.merged_into_id) == (None, None)
    assert links(engine, chat)[2] == (agroline.id, "duplicate")


async def test_the_chat_naming_who_is_on_the_problem_merges_the_new_task_into_their_open_work(
    engine: Engine, settings: Settings
) -> None:
    """ "Yes, same issue, Bohdan is on it": a report in other words (and another language) finds
    the open work Bohdan took, not what he finished before nor someone else's work."""
    chat = Chat()
    await say(engine, settings, chat, [
        Line("Olha", 0, "Лідерборд дублює гравців після скидання сезону", BUG),
        Line("Bohdan", 5, "беру", reply=0),
        Line("Bohdan", 90, "пофіксив, задеплоїв ✅", reply=0),
        Line("Olha", DAY, "Покупка кристалів на iOS іноді не нараховує кристали, гроші списуються", BUG),
        Line("Bohdan", DAY + 5, "беру", reply=3),
        Line("Max", DAY + 10, "Краш на Android 14 при запуску після оновлення", BUG),
        Line("Max", DAY + 12, "гляну", reply=5),
        Line("Anna", 2 * DAY, "Players report missing gems after buying on iOS, 5 more tickets overnight", BUG),
        Line("Liam", 2 * DAY + 5, "Yes, same issue, Bohdan is on it", reply=7),
    ])  # fmt: skip
    leaderboard, gems, crash, reported = tasks(engine, chat)
    assert reported.merged_into_id == gems.id and gems.reporters == 2
    assert (leaderboard.status, gems.status, gems.assignee) == (
        TaskStatus.done,
        TaskStatus.in_progress,
        "Bohdan",
    )
    assert (leaderboard.merged_into_id, crash.merged_into_id) == (None, None)
    assert links(engine, chat)[7] == (gems.id, "duplicate")


async def test_the_client_named_finds_its_report_carried_on_in_another_topic(
    engine: Engine, settings: Settings
) -> None:
    """ "те саме, що в Агролайн" finds Агролайн's report when its work also goes on in the
    development topic, whose conversation of the same task never names the client."""
    chat = Chat()
    await say(engine, settings, chat, [
        Line("Lesia", 0, "Агролайн пише: оптимізація маршруту повертає порожній список, якщо точок понад 50",
             BUG, topic="support"),
        Line("Andrii", 10, "гляну", topic="support", reply=0),
        Line("Mila", 20, "Клієнт Зерно: експорт накладних у PDF обрізає останню сторінку", BUG, topic="support"),
        Line("Andrii", 40, "по оптимізації: геокодер віддає 429 на батчах понад 50 адрес, ріжу на пачки",
             BUG, topic="dev"),
        Line("Yura", 45, "оптимізація маршруту: ретраї з backoff теж додай", topic="dev"),
        Line("Mark", 300, "NovaFreight says the planner shows a blank map for a big day, around 70 drops",
             BUG, topic="support"),
        Line("Lesia", 304, "Схоже на те саме, що в Агролайн. Андрій вже фіксить", topic="support", reply=5),
    ])  # fmt: skip
    routes, zerno, nova = tasks(engine, chat)
    with engine.connect() as conn:
        topics = conn.execute(
            text("SELECT thread_id FROM conversations WHERE task_id = :t"), {"t": routes.id}
        )
        assert sorted(t for (t,) in topics) == ["dev", "support", "support"]  # NovaFreight's follows it
    assert nova.merged_into_id == routes.id and routes.reporters == 2
    assert zerno.merged_into_id is None


async def test_a_task_a_person_decided_on_is_not_merged_by_the_chat(
    engine: Engine, settings: Settings
) -> None:
    chat = Chat()
    await say(engine, settings, chat, [
        Line("Oksana", 0, "На оформленні не підтягуються відділення Нової пошти, список порожній", BUG),
        Line("Maryna", 4 * DAY, "Клієнтка пише: на сайті не вибирається відділення Нової пошти в Житомирі", BUG),
    ])  # fmt: skip
    second = tasks(engine, chat)[1]
    with session_scope(engine) as session:
        update_task(session, second.id, TaskUpdate(priority=Priority.high), author="Olena")
    await say(
        engine, settings, chat, [Line("Artem", 4 * DAY + 5, "так, це те саме, що в Оксани", reply=1)], first=2
    )
    assert [t.merged_into_id for t in tasks(engine, chat)] == [None, None]


async def test_an_answered_question_is_done_and_leaves_the_inbox(engine: Engine, settings: Settings) -> None:
    chat = Chat()
    await say(engine, settings, chat, [
        Line("Max", 0, "Where is the password for the test App Store account?", Kind.question),
        Line("Yulia", 1, "In 1Password, vault Mobile", reply=0),
        Line("Max", 2, "нашел, спасибо 🙏"),
        Line("Kate", 60, "Do we have an ETA for the Polish translation?", Kind.question),
    ])  # fmt: skip
    answered, waiting = tasks(engine, chat)
    assert (answered.status, answered.resolution) == (TaskStatus.done, "answered")
    assert links(engine, chat)[1] == (answered.id, "answer")
    assert (waiting.status, waiting.resolution) == (TaskStatus.new, None)


async def test_an_answer_that_nothing_is_needed_answers_the_question_and_withdraws_nothing(
    engine: Engine, settings: Settings
) -> None:
    chat = Chat()
    await say(engine, settings, chat, [
        Line("Kate", 0, "Після оновлення клієнтам треба щось перевстановлювати?", Kind.question),
        Line("Dmytro", 2, "Ні, нічого не треба, застосунок оновиться сам", reply=0),
    ])  # fmt: skip
    [question] = tasks(engine, chat)
    assert (question.status, question.resolution) == (TaskStatus.done, "answered")
    assert links(engine, chat)[1] == (question.id, "answer")


async def test_offering_what_a_question_asks_for_takes_it(engine: Engine, settings: Settings) -> None:
    chat = Chat()
    await say(engine, settings, chat, [
        Line("Kate", 0, "Скільки ми зберігаємо історію замовлень? Клієнтка просить усі свої замовлення за 2024", Kind.question),
        Line("Dmytro", 3, "Зберігаємо все, можу вивантажити. Скинь мені її email"),
    ])  # fmt: skip
    [asked] = tasks(engine, chat)
    assert (asked.kind, asked.status, asked.assignee, asked.resolution) == (
        Kind.task, TaskStatus.in_progress, "Dmytro", None
    )  # fmt: skip
    assert links(engine, chat)[1] == (asked.id, "update")


async def test_thanks_that_say_it_still_fails_leave_the_question_open(
    engine: Engine, settings: Settings
) -> None:
    chat = Chat()
    await say(engine, settings, chat, [
        Line("Max", 0, "Як у GitLab перезапустити тільки один job з пайплайну?", Kind.question),
        Line("Yulia", 1, "Може через Retry на сторінці job?", reply=0),
        Line("Max", 3, "дякую, але кнопка Retry у мене не працює", reply=1),
    ])  # fmt: skip
    [question] = tasks(engine, chat)
    assert (question.status, question.resolution) == (TaskStatus.new, None)


async def test_taking_what_a_question_asks_for_answers_the_call_with_work(
    engine: Engine, settings: Settings
) -> None:
    """ "Хтось оновить?" "я оновлю": the question asked for work, and taking it is no answer that
    closes it: the task is work in progress, its taker's, even when the taker works on an earlier
    task whose words the take shares."""
    chat = Chat()
    await say(engine, settings, chat, [
        Line("Olena", 0, "Сертифікат api закінчується в п'ятницю, треба оновити до четверга", Kind.task),
        Line("Ihor", 2, "Так, візьму. Оновлю сертифікат, заодно docker-compose на сервері", reply=0),
        Line("Dmytro", 20, "Хто знає, чому в README досі інструкції для Node 16? Хтось оновить?", Kind.question),
        Line("Ihor", 22, "я оновлю, заодно docker-compose для локального запуску"),
    ])  # fmt: skip
    certificate, readme = tasks(engine, chat)
    assert links(engine, chat)[3] == (readme.id, "update")
    assert (readme.kind, readme.status, readme.assignee, readme.resolution) == (
        Kind.task,
        TaskStatus.in_progress,
        "Ihor",
        None,
    )
    assert {(c.field, c.new, c.message_id) for c in history(engine, readme.id)} == {
        ("kind", "task", chat.ids[3]), ("status", "in_progress", chat.ids[3]), ("assignee", "Ihor", chat.ids[3]),
    }  # fmt: skip
    assert (certificate.status, certificate.assignee) == (TaskStatus.in_progress, "Ihor")


async def test_withdrawn_and_not_a_bug(engine: Engine, settings: Settings) -> None:
    chat = Chat()
    await say(engine, settings, chat, [
        Line("Maryna", 0, "Віко, зробиш 3 сторіз під новий лот?", Kind.task),
        Line("Maryna", 30, "не треба, вже не актуально", reply=0),
        Line("Kate", 100, "Bug: the bookings export only exports the current week", BUG),
        Line("Olena", 102, "Кейт, це не баг: експорт бере діапазон з календаря", reply=2),
    ])  # fmt: skip
    stories, export = tasks(engine, chat)
    assert stories.status == TaskStatus.rejected
    assert (export.kind, export.status) == (Kind.question, TaskStatus.new)


async def test_a_report_telling_what_was_done_before_it_broke_is_not_done(
    engine: Engine, settings: Settings
) -> None:
    chat = Chat()
    await say(engine, settings, chat, [
        Line("Ira", 0, "Оновив додаток до версії 2.4 на двох телефонах, і тепер вхід у кабінет "
                       "падає з помилкою 500, клієнти теж скаржаться на це з самого ранку", BUG),
        Line("Petro", 200, "Відправив тестове замовлення з промокодом на сайті, а оплата карткою зависла "
                           "на десять хвилин і потім сама скасувалась без жодного повідомлення", BUG),
        Line("Oksana", 400, "Зробила переустановку драйвера принтера, і тепер етикетки не друкуються", BUG),
    ])  # fmt: skip
    assert [(t.status, t.assignee) for t in tasks(engine, chat)] == [(TaskStatus.new, None)] * 3


async def test_the_reporter_saying_it_works_now_finishes_the_bug_and_an_all_clear_changes_nothing(
    engine: Engine, settings: Settings
) -> None:
    chat = Chat()
    await say(engine, settings, chat, [
        Line("Lesia", 0, "Імпорт накладних з Excel падає, якщо в назві товару є крапка з комою", BUG),
        Line("Taras", 3, "беру", reply=0),
        Line("Lesia", 300, "Клієнт ще раз завантажив свій файл, усе пройшло 🎉", reply=0),
        Line("Kate", 400, "Export of invoices to PDF cuts off the last line on every page", BUG),
        Line("Yura", 402, "гляну", reply=3),
        Line("Oksana", 460, "відбій", reply=3),
    ])  # fmt: skip
    imported, export = tasks(engine, chat)
    assert (imported.status, imported.assignee) == (TaskStatus.done, "Taras")
    assert (export.status, export.assignee) == (TaskStatus.in_progress, "Yura")


async def test_part_of_the_work_done_news_denied_or_a_step_on_the_way_to_a_request_finish_nothing(
    engine: Engine, settings: Settings
) -> None:
    chat = Chat()
    await say(engine, settings, chat, [
        Line("Olena", 0, "Треба 5 зимових скінів для івенту до п'ятниці", Kind.task),
        Line("Khrystia", 60, "3 з 5 скінів готово, решта завтра", reply=0),
        Line("Kate", 200, "Export of invoices to PDF cuts off the last line on every page", BUG),
        Line("Yura", 202, "беру", reply=2),
        Line("Yura", 300, "ще не задеплоїв, чекаю рев'ю", reply=2),
        Line("Natalka", 5000, "Tom, треба банер на головну до четверга. Макет скинула в Figma", Kind.task),
    ])  # fmt: skip
    skins, export, banner = tasks(engine, chat)
    assert (skins.status, skins.assignee) == (TaskStatus.in_progress, "Khrystia")
    assert (export.status, export.assignee) == (TaskStatus.in_progress, "Yura")
    assert banner.status == TaskStatus.new and banner.title.startswith("Tom, треба банер")


@pytest.mark.parametrize(
    ("lines", "kind"),
    [
        pytest.param([
            Line("Sofia", 0, "Чи можна у звіті вибрати період довший за місяць?", Kind.question),
            Line("Olena", 5, "Зараз ні, звіт будується тільки помісячно", reply=0),
            Line("Olena", 9, "Але ідея хороша, заведу в беклог на 3.2", reply=0),
        ], Kind.feature, id="put in the backlog: a feature waiting for work"),
        pytest.param([
            Line("Serhii", 0, "Вопрос: экспорт заказов в CSV должен учитывать фильтр по датам?", Kind.question),
            Line("Olena", 5, "Має враховувати фільтр, так. Це баг, якщо ні", reply=0),
            Line("Serhii", 9, "Тогда баг: фильтр по датам игнорируется при экспорте, выгружает всё", reply=1),
        ], Kind.bug, id="a bug after all"),
    ],
)  # fmt: skip
async def test_an_answered_question_reopens_as_the_work_it_turns_out_to_be(
    engine: Engine, settings: Settings, lines: list[Line], kind: Kind
) -> None:
    chat = Chat()
    await say(engine, settings, chat, lines)
    [task] = tasks(engine, chat)
    assert (task.kind, task.status, task.resolution) == (kind, TaskStatus.new, None)
    fields = [(c.field, c.new) for c in history(engine, task.id)]
    assert fields[:2] == [("status", "done"), ("resolution", "answered")]
    assert set(fields[2:]) == {("kind", kind.value), ("status", "new"), ("resolution", None)}


async def test_what_the_chat_means_by_thanks_backlog_and_checking(engine: Engine, settings: Settings) -> None:
    chat = Chat()
    await say(engine, settings, chat, [
        Line("Ira", 0, "Не можу зайти в адмінку, пише невірний пароль", BUG),
        Line("Oleh", 2, "Скинь пароль через «Забули пароль», прийде новий", reply=0),
        Line("Ira", 4, "Дякую, зайшла 🙏", reply=0),
        Line("Kate", 60, "Додайте, будь ласка, вивантаження замовлень у XLSX", Kind.feature),
        Line("Olena", 62, "Готово, записала в беклог ✅", reply=3),
        Line("Sergey", 120, "Перевіряю вчорашні замовлення і бачу, що у трьох клієнтів оплату списало "
             "двічі, хоча замовлення одне, треба терміново розібратися з еквайрингом", BUG),
    ])  # fmt: skip
    helped, xlsx, charged = tasks(engine, chat)
    assert (helped.kind, helped.status, helped.resolution) == (Kind.question, TaskStatus.done, "answered")
    assert (xlsx.kind, xlsx.status) == (Kind.feature, TaskStatus.new)  # in the backlog is not done
    assert (charged.kind, charged.status) == (BUG, TaskStatus.new)  # a report, not news of a check
    assert links(engine, chat)[5] == (charged.id, "source")


async def test_thanks_a_volunteer_and_green_again_reach_their_task_without_a_reply(
    engine: Engine, settings: Settings
) -> None:
    """Nobody replies: the reporter's thanks a quarter of an hour after the advice, "Можу я" after
    "Хто може?", "CI знову зелений" from the reporter of the CI failure. The thanks for the week,
    hours later, joins nothing."""
    chat = Chat()
    await say(engine, settings, chat, [
        Line("Max", 0, "Xcode 16.2 зламав збірку на CI, pod install падає. Хтось стикався?", BUG),
        Line("Dima", 3, "Спробуй оновити cocoapods до 1.16, у мене так лікувалось", reply=0),
        Line("Max", 18, "помогло, спасибо!"),
        Line("Olena", 60, "Хто може в п'ятницю провести демо для інвесторів? Треба 15 хвилин", Kind.task),
        Line("Dima", 64, "Можу я, якщо Анна допоможе зі слайдами"),
        Line("Ihor", 120, "Docker Hub rate limit вдарив по CI, половина білдів червоні", BUG),
        Line("Ihor", 140, "CI знову зелений 🟢"),
        Line("Olena", 300, "Всім дякую за тиждень, гарних вихідних!"),
    ])  # fmt: skip
    xcode, demo, docker = tasks(engine, chat)
    assert (xcode.status, xcode.resolution) == (TaskStatus.done, "answered")
    assert (demo.status, demo.assignee) == (TaskStatus.in_progress, "Dima")
    assert (docker.status, docker.assignee) == (TaskStatus.done, "Ihor")
    assert [links(engine, chat).get(i, (None,))[0] for i in (2, 4, 6, 7)] == [
        xcode.id,
        demo.id,
        docker.id,
        None,
    ]


async def test_work_handed_to_a_chat_member_by_name_is_theirs(engine: Engine, settings: Settings) -> None:
    chat = Chat()
    await say(engine, settings, chat, [
        Line("Nazar Humeniuk", 0, "всім доброго ранку ☀️"),
        Line("Vadym", 5, "Поміняйте, будь ласка, фото на головній, там ще літня зйомка", Kind.task),
        Line("Artem", 8, "Хтось візьме?", reply=1),
        Line("Artem", 15, "Назар оновить до вечора, тексти дасть Іра", reply=1),
    ])  # fmt: skip
    [task] = tasks(engine, chat)
    assert (task.status, task.assignee) == (TaskStatus.in_progress, "Nazar Humeniuk")
    evidence = {c.field: c.message_id for c in history(engine, task.id)}
    assert evidence["assignee"] == evidence["status"] == chat.ids[3]


async def test_the_first_to_take_the_work_keeps_it(engine: Engine, settings: Settings) -> None:
    """Someone else's side errand ("I'll refund the customer meanwhile") or review ("апрув")
    moves the work on without taking it from whoever took it first."""
    chat = Chat()
    await say(engine, settings, chat, [
        Line("Kate", 0, "Customer charged twice for order 58213, two captures 3 seconds apart", BUG),
        Line("Dima", 2, "беру, додам idempotency key", reply=0),
        Line("Kate", 3, "I'll refund the customer manually meanwhile", reply=0),
        Line("Olena", 40, "апрув, мерджи", reply=0),
    ])  # fmt: skip
    [task] = tasks(engine, chat)
    assert (task.status, task.assignee) == (TaskStatus.in_progress, "Dima")
    assert [c.message_id for c in history(engine, task.id) if c.field == "assignee"] == [chat.ids[1]]


async def test_a_human_decision_always_wins_over_the_chat(engine: Engine, settings: Settings) -> None:
    chat = Chat()
    await say(engine, settings, chat, [Line("Kate", 0, "The calendar is slow on Mondays", BUG)])
    [task] = tasks(engine, chat)
    with session_scope(engine) as session:
        update_task(
            session, task.id, TaskUpdate(priority=Priority.low, status=TaskStatus.rejected), author="Olena"
        )
    await say(
        engine,
        settings,
        chat,
        [Line("Andrii", 5, "Це критично!", reply=0), Line("Max", 6, "беру", reply=0)],
        first=1,
    )
    [after] = tasks(engine, chat)
    assert (after.priority, after.status, after.assignee) == (Priority.low, TaskStatus.rejected, None)
    origins = {(c.field, c.origin) for c in history(engine, task.id)}
    assert ("priority", ChangeOrigin.human) in origins and ("priority", ChangeOrigin.chat) not in origins


async def test_redelivery_never_attaches_twice_and_an_edit_re_evaluates(
    engine: Engine, settings: Settings
) -> None:
    chat = Chat()
    lines = [
        Line("Kate", 0, "Login by SMS fails for Kyivstar numbers", BUG),
        Line("Ihor", 2, "перевіряю провайдера", reply=0),
        Line("Ihor", 10, "ок", reply=0),
    ]
    await say(engine, settings, chat, lines)
    before = links(engine, chat)
    for _ in range(2):
        await classify_messages(
            chat.ids, engine=engine, settings=settings, classifier=Verdicts(), publish=_ignore
        )
    assert links(engine, chat) == before
    assert len(history(engine, tasks(engine, chat)[0].id)) == 2  # assignee and status, once each
    with session_scope(engine) as session:
        apply_edit(
            session, chat.source, chat.chat_id, "2", "Перемкнув на резервного провайдера, SMS приходять ✅"
        )
    await classify_messages(
        [chat.ids[2]], engine=engine, settings=settings, classifier=Verdicts(), publish=_ignore
    )
    [task] = tasks(engine, chat)
    assert task.status == TaskStatus.done and links(engine, chat) == before


async def test_a_busy_chat_weighs_only_its_latest_conversations_and_the_one_replied_to(
    engine: Engine, settings: Settings
) -> None:
    chat = Chat()
    apps = ["Alpha", "Bravo", "Charlie", "Delta", "Echo", "Foxtrot", "Golf", "Hotel", "India", "Juliet",
            "Kilo", "Lima", "Mike", "November", "Oscar", "Papa", "Quebec", "Romeo", "Sierra", "Tango",
            "Uniform", "Victor", "Whiskey", "Xray", "Yankee"]  # fmt: skip
    assert len(apps) > store.CANDIDATES
    fruit = ["apple", "banana", "cherry", "damson", "elderberry", "feijoa", "guava", "huckleberry", "jackfruit",
             "kumquat", "lemon", "mango", "nectarine", "orange", "papaya", "quince", "raspberry", "satsuma",
             "tangerine", "ugli", "vanilla", "watermelon", "ximenia", "yuzu", "zucchini"]  # fmt: skip
    reports = [Line(f"Client {app}", i * 30, f"{app} {fruit[i]} broke", BUG) for i, app in enumerate(apps)]
    await say(engine, settings, chat, reports)
    await say(
        engine,
        settings,
        chat,
        [Line("Ihor", 800, "Відтворив на тестовому стенді, займаюсь", reply=0)],
        first=len(apps),
    )
    assert len(tasks(engine, chat)) == len(apps)
    assert links(engine, chat)[len(apps)][0] == links(engine, chat)[0][0]
    with session_scope(engine) as session:
        reply = session.get(Message, chat.ids[-1])
        assert reply is not None
        read = store.Chats(session, [reply])
    assert len(read.by_id) == store.CANDIDATES  # the latest ones, the first (replied to) among them


async def test_a_batch_reads_its_topics_the_open_work_taken_in_others_and_its_tasks_as_the_session_own(
    engine: Engine, settings: Settings
) -> None:
    chat = Chat()
    lines = [
        Line("Kate", 0, "Checkout returns 500 for PayPal", Kind.bug, topic="payments"),
        Line("Olena", 1, "Banner on the main page is cut off on iPad", Kind.bug, topic="design"),
        Line("Dima", 5, "checking the PayPal logs now", topic="payments"),
    ]
    await say(engine, settings, chat, lines)
    [paypal, banner] = tasks(engine, chat)
    with session_scope(engine) as session:
        follow_up = session.get(Message, chat.ids[-1])
        assert follow_up is not None
        read = store.Chats(session, [follow_up])
        assert {c.thread_id for c in read.by_id.values()} == {"payments"}  # not the design topic
        held = session.get(Task, paypal.id)
        assert read.task(paypal.id) is held  # the one the session holds, not a second copy
        session.expunge(held)
        read = store.Chats(session, [follow_up])
        task = read.task(paypal.id)
        assert task is not None and task is not held and task.title == paypal.title
        task.assignee = "Dima"  # made of the row read, it is written like one the session loaded
    assert tasks(engine, chat)[0].assignee == "Dima" and tasks(engine, chat)[1] == banner
    # Another topic's conversation is read while someone has taken its task and it is open.
    await say(
        engine, settings, chat, [Line("Olena", 9, "I'll fix the banner today", topic="design")], first=3
    )
    assert _topics_read(engine, follow_up_id=chat.ids[2]) == {"payments", "design"}
    with session_scope(engine) as session:
        update_task(session, banner.id, TaskUpdate(status=TaskStatus.done), author="Olena")
    assert _topics_read(engine, follow_up_id=chat.ids[2]) == {"payments"}


def _topics_read(engine: Engine, follow_up_id: int) -> set[str | None]:
    with session_scope(engine) as session:
        read = store.Chats(session, [session.get_one(Message, follow_up_id)])
        return {c.thread_id for c in read.by_id.values()}


async def test_work_taken_in_one_forum_topic_is_carried_on_in_another(
    engine: Engine, settings: Settings
) -> None:
    """Support reports, a developer takes it there and goes on about it in the development topic:
    by what it talks about, or (saying nothing the report said) just after taking it. The topic's
    next messages follow there, on the same task. New work opens its own task, whoever took
    something elsewhere: a fresh report, a request of someone who took nothing, a new thread."""
    chat = Chat()
    diagnosis = (
        "по імпорту: парсер ріже рядок по комі всередині адреси, лапки в CSV не екрануються. Фікс у PR #452"
    )
    await say(engine, settings, chat, [
        Line("Lesya", 0, "Клієнт пише: імпорт замовлень з CSV падає, якщо в адресі є кома", BUG, topic="support"),
        Line("Taras", 3, "гляну", topic="support"),
        Line("Mila", 5, "Кур'єри скаржаться: на Xiaomi карта в застосунку зависає за пару хвилин", BUG, topic="support"),
        Line("Zhenya", 6, "о, це моє, гляну", topic="support", reply=2),
        Line("Olena", 20, "Додайте імпорт товарів з Excel, клієнти просять", Kind.feature, topic="dev"),
        Line("Taras", 40, diagnosis, BUG, topic="dev"),
        Line("Zhenya", 45, "по карті: MIUI battery saver вбиває location service, треба foreground service", BUG, topic="dev"),
        Line("Andrii", 50, "смотрю #452", topic="dev"),
        Line("Zhenya", 52, "🐞 ще одне: на Android 8 не працює вхід через Google", BUG, topic="dev"),
        Line("Yura", 90, "залив #452 на прод", topic="dev"),
        Line("Zhenya", 95, "по targetSdk: Google дав строк до кінця місяця, треба оновити до 35", Kind.task,
             topic="10"),  # the first message of a thread of its own (an email's): a subject of its own
    ])  # fmt: skip
    csv, xiaomi, excel, android, target_sdk = tasks(engine, chat)
    placed = {i: t for i, (t, _) in links(engine, chat).items()}
    assert {i for i, t in placed.items() if t == csv.id} == {0, 1, 5, 7, 9}
    assert {i for i, t in placed.items() if t == xiaomi.id} == {2, 3, 6}
    assert (placed[4], placed[8], placed[10]) == (excel.id, android.id, target_sdk.id)
    assert (csv.status, csv.assignee) == (TaskStatus.done, "Taras")
    assert (xiaomi.status, xiaomi.assignee) == (TaskStatus.in_progress, "Zhenya")
    with engine.connect() as conn:
        topics = conn.execute(text("SELECT task_id, thread_id FROM conversations WHERE task_id = ANY(:t)"),
                              {"t": [csv.id, xiaomi.id]}).all()  # fmt: skip
    assert sorted(topics) == sorted(
        [(csv.id, "support"), (csv.id, "dev"), (xiaomi.id, "support"), (xiaomi.id, "dev")]
    )


async def test_a_batch_reads_its_chat_as_it_is_now_whoever_changed_it(
    engine: Engine, settings: Settings
) -> None:
    """A chat's conversations come with every batch and are decoded once for each distinct row
    (store._pool_row): they read as the ORM loads them, and a change by another writer (a person
    assigning the task, a conversation rewritten) is read anew."""
    chat = Chat()
    await say(engine, settings, chat, [Line("Kate", 0, "Checkout returns 500 for PayPal", BUG),
                                       Line("Dima", 1, "checking the PayPal logs now")])  # fmt: skip
    first, first_task = _read_back(engine, chat)
    with session_scope(engine) as session:
        stored = session.get_one(Conversation, first.id)
        assert stored.model_dump() == asdict(first)
        loaded = session.get_one(Task, first_task.id)
        assert {c: getattr(loaded, c) for c in TASK_COLUMNS} == {
            c: getattr(first_task, c) for c in TASK_COLUMNS
        }
        assert isinstance(first_task.confidence, float) and first_task.updated_at.tzinfo is not None
        update_task(session, first_task.id or 0, TaskUpdate(assignee="Olena"), author="Olena")
        session.execute(text("UPDATE conversations SET authors = '{}', terms = terms || '{\"paypa\": 9}' "
                             "WHERE id = :id"), {"id": first.id})  # fmt: skip
        session.execute(text("UPDATE tasks SET confidence = 1 WHERE id = :id"), {"id": first_task.id})
    again, again_task = _read_back(engine, chat)
    assert (again.authors, again.terms["paypa"], again_task.assignee) == ({}, 9, "Olena")
    assert isinstance(again_task.confidence, float)  # JSON writes 1.0 as 1
    assert (first.authors, first_task.assignee) == ({"kate": "Kate", "dima": "Dima"}, "Dima")


TASK_COLUMNS = [c.name for c in Task.__table__.c]  # type: ignore[attr-defined]


def _read_back(engine: Engine, chat: Chat) -> tuple[store.ConversationState, Task]:
    """The chat's one conversation and its task, as a batch of its latest message reads them."""
    with session_scope(engine) as session:
        read = store.Chats(session, [session.get_one(Message, chat.ids[-1])])
        [conversation] = read.by_id.values()
        task = read.task(conversation.task_id)
        assert task is not None
        session.expunge(task)
    return conversation, task


async def test_a_batch_reads_its_chat_only_once_the_batch_placing_in_it_has_committed(
    engine: Engine, settings: Settings
) -> None:
    """Placement is serialised per chat: the second batch waits for the chat's lock, and its
    read (sent with the lock in one round trip) sees the conversation the first one opened."""
    chat = Chat()
    await say(engine, settings, chat, [Line("Kate", 0, "Checkout returns 500 for PayPal"),
                                       Line("Dima", 1, "checking the PayPal logs now")])  # fmt: skip
    backend: list[int] = []
    second_read: list[store.Chats] = []

    def second_batch() -> None:
        with session_scope(engine) as session:
            backend.append(driver(session).info.backend_pid)
            second_read.append(store.Chats(session, [session.get_one(Message, chat.ids[1])]))

    with session_scope(engine) as session:
        first = session.get_one(Message, chat.ids[0])
        store.Chats(session, [first])  # takes the chat's lock
        opened = store.open_conversation(session, first, dict(terms(first.text)))
        waiting = threading.Thread(target=second_batch)
        waiting.start()
        while waiting.is_alive() and not (backend and _waits_for_a_lock(engine, backend[0])):
            waiting.join(0.02)
        assert waiting.is_alive()  # it waits for the first batch
    waiting.join()
    assert opened.id in second_read[0].by_id


def _waits_for_a_lock(engine: Engine, pid: int) -> bool:
    with engine.connect() as conn:
        query = "SELECT count(*) FROM pg_locks WHERE pid = :pid AND locktype = 'advisory' AND NOT granted"
        return bool(conn.execute(text(query), {"pid": pid}).scalar())


async def test_a_title_the_llm_wrote_from_the_conversation_survives_a_new_reading_of_its_report(
    engine: Engine, settings: Settings
) -> None:
    chat = Chat()
    await say(engine, settings, chat, [Line("Kate", 0, "Login by SMS fails for Kyivstar numbers", BUG)])
    with session_scope(engine) as session:
        task = session.get(Task, tasks(engine, chat)[0].id)
        assert task is not None
        progress.apply(session, task, {"title": "SMS login fails (Kyivstar)"}, origin=ChangeOrigin.llm)
        apply_edit(session, chat.source, chat.chat_id, "0", "Login by SMS fails for Kyivstar and Vodafone")
    edited = Line("Kate", 0, "Login by SMS fails for Kyivstar and Vodafone", BUG, priority=Priority.high)
    await classify_messages(
        [chat.ids[0]],
        engine=engine,
        settings=settings,
        classifier=Verdicts({edited.text: edited}),
        publish=_ignore,
    )
    [task_now] = tasks(engine, chat)
    assert (task_now.title, task_now.priority) == ("SMS login fails (Kyivstar)", Priority.high)


async def _ignore(_: object) -> None:
    return None
