"""Word stems of chat messages (any of uk/ru/en) and how alike two bags of them are.

A stem is a word's first letters: crude, but Ukrainian and Russian inflect at the end
("кошика", "кошику", "кошик" share "кошик"), it costs nothing and needs no dictionary.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable, Mapping
from functools import lru_cache

STEM = 5
"""Letters kept of each word."""

_WORD = re.compile(r"[^\W\d_][\w'’-]*", re.UNICODE)
_STOP = frozenset(
    [
        "the",
        "and",
        "for",
        "with",
        "that",
        "this",
        "have",
        "from",
        "are",
        "was",
        "were",
        "will",
        "can",
        "you",
        "your",
        "our",
        "not",
        "but",
        "what",
        "when",
        "all",
        "any",
        "just",
        "also",
        "then",
        "there",
        "they",
        "them",
        "its",
        "it's",
        "about",
        "into",
        "some",
        "more",
        "only",
        "very",
        "please",
        "thanks",
        "thank",
        "yes",
        "okay",
        "та",
        "і",
        "й",
        "що",
        "як",
        "це",
        "на",
        "за",
        "до",
        "від",
        "для",
        "але",
        "або",
        "вже",
        "ще",
        "теж",
        "так",
        "ні",
        "не",
        "чи",
        "ми",
        "ви",
        "ти",
        "він",
        "вона",
        "вони",
        "його",
        "її",
        "їх",
        "мені",
        "мене",
        "тобі",
        "тут",
        "там",
        "коли",
        "якщо",
        "щоб",
        "бо",
        "був",
        "була",
        "було",
        "були",
        "буде",
        "будь",
        "ласка",
        "дякую",
        "всім",
        "його",
        "цей",
        "ця",
        "ці",
        "той",
        "якийсь",
        "можна",
        "треба",
        "може",
        "и",
        "в",
        "во",
        "на",
        "за",
        "до",
        "от",
        "для",
        "но",
        "или",
        "уже",
        "еще",
        "тоже",
        "так",
        "нет",
        "не",
        "ли",
        "мы",
        "вы",
        "ты",
        "он",
        "она",
        "они",
        "его",
        "ее",
        "их",
        "мне",
        "меня",
        "тебе",
        "тут",
        "там",
        "когда",
        "если",
        "чтобы",
        "был",
        "была",
        "было",
        "были",
        "будет",
        "пожалуйста",
        "спасибо",
        "это",
        "этот",
        "эта",
        "эти",
        "тот",
        "как",
        "что",
        "все",
        "всем",
        "можно",
        "надо",
        "может",
    ]
)


def words(text: str) -> list[str]:
    """The words of a message in lower case (no numbers, no punctuation)."""
    return [w.strip("'’-") for w in _WORD.findall(text.lower())]


_CYRILLIC = str.maketrans({
    "а": "a", "б": "b", "в": "v", "г": "g", "ґ": "g", "д": "d", "е": "e", "є": "e", "ё": "e",
    "ж": "zh", "з": "z", "и": "i", "і": "i", "ї": "i", "й": "i", "к": "k", "л": "l", "м": "m",
    "н": "n", "о": "o", "п": "p", "р": "r", "с": "s", "т": "t", "у": "u", "ф": "f", "х": "h",
    "ц": "ts", "ч": "ch", "ш": "sh", "щ": "sh", "ь": "", "ъ": "", "ы": "i", "э": "e", "ю": "iu",
    "я": "ia",
})  # fmt: skip
_LATIN = (("kh", "h"), ("x", "ks"), ("y", "i"), ("w", "v"), ("j", "i"), ("q", "k"), ("c", "k"), ("h", "g"))
"""Spellings that Latin transliterations of one word disagree on, made one ("Oleh", "Oleg";
"client", "klient")."""


@lru_cache(maxsize=65536)
def sounded(word: str) -> str:
    """A lower-case word as it sounds, in Latin letters: the same for a name or a loanword
    written in Cyrillic or Latin letters ("Тарас" and "Taras", "клієнт", "клиент" and
    "client", "токен" and "token"), and for a word Ukrainian and Russian spell alike."""
    spelled = word.translate(_CYRILLIC)
    for written, said in _LATIN:
        spelled = spelled.replace(written, said)
    return spelled


@lru_cache(maxsize=65536)
def name_key(word: str) -> str:
    """The first four letters of a word as it sounds, alike in Cyrillic and Latin letters: a
    name written either way ("Тарас" and "Taras", "Ліаме" and "Liam", "Юра" and "Yura"); a short
    name's last vowel left out, so that it is the same when called ("Віко" and "Vika")."""
    spelled = sounded(word)
    if len(spelled) <= 4 and spelled[-1:] in _VOWELS:
        return spelled[:-1]
    return spelled[:4]


_VOWELS = frozenset("aeiou")
_CALLING = re.compile(r"^\W*([^\W\d_]{2,})\s*,")


def called(text: str) -> str:
    """The name key of whom a message turns to first ("Віко, а можна..."), or ""."""
    found = _CALLING.match(text)
    return name_key(found.group(1).lower()) if found else ""


NAMED_NUMBER = re.compile(r"#\d{2,}|(?<![\d.])\d+(?:\.\d+)+(?![\d.])")
"""A version ("2.4.1", "3.8") or a numbered item ("PR #612"): the same one names the same work."""


def terms(text: str) -> Counter[str]:
    """The stems of a message's content words (three letters or more, no stop words) as they
    sound (`sounded`: alike in Ukrainian, Russian and, for loanwords, English: "клієнт",
    "клиент" and "client" are one stem), and the versions and numbered items it names ("3.8",
    "#612")."""
    stems = Counter(sounded(w)[:STEM] for w in words(text) if len(w) >= 3 and w not in _STOP)
    stems.update(NAMED_NUMBER.findall(text))
    return stems


_ABOUT = re.compile(
    r"^\W*(?:[^\W\d_]+(?:\s+[^\W\d_]+)?,\s*)?"  # "Олено, " / "До речі, "
    r"(?:по|щодо|стосовно|про|насчёт|насчет|относительно|re:?|regarding|about)\s+([^:—–,.!?]{3,40})",
    re.IGNORECASE,
)
_LABEL = re.compile(r"^\W*([^\W\d_][^:,.!?]{2,30}):\s")
_NOT_SUBJECTS = frozenset({"bug", "баг", "питання", "вопрос", "question", "fyi", "upd", "update", "note"})


_QUICK = r"(?:quick|small|short|швидке|коротке|маленьке|быстрый|короткий|маленький)"
_QUICK_QUESTION = _QUICK + r"\s+(?:q|question|питання|вопрос)"
"""A question announced as small ("Quick q:", "Швидке питання"): a new one, not a subject."""
_OPENING = re.compile(
    r"^\W*(?:🐞|добр(?:ий|ого|ое|ый)\s+(?:день|ранку|утра|вечора|вечер)|привіт(?:ання)?\b|"
    r"привет(?:ствую)?\b|hi\b|hello\b|hey\b|bug:|баг:|питання\b|вопрос\b|question\b|"
    rf"{_QUICK_QUESTION}\b|"
    r"(?:ще|ещё|еще)\s+од(?:ин|н)|another one|new one|(?:і|и|а)\s+(?:ще|ещё|еще)\s*:|also\s*:|"
    r"наступн(?:е|ий)\s*:|следующ(?:ее|ий)\s*:|next(?: one)?\s*:|feature request\b|"
    r"(?:запит|запрос|прохання|просьба|request)\s*:|ф(?:і|и)ч(?:а|у)\s*:|feature\s*:)",
    re.IGNORECASE,
)


def opens(text: str) -> bool:
    """Whether a message starts the way a new report does: a greeting, "Bug:", "Питання:",
    "Quick q:", 🐞, "ще одне", "І ще:", "Наступне:", "Also:", "Feature request", "Фіча:", "Запит:"."""
    return _OPENING.match(text) is not None


_TO_ALL = (
    r"(?:\s*,?\s*(?:всім|всем|усім|all|everyone|team|folks|guys|команда|команде|колеги|коллеги|"
    r"друзі|друзья|народ))?"
)
_GREETING = re.compile(
    r"^\W*(?:(?:всім|всем|усім)\s+)?"
    r"(?:(?:добр(?:ий|ого|ое|ый|ої|ой)|гарного|хорошего|good)(?:\s+(?:день|ранку|ранок|утро|утра|"
    r"вечора|вечера|вечер|дня|ночі|ночи|morning|evening|afternoon|night))?|"
    r"привіт|привет|ранок|ranok|morning|hi|hello|hey|вітаю|здравствуйте|бувайте|пока|bye|"
    r"до завтра|see you(?: tomorrow)?)"
    + _TO_ALL
    + r"(?:\s*,?\s*(?:до завтра|see you tomorrow|бувайте|пока))?[\W\d_]*$",
    re.IGNORECASE,
)


def greets_only(text: str) -> bool:
    """A greeting or a goodbye and nothing more ("Доброго ранку!", "Morning 👋", "всем пока",
    "Гарного вечора всім!"): it opens a day, not a piece of work, and joins no conversation."""
    return _GREETING.match(text.strip()) is not None


def subject(text: str) -> Counter[str]:
    """The stems of what a message names up front as its subject: "по кошику — ...",
    "Олено, по вивантаженню: ...", "Банер: ...", "re export" (empty when it names none)."""
    found = _ABOUT.match(text) or _LABEL.match(text)
    label = found.group(1).strip().lower() if found else ""
    if found is None or label in _NOT_SUBJECTS or re.fullmatch(_QUICK_QUESTION, label):
        return Counter()
    return terms(found.group(1))


def similarity(a: Mapping[str, int], b: Mapping[str, int]) -> float:
    """Cosine of two stem bags, counts damped (a word said ten times is not ten words)."""
    if not a or not b:
        return 0.0
    shared = a.keys() & b.keys()
    if not shared:
        return 0.0
    dot = sum(_damped(a[t]) * _damped(b[t]) for t in shared)
    return dot / (_norm(a) * _norm(b))


@lru_cache(maxsize=1024)
def _damped(count: int) -> float:
    return 1.0 + math.log(count)


@lru_cache(maxsize=1024)
def _squared(count: int) -> float:
    return _damped(count) ** 2


def _norm(bag: Mapping[str, int]) -> float:
    return math.sqrt(sum(map(_squared, bag.values())))  # (a conversation's bag: 80 stems)


def merge(bag: Mapping[str, int], more: Mapping[str, int], keep: int = 80) -> dict[str, int]:
    """Two bags summed, the `keep` most frequent stems kept (a conversation's summary)."""
    total = Counter(bag)
    total.update(more)
    return dict(total.most_common(keep))


def merge_all(bags: Iterable[Mapping[str, int]], keep: int = 80) -> dict[str, int]:
    """Several bags summed (the `keep` most frequent stems)."""
    total: Counter[str] = Counter()
    for bag in bags:
        total.update(bag)
    return dict(total.most_common(keep))
