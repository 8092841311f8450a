"""What a chat message says about the work it belongs to, in Ukrainian, Russian and English.

Phrase lists, not a model: the words people use to take, finish, withdraw or escalate work
are few, and a list is easy to read, test and extend. Each list names what it catches.

The lists are matched against the message in lower case (`read` lowers it once): a pattern
compiled case-blind costs about four times as much to search. The functions below take it lowered,
but `escalation`; a pull request's "PR", a name handed the work (DELEGATE) and "the same as"
(SAME, whose rest `same_as` returns) are read from the text as written.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from enum import IntEnum
from itertools import chain

from core.conversations.text import NAMED_NUMBER, sounded, words


def _phrases(*alternatives: str) -> re.Pattern[str]:
    """Whole-word alternatives in lower case (a trailing * allows any ending), for lowered text."""
    if upper := [a for a in alternatives if a != a.lower()]:
        raise ValueError(f"phrases are matched against lowered text; write them in lower case: {upper}")
    parts = [re.escape(a).replace(r"\*", r"\w*").replace(r"\ ", r"\s+") for a in alternatives]
    return re.compile(r"(?<!\w)(?:" + "|".join(parts) + r")(?!\w)")


_CYRILLIC_WORD = re.compile(r"[а-яёіїєґ'’]+")
_LATIN_WORD = re.compile(r"(?<!\w)[a-z][a-z'’]*(?!\w)")


def _sounding(*alternatives: str) -> frozenset[str]:
    """The one-word Cyrillic alternatives as they sound in Latin letters (`sounded`): the same
    words written in transliteration ("prybrav" for "прибрав", "zroblyu" for "зроблю")."""
    return frozenset(sounded(a) for a in alternatives if _CYRILLIC_WORD.fullmatch(a))


def _says_transliterated(sounding: frozenset[str], text: str) -> bool:
    """A word of the text in Latin letters sounds like one of `sounding`, said as `_says` would
    ("ne zrobyv" denies it)."""
    found = (w for w in _LATIN_WORD.finditer(text) if sounded(w.group().lower()) in sounding)
    return _said(found, text)


_TAKE_WORDS = (
    # uk
    "візьму", "беру", "берусь", "беруся", "займусь", "займуся", "зроблю", "виправлю", "поправлю",
    "пофікшу", "фікшу", "доробляю", "роблю", "я на цьому", "на мені", "перероблю", "відкочу",
    "оновлю", "додам", "налаштую", "можу я", "виправляю", "лагоджу", "полагоджу", "поміняю", "можу взяти",
    "переробляю", "переписую", "можу почати", "почну", "підготую", "підніму", "знесу",
    # ru
    "возьму", "беру", "займусь", "сделаю", "исправлю", "поправлю", "пофикшу", "фикшу", "починю",
    "я на этом", "на мне", "делаю", "переделаю", "откачу", "верну", "перегенерирую", "обновлю",
    "добавлю", "настрою", "могу я", "чиню", "исправляю", "поменяю", "могу взять",
    "переделываю", "переписываю", "могу начать", "начну", "подготовлю", "подниму", "снесу",
    # en
    "i'll take*", "i will take*", "i'll do it", "i'll fix*", "i will fix*",
    "i'll handle*", "i'll make*", "will do", "taking it", "i'll refund*", "i can do it", "i can take it",
    "fixing it", "i'm fixing*", "i'll add*", "i'll update*", "i'll change*", "i can start*", "i'll start*",
    "i'll put*", "i'll prepare*", "i'll write*", "i'll set up*", "i'll post*",
)  # fmt: skip
TAKE = _phrases(*_TAKE_WORDS)
"""Someone takes the work on."""
_TAKE_SOUNDING = _sounding(*_TAKE_WORDS)
_STARTED = re.compile(r"(?:^|[:.!,;—–-]\s*)(?:почав|почала|начал|начала|started)(?=\s*(?:[,.!;:—–-]|$))")
""""Started" said as a clause of its own ("targetSdk 35: почав, там міграція ..."): the author
began the work; not "сайт почав падати"."""
_ON_IT = re.compile(r"(?:^|[.!,;:—–-]\s*|(?<!\w)(?:i'm|i am|im)\s+)on it(?:\s+now)?(?![ \t]*\w)")
""""On it" said of oneself ("on it", "good catch, on it", "I'm on it"), not "Anybody on it?", "don't
spend time on it" or "2% of users are on it"."""

LOOK = _phrases(
    "гляну", "подивлюсь", "подивлюся", "дивлюсь", "дивлюся", "перевіряю", "перевірю", "розберусь",
    "посмотрю", "смотрю", "проверю", "проверяю", "разберусь",
    "looking", "checking", "i'll check*", "i'll look*", "will check", "investigating", "let me look*",
    "let me check*", "let me see", "i'll dig*", "i'll investigate*",
    "в роботі", "в работе", "працюю над", "работаю над", "working on it",
)  # fmt: skip
"""Someone starts looking into it: on it, unless someone takes it outright."""

DEFER = _phrases(
    "беклог*", "backlog", "на планінгу", "на плануванні", "на планировании", "ідеї", "идеи", "ideas",
    "запишу", "заведу", "обговоримо", "обсудим", "next quarter", "someday", "колись", "когда-нибудь",
)  # fmt: skip
"""Put off: noted for later, nobody on it."""

MERGED = _phrases(
    "змерджив*", "змержив*", "смерджил*", "смержил*", "merged", "в ревью", "на ревью", "in review",
    "раскатк*", "розкатк*", "rollout", "rolling out", "на стейджинг*", "on staging",
    "апрув*", "approved", "lgtm", "fix is ready", "фікс готовий", "фикс готов", "лишив коментар*",
    "залишив коментар*", "оставил коммент*", "left a comment", "left a couple of comments",
    "left comments", "влил", "влила", "влив", "влили",
)  # fmt: skip
"""Done in code but not out yet (merged, in review, approved): still in progress."""

_SINCE = re.compile(r"(?<!\w)(?:і|и|й|а|але|но|and|but)\s+(?:тепер|теперь|now)(?!\w)([^.!?\n]*)")
_NOT_WORKING = re.compile(r"(?<!\w)(?:не|not)\s+\w|n't(?!\w)")
_FAILING = _phrases(
    "пада*", "впав", "впала", "упал*", "виліта*", "вылета*", "краш*", "крэш*", "crash*", "fail*",
    "error*", "помилк*", "ошибк*", "broke*", "зламал*", "сломал*", "зависа*", "завис*", "500",
    # late, slow, complained about
    "затримк*", "задержк*", "delay*", "повільн*", "медленн*", "slow*", "скарж*", "жалу*", "complain*",
)  # fmt: skip
"""Words that say something fails: broken, crashing, late, slow, complained about."""
_NONE = _phrases("нема", "немає", "нет", "no", "без", "zero", "ні")


def broke_since(text: str) -> bool:
    """What was done, then that it broke since ("Оновив додаток, і тепер вхід не працює",
    "updated the app and now login fails"): a report, not news of finished work ("Пофіксив, і
    тепер нема 500" is)."""
    found = _SINCE.search(text)
    if found is None:
        return False
    clause = found.group(1)
    return bool(_NOT_WORKING.search(clause)) or bool(_FAILING.search(clause) and not _NONE.search(clause))


PULL_REQUEST = re.compile(
    r"(?<!\w)(?:PR|MR)(?!\w)|(?i:(?<!\w)(?:pull|merge|пул|пулл)[- ]?(?:request|реквест)\w*)"
)
"""A pull request named ("PR #431 готов", "the PR is up, can you review?"): work on code under
way, a request to review it is news about that work, not new work."""

_DONE_WORDS = (
    # uk
    "виправив", "виправила", "виправлено", "пофіксив", "пофіксила", "пофікшено", "полагодив",
    "полагодила", "задеплоїв", "задеплоїла", "задеплоєно", "викотив", "викотила", "викатив",
    "викатили", "оновлено", "оновив", "оновила", "зроблено", "готово", "залитий", "залито",
    "закрив", "налаштований", "налаштовано", "налаштував", "перемкнув", "зробила", "зробив",
    "додав", "додала", "відкотив", "вирішено", "залив", "залила", "виклав", "виклала", "прогнав",
    "прогнала", "скинув", "скинула", "знову зелен*", "знову працю*", "поправив", "поправила",
    "відправив", "відправила", "прибрав", "прибрала", "видалив", "видалила", "замінив", "замінила",
    "закінчив", "закінчила", "завершив", "завершила", "перезапустив", "перезапустила", "знес",
    "зніс", "знесла",
    # ru
    "исправил", "исправила", "исправлено", "пофиксил", "пофиксила", "починил", "починила",
    "задеплоил", "задеплоила", "выкатил", "выкатила", "выкатили", "залил", "залила", "сделал",
    "сделала", "сделано", "добавил", "добавила", "поправил", "поправила", "закрыл", "настроил",
    "откатил", "обновил", "обновила", "решено", "скинул", "отправил", "отправила", "снова зелен*",
    "снова работа*", "убрал", "убрала", "удалил", "удалила", "заменил", "заменила", "закончил",
    "закончила", "завершил", "завершила", "перезапустил", "перезапустила", "снес", "снесла",
    # en
    "fixed", "deployed", "done", "shipped", "released", "resolved", "is live", "rolled out",
    "works now", "is back", "are back", "uploaded", "updated", "added", "are live", "all live",
    "is set", "are set", "green again", "working again", "works again", "back to normal",
    "removed", "deleted", "finished", "completed",
    # transliterated, where "ї" is written "yi" (other transliterations: _DONE_SOUNDING)
    "zadeployiv",
)  # fmt: skip
DONE = _phrases(*_DONE_WORDS)
"""The work is finished: fixed, deployed, done."""
_DONE_SOUNDING = _sounding(*_DONE_WORDS)

NEEDS = _phrases(
    "треба", "потрібно", "потрібен", "потрібна", "нужно", "надо", "нужен", "нужна", "need to",
    "needs to", "we need", "i need",
)  # fmt: skip
"""It says work is needed ("Tom, треба банер до четверга. Макет скинула в Figma"): a request, even
when it tells what was done on the way."""

PARTLY = _phrases(
    "лишилось", "лишилося", "залишилось", "залишилося", "осталось", "остались", "remaining",
    "left to do", "still to do", "ще треба", "еще нужно", "ещё нужно",
)  # fmt: skip
"""Part of the work is done, the rest is named ("зробив анімацію, лишилось тексти"): in progress."""
_SOME_OF = re.compile(r"(?<![\w.])(\d+)\s+(?:з|із|из|of)\s+(\d+)(?![\w.])")


def partly(text: str) -> bool:
    """It says part of the work is done: what is left, or some of a count ("3 з 5 скінів готово")."""
    return bool(PARTLY.search(text)) or any(int(a) < int(b) for a, b in _SOME_OF.findall(text))


FULL_ROLLOUT = re.compile(
    r"(?<!\w)(?:розкат|раскат|викат|выкат|roll)\w*\s+(?:\w+\s+){0,2}(?:на|to)\s+100\s*%"
)
"""A rollout reaching everyone ("раскатываю на 100%", "rolling out to 100%"): out, done."""

_OUT = r"(?:на\s+прод[іе]|[ву]\s+стор[іе]|(?:in|on)\s+prod(?:uction)?|in\s+the\s+(?:app\s+)?store)(?!\w)"
_CHANGE_NAMED = rf"(?:{NAMED_NUMBER.pattern}|(?<!\w)(?:фікс|фикс|fix)\w*)[^.!?\n]{{0,60}}?"
_A_FEW_WORDS = r"^\W*(?:[\w'’-]+\s+){1,3}"
RELEASED = re.compile("|".join([_CHANGE_NAMED + _OUT, _A_FEW_WORDS + _OUT + r"[^\w?]*$"]))
"""A fix, a version or a numbered change out where people use it ("#620 на проде", "3.9.1 з
фіксом кешу в сторі", "the fix is on prod"), or a few words saying what is ("банер на проді"):
done, unless something fails there."""


def _fails(text: str) -> bool:
    """It says something fails or does not work ("падає", "не працює", "500")."""
    return bool(_FAILING.search(text) or _NOT_WORKING.search(text))


_BUT_FAILS = re.compile(
    r"(?<!\w)(?:але|однак|но|однако|but|however)(?!\w)[^.!?\n]*?(?:"
    + _FAILING.pattern
    + "|"
    + _NOT_WORKING.pattern
    + ")",
)
"""Something done, but something still fails ("Токен замінив, але DNS-01 все одно падає")."""


def released(text: str) -> bool:
    return bool(RELEASED.search(text)) and not _fails(text)


WITHDRAW = _phrases(
    "не треба", "вже не треба", "не актуально", "неактуально", "скасуйте", "скасовуємо", "скасовую",
    "не роби", "не робіть", "не роблю",
    "не надо", "уже не надо", "отменяем", "отменяю", "забудьте", "не делай", "не делайте", "не делаю",
    "never mind", "nevermind", "no longer needed", "not needed", "cancel that", "scratch that",
    "disregard", "don't bother", "don't do it", "please cancel", "cancel it", "cancel the",
    "don't spend time on it", "не витрачай час", "не трать время",
)  # fmt: skip
"""Asked, then withdrawn ("не забудьте", don't forget, denies "забудьте": it reminds)."""

ALL_CLEAR = _phrases("відбій", "отбой")
""""Call it off" in a message that says why ("Відбій по звіту, клієнт сам вивантажив його з
кабінету"); alone or with a few words ("відбій", "Відбій, всі живі") it is the all-clear after an
air-raid alert, not news about work."""
_CALLED_OFF_WORDS = 7


_AN_ORDER = re.compile(
    r"^\s+(?:(?:це|этот|the|this)\s+)?(?:замовлення|заказ\w*|order\w*|оплат\w*|платіж|платеж\w*|payment\w*|"
    r"підписк\w*|подписк\w*|subscription\w*)",
)
"""A customer's order, payment or subscription right after "скасуйте" / "cancel": support tells
someone to cancel that ("Просто скасуйте замовлення"), no work is called off."""


_RIGHT_AFTER_NOT = re.compile(r"(?<!\w)не\s+$")
"""A call-off phrase right after "не" is denied ("не забудьте"); most of them are negations
themselves, so a denial further back ("Ні, вже не треба") does not count."""


def withdraws(text: str) -> bool:
    if _says(WITHDRAW, text, before=(_RIGHT_AFTER_NOT,), after=_AN_ORDER):
        return True
    return bool(ALL_CLEAR.search(text)) and len(words(text)) >= _CALLED_OFF_WORDS


CRITICAL = _phrases(
    "критично", "критичн*", "critical", "блокер", "blocker", "всі клієнти", "все клиенты",
    "all customers", "all clients", "пріоритет найвищий", "найвищий пріоритет", "highest priority",
    "гроші клієнтів", "деньги клиентов",
)  # fmt: skip
"""Escalation to critical."""

URGENT = _phrases("терміново", "срочно", "urgent*", "asap", "горить", "горит", "важливо", "важно", "hotfix")
"""Escalation by one level."""

_NEGATED = re.compile(r"(?:(?<!\w)(?:не|ні|ne|ni|not|no|never)|n't)\s+(?:\w+\s+)?$")
"""What comes before a phrase that denies it: "ще не задеплоїв", "not fixed yet", "haven't merged",
"ne zrobyv"."""


_SOMEONE = re.compile(
    r"(?<!\w)(?:хтось|хто-небудь|кто-то|кто-нибудь|someone|somebody|anyone|anybody)\s+(?:\w+\s+)?$",
)
"""What comes before a phrase said of someone unknown: "Is someone looking at it?"."""


def _says(
    pattern: re.Pattern[str],
    text: str,
    before: tuple[re.Pattern[str], ...] = (_NEGATED, _SOMEONE),
    after: re.Pattern[str] | None = None,
) -> bool:
    """The text says the phrase: somewhere that nothing in `before` qualifies from in front (by
    default a denial, "ще не готово", or someone unknown, "Is someone looking at it?") and
    `after` does not from the rest of its sentence (a question mark, "якщо", an order)."""
    return _said(pattern.finditer(text), text, before, after)


def _said(
    matches: Iterable[re.Match[str]],
    text: str,
    before: tuple[re.Pattern[str], ...] = (_NEGATED, _SOMEONE),
    after: re.Pattern[str] | None = None,
) -> bool:
    """Whether one of the phrases found in the text is said as `_says` tells."""
    for found in matches:
        head = text[: found.start()]
        if any(qualifier.search(head) for qualifier in before):
            continue
        if after is None or not after.search(_rest_of_sentence(text, found.end())):
            return True
    return False


def _rest_of_sentence(text: str, end: int) -> str:
    return re.split(r"[.!\n]", text[end:], maxsplit=1)[0]


_QUESTION = re.compile(r"\?")


PLUS_ONE = _phrases(
    "+1", "+", "same here", "me too", "same", "у мене теж", "у мене також", "і в мене", "і у мене",
    "у меня тоже", "и у меня", "у нас теж", "у нас тоже", "такая же", "така ж", "те саме", "то же самое",
)  # fmt: skip
"""One more person has the problem."""

_MORE = re.compile(r"^\s*\+\s*(?:ще|ещё|еще|more)\s*\d+")

SAME = re.compile(
    r"(?<!\w)(?:(?:це|это|так|да|схоже на|похоже на),?\s+(?:те\s+саме|то\s+же\s+самое|той\s+самий|та\s+сама"
    r"|тот\s+же|та\s+же)|те\s+саме,?\s+що|то\s+же\s+самое,?\s+что|(?:same|duplicate)\s+(?:issue|bug|problem|error|crash)"
    r"|the\s+same\s+(?:thing\s+)?as|duplicate\s+of)(?!\w)",
    re.IGNORECASE,
)
"""The chat says the problem is one reported before ("це те саме, що вчора в Агротеху",
"yes, same issue"); asking it ("Is this the same?") says nothing yet."""


def same_as(text: str) -> str:
    """What the message says the problem is the same as: the rest of the sentence after SAME
    ("що в Агролайн" of "Схоже на те саме, що в Агролайн. Андрій вже фіксить")."""
    found = SAME.search(text)
    return re.split(r"[.!?;\n]", text[found.end() :], maxsplit=1)[0] if found else ""


NOT_A_BUG = _phrases(
    "не баг", "не бага", "not a bug", "as designed", "by design", "так задумано", "так і задумано",
    "так и задумано", "так має бути", "так и должно быть", "expected behavio*", "так працює",
    "нічого не зламалось", "нічого не зламалося", "нічого не зламано", "ничего не сломалось",
    "ничего не сломано", "nothing is broken", "nothing broke", "nothing's broken", "це доробка",
    "це вже доробка", "это доработка", "это уже доработка",
)  # fmt: skip
"""What looked like a bug works as intended."""

IS_A_BUG = _phrases(
    "тоді баг", "тогда баг", "значить баг", "значит баг", "це баг", "это баг", "точно баг",
    "it's a bug", "it is a bug", "that's a bug", "definitely a bug",
)  # fmt: skip
"""What was asked or wished for turns out to be broken ("Тогда баг: фильтр по датам игнорируется")."""
_ASKED_OR_IF = re.compile(r"\?|(?<!\w)(?:якщо|если|if)(?!\w)")


def is_a_bug(text: str) -> bool:
    """The message says it is a bug: not asked ("це баг?") nor only if ("Це баг, якщо ні")."""
    return _says(IS_A_BUG, text, before=(_NEGATED,), after=_ASKED_OR_IF)


GRATEFUL = _phrases(
    "дякую", "дяки", "спасибі", "спасибо", "спс", "thanks", "thank you", "thx", "помогло",
    "допомогло", "got it",
)  # fmt: skip
"""Thanks for help."""

THANKS = _phrases("нашел", "найшов", "знайшов", "знайшла", "работает", "працює")
"""With GRATEFUL: thanks, or "found it": an answer landed."""

WORKS = _phrases(
    "працює", "запрацювало", "пройшло", "дійшло", "дійшли", "приходять", "отримали", "підтвердили",
    "работает", "заработало", "прошло", "дошло", "дошли", "приходят", "получили", "подтвердили",
    "works", "working", "went through", "arrived", "confirmed", "confirms",
)  # fmt: skip
"""It works now, or the people it was for confirm it ("Клієнт завантажив файл, все пройшло")."""


def works(text: str) -> bool:
    """Says it works, not that it does not (nor asks whether it does)."""
    return bool(WORKS.search(text)) and _untroubled(text)


def _untroubled(text: str) -> bool:
    """Nothing in it fails, nothing is asked."""
    return not (_fails(text) or "?" in text)


OFFER = re.compile(r"(?<!\w)(?:можу|могу|i\s+can)\s+(?!я(?!\w)|i(?!\w))[^\W\d_]{3,}")
"""The author offers to do something ("можу вивантажити", "I can sketch it"), not "не можу знайти"."""


_CHEER = re.compile("[👍🎉🥳🙌🟢💪🙂😊]")


def cheers(text: str) -> bool:
    """Good news or approval, marked so ("всё летает 👍", "Support is quiet after the release 🙂"):
    nothing fails, nothing asked."""
    return bool(_CHEER.search(text)) and _untroubled(text)


REPLY = re.compile(
    r"^\W*(?:(?:так|ні|да|нет|yes|yeah|yep|no|nope|sure|agreed|згоден|згодна|согласен|согласна)"
    r"(?=\s*(?:[,.!—–-]|$))|(?:(?:great|good|nice) (?:find|catch|point)|ого|вау|wow|ugh|oops|упс|ой)"
    r"(?=\s*(?:[.!…]|$))|(?:не я|не мы|не ми|not me|звісно|звичайно|авжеж|конечно|разумеется|"
    r"of course|я за|я проти|я против|i'm for|i'm against|спробуй\w*|попробуй\w*|try)(?!\w))",
)
"""It opens with an answer or a reaction: yes, no, not me, of course, I'm for, try, good catch, wow
("Не я. Може міграція впала?", "Звісно, спочатку на staging", "Спробуй оновити cocoapods", "Great
find. How many clients?"). A bare "так"/"нет" needs a mark after it ("Нет доступа к ..." is no
answer), a reaction the end of a sentence ("Ой, у нас впав прод" is a report)."""

DELEGATE = re.compile(
    r"(?<!\w)([A-ZА-ЯІЇЄҐ][a-zа-яіїєґ'’]+)\s+(?:(?:сьогодні|сегодня|завтра|today|tomorrow)\s+)?"
    r"(?:візьме|зробить|поставить|подивиться|гляне|виправить|пофіксить|оновить|додасть|налаштує|"
    r"перевірить|поміняє|змінить|замінить|полагодить|підготує|розбереться|"
    r"возьм[её]т|сделает|поставит|посмотрит|глянет|исправит|починит|пофиксит|обновит|"
    r"добавит|настроит|проверит|поменяет|изменит|заменит|подготовит|разбер[её]тся|"
    r"will\s+(?:take|do|fix|look|check|handle|update|add|change|replace|prepare|sort)|is\s+on\s+it)(?!\w)"
)
"""Someone hands the work to a person by name ("Олег оновить до вечора", "Dima will fix it")."""
_NOBODY = frozenset(
    {"хтось", "хто", "кто", "він", "вона", "вони", "ми", "он", "она", "они", "мы",
     "someone", "somebody", "who", "he", "she", "they", "we", "it", "this", "that"}
)  # fmt: skip


class Escalation(IntEnum):
    none = 0
    urgent = 1
    critical = 2


@dataclass(frozen=True)
class Signals:
    """What one message says about its work."""

    take: bool = False
    look: bool = False
    defer: bool = False
    merged: bool = False
    done: bool = False
    withdraw: bool = False
    escalation: Escalation = Escalation.none
    plus_one: bool = False
    not_a_bug: bool = False
    is_a_bug: bool = False
    """It says what was asked about is a bug after all (`is_a_bug`)."""
    thanks: bool = False
    """Thanks, or "found it", "works"."""
    grateful: bool = False
    """Thanks for help, in so many words."""
    asks: bool = False
    """The message asks something (a question mark)."""
    replies: bool = False
    """It opens with an answer or a reaction (REPLY)."""
    same: bool = False
    """It says the problem was reported before (SAME), not asking."""
    delegate: str = ""
    """The name of the person it hands the work to (DELEGATE), not asking."""
    works: bool = False
    """It says it works now, or that the people it was for confirm it (WORKS)."""
    cheers: bool = False
    """Good news or approval, marked with a cheer (`cheers`)."""
    offers: bool = False
    """The author offers to do something (OFFER), not asking."""
    partly: bool = False
    """It says part of the work is done (`partly`): in progress, not finished."""
    needs: bool = False
    """It says work is needed (NEEDS), not denying it."""
    escalates_this: bool = False
    """It escalates what was just said ("This is critical — ...", "Це терміново"): `escalates_this`."""

    @property
    def moves_work(self) -> bool:
        return (
            self.take or self.look or self.done or self.withdraw or self.merged or self.partly
            or bool(self.delegate)
        )  # fmt: skip


def read(text: str) -> Signals:
    """The signals in a message's text."""
    low = text.lower()
    grateful = bool(GRATEFUL.search(low))
    level = escalation(low)
    said_done = _says(DONE, low) or _says_transliterated(_DONE_SOUNDING, low)
    part = partly(low)
    finished = (said_done or bool(FULL_ROLLOUT.search(low))) and not (
        part or broke_since(low) or _BUT_FAILS.search(low)
    )
    return Signals(
        take=_says(TAKE, low) or _says_transliterated(_TAKE_SOUNDING, low) or _started(low),
        look=_says(LOOK, low),
        defer=bool(DEFER.search(low)),
        merged=_says(MERGED, low) or bool(PULL_REQUEST.search(text)),
        done=finished or released(low) or "✅" in text,
        withdraw=withdraws(low),
        escalation=level,
        plus_one=is_plus_one(low),
        not_a_bug=bool(NOT_A_BUG.search(low)),
        is_a_bug=is_a_bug(low),
        thanks=_thanks(low, grateful),
        grateful=grateful,
        asks="?" in text,
        replies=REPLY.match(low) is not None,
        same="?" not in text and bool(SAME.search(text)),
        delegate=_delegate(text),
        works=works(low),
        cheers=cheers(low),
        offers="?" not in text and _says(OFFER, low),
        partly=part and (said_done or bool(RELEASED.search(low))),
        needs=_says(NEEDS, low),
        escalates_this=escalates_this(low, level),
    )


def _thanks(text: str, grateful: bool) -> bool:
    """Thanks, or "found it", "works": not when it says it does not ("дякую, але не працює",
    "не нашел")."""
    return _says(THANKS, text, before=(_NEGATED,)) or (grateful and not THANKS.search(text))


def _started(text: str) -> bool:
    return bool(_ON_IT.search(text) or _STARTED.search(text))


def _delegate(text: str) -> str:
    found = DELEGATE.search(text)
    if found is None or "?" in text or found.group(1).lower() in _NOBODY:
        return ""
    return found.group(1)


_INSTRUCTION = re.compile(r"(?:priority\s*[:=]?|mark\s+(?:this|it)\s+(?:as\s+)?)\s*$")
"""What comes before "critical" in an instruction to the bot ("priority: critical", "<!-- priority=critical
-->", "mark this critical"): the taxonomy says the instruction itself is ignored."""


_NO_RUSH = _phrases(
    "не горить", "не горит", "не терміново", "не срочно", "not urgent", "no rush", "не критично",
    "не критичн*", "not critical",
)  # fmt: skip
"""It says there is no hurry ("Це важливо для бухгалтерії, але не горить"): nothing escalates."""


def escalation(text: str) -> Escalation:
    """How far a message raises priority: not when negated ("не критично", "важливо, але не
    горить"), only asked, or written as an instruction to the bot."""
    text = text.lower()
    if _NO_RUSH.search(text):
        return Escalation.none
    for level, pattern in ((Escalation.critical, CRITICAL), (Escalation.urgent, URGENT)):
        if _says(pattern, text, before=(_NEGATED, _INSTRUCTION), after=_QUESTION):
            return level
    return Escalation.none


_OF_THIS = re.compile(r"(?<!\w)(?:(?:this|that|it)(?:\s+is|'s|’s)|це|это)\s+(?:\w+\s+)?$")
"""What comes before an escalation said of what was just said: "This is critical", "Це терміново"."""


def escalates_this(text: str, level: Escalation) -> bool:
    """It says that what was just said is critical or urgent ("This is critical — the rating
    dropped", "...since Tuesday. This is critical"): an escalation (`level`, of `escalation`) of
    work the chat is discussing, not a report of its own ("Urgent: no delivery slots in Lviv")."""
    if level == Escalation.none:
        return False
    said = chain(CRITICAL.finditer(text), URGENT.finditer(text))
    return any(_OF_THIS.search(text, 0, found.start()) for found in said)


def is_plus_one(text: str) -> bool:
    """A short "+1" / "same here" / "+ще 2": adds a reporter, says nothing new."""
    if _MORE.match(text):
        return True
    return len(words(text)) <= 6 and bool(PLUS_ONE.search(text.strip()))
