"""Rule-based noise filter: reactions, thanks, "+1", greetings with nothing else in them.

A message is noise here only when *every* word in it belongs to a small lexicon of
acknowledgements, thanks, greetings, laughter and "me too" replies (uk/ru/en and common
transliterations), or when it holds no letters at all (emoji, "+1", "!!!"). Anything
else, "thanks, but X is broken" included, is left to the classifier.
"""

from __future__ import annotations

import re
import unicodedata

from core.classification.types import Classification
from core.models import Kind

NOISE_CONFIDENCE = 0.97
MAX_WORDS = 8

_LEXICON = """
thanks thank thx thnx tnx ty tysm you u so much a lot very many cheers appreciated
ok okay okey k kk oki okie dokey dokie yes yep yeah yup ya no nope nah sure alright right
got it noted roger understood makes sense sounds good great cool nice awesome perfect
super excellent fine np problem lgtm done merged deployed on will do agree agreed
same here me too also +1 +100 +2 -1 likewise ditto true indeed
hi hello hey hiya morning good evening afternoon night all everyone team folks guys
bye cya see tomorrow later have weekend happy friday congrats congratulations welcome
lol lmao rofl haha hahaha hehe heh xd omg wow yay woohoo
дякую дякуєм дякуємо дяк дякс дяки спасибі пасіба пасиб велике величезне щиро вам тобі
ок окей окі оке добре добро ладно гаразд зрозумів зрозуміла зрозуміло ясно ясн прийнято
прийняв прийняла так ага угу ні неа згода згоден згодна підтримую супер клас класно
чудово відмінно круто топ норм нормально гуд файно бачу
теж також у в мене мені і я так само саме
привіт привітик вітаю вітання доброго добрий добра ранку ранок день дня вечора вечір
всім усім колеги друзі хлопці дівчата народ команда бувай бувайте до завтра побачення
гарних гарного вихідних дня тижня з п'ятницею пятницею
спасибо спс пасиб благодарю большое огромное
ок окей хорошо понял поняла понятно принято принял приняла да угу нет неа согласен
согласна поддерживаю отлично класс круто норм нормально
тоже меня у и так же
привет приветик здравствуйте здрасте доброе добрый утро утра вечер всем коллеги ребята
ребят пока завтра хороших хорошего выходных недели с пятницей поздравляю
ахах ахаха хах хаха хех кек лол ржу жиза ору
dyakuyu dyakuiu diakuiu dyakuju diakuju dyakuem spasybi spasibo spasiba sps pasib pasyb
dobre zrozumiv zrozumila ponyal ponial pryvit privit privet vsim usim vsem tezh tozhe mene
menya u
"""
_WORDS = frozenset(_LEXICON.split())
_TOKEN = re.compile(r"[+-]?\d+|[\w'’ʼ]+", re.UNICODE)
_LAUGH = re.compile(r"^(?:[ах]{3,}|(?:ha){2,}h?|(?:he){2,}|(?:ja){2,}|x+d+|a*h+a+(?:h+a+)+h*)$")


def _letters(text: str) -> bool:
    return any(unicodedata.category(ch).startswith("L") for ch in text)


def _is_noise_word(word: str) -> bool:
    return word in _WORDS or bool(_LAUGH.match(word)) or bool(re.fullmatch(r"\+\d{1,3}", word))


def is_noise(text: str) -> bool:
    """True when the message carries nothing to track (by the rules above)."""
    stripped = text.strip()
    if not stripped:
        return True
    if not _letters(stripped):
        return not re.search(r"\d{3,}", re.sub(r"[+-]\d{1,3}\b", "", stripped))
    words = [w.replace("’", "'").replace("ʼ", "'") for w in _TOKEN.findall(stripped.lower())]
    if not words or len(words) > MAX_WORDS:
        return False
    return all(_is_noise_word(w) for w in words)


def noise_classification(text: str) -> Classification | None:
    """A confident noise result for trivially non-actionable text, otherwise None."""
    if not is_noise(text):
        return None
    return Classification(kind=Kind.noise, priority=None, title="", confidence=NOISE_CONFIDENCE)
