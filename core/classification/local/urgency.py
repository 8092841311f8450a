"""Taxonomy signals of `critical` priority: production down, data loss, security exposure,
payments failing, everyone blocked (uk/ru/en). Used to raise a bug's or task's priority."""

from __future__ import annotations

import re

_PATTERNS = [
    # production / a whole service down
    r"\b(прод|продакшн|production|prod|сайт|site|сервер|server|api|бд|db|database)\b[^.!?\n]{0,25}"
    r"\b(лежить|лежит|ліг|лег|впав|упал|падає|down|недоступн\w*|unavailable)",
    # everyone affected
    r"(у|в) (всіх|усіх|всех) (клієнтів|користувачів|клиентов|пользователей|юзерів)|ні в кого|ни у кого"
    r"|for (all|every)(one| users| customers)|all (users|customers)",
    # data lost or corrupted
    r"(зникл|пропал|втратил|потерял|lost|deleted|видалил|удалил)\w*[^.!?\n]{0,30}"
    r"(дан|замовлен|заказ|платеж|платіж|data|orders|payments)",
    r"(дан|замовлен|заказ|платеж|платіж|data|orders)\w*[^.!?\n]{0,30}(зникл|пропал|lost)",
    # security exposure
    r"витік|витоку|утечк|утекл|\bleak|відкритим текстом|открытым текстом|скомпрометов|compromised"
    r"|фішинг|фишинг|phishing|exposed",
    # payments failing
    r"(оплат|платеж|платіж|payment|checkout|транзакц)\w*[^.!?\n]{0,30}"
    r"(не прох|не прой|не працю|не работ|fail|лежать|лежат|down|помилк|ошибк)",
    r"(списал|charged)\w*[^.!?\n]{0,15}(двічі|дважды|twice)|double.charg|двойн\w* списан",
]
CRITICAL = re.compile("|".join(_PATTERNS), re.IGNORECASE)


def is_critical(text: str) -> bool:
    """True when the text names one of the taxonomy's critical situations."""
    return CRITICAL.search(text) is not None
