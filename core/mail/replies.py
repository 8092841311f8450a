"""What a reply says that is new: quoted history, reply headers and signatures taken off
(mail-parser-reply), with the quote headers of Russian and Ukrainian mail clients added to
its English, German and Polish ones."""

from __future__ import annotations

import functools
import re

from mailparser_reply.constants import MAIL_LANGUAGES, QUOTED_MATCH_INCLUDE
from mailparser_reply.parser import EmailMessage

_Q = QUOTED_MATCH_INCLUDE
# Gmail: "пн, 1 дек. 2026 г. в 10:00, Олена <o@x>:"; Thunderbird: "01.12.2026 10:00, Олена пишет:";
# Outlook: "От: …  Отправлено: …  Кому: …  Тема: …" (Ukrainian: "… р. о 10:00 … пише:", "Від: …").


def _from_header(names: str) -> str:
    """Outlook's quoted header block: two or more of these `Name: value` lines."""
    return rf"((?:(?:^|\n|\n{_Q})[* ]*(?:{names}):[ *]*(?:\s{{,2}}).*){{2,}}(?:\n.*){{,1}})"


_RU_WROTE = r"(?:.+?\s(?:пишет|написал\(а\)|написала?)|.+?\sг\.\sв\s\d{1,2}:\d{2},?\s.+?)"
_HEADERS = {
    "ru": {
        "wrote_header": rf"^({_Q}{_RU_WROTE}\s?:)$",
        "from_header": _from_header("От|Отправлено|Кому|Тема|Дата|Копия"),
        "signatures": ["С уважением", "С наилучшими пожеланиями", "Спасибо,"],
        "sent_from": "Отправлено с|Отправлено из",
    },
    "uk": {
        "wrote_header": rf"^({_Q}(?:.+?\sпише|.+?\sр\.\sо\s\d{{1,2}}:\d{{2}}\s.+?)\s?:)$",
        "from_header": _from_header("Від|Надіслано|Кому|Тема|Дата|Копія"),
        "signatures": ["З повагою", "З найкращими побажаннями", "Дякую,"],
        "sent_from": "Надіслано з",
    },
}
for _language, _expressions in _HEADERS.items():
    MAIL_LANGUAGES.setdefault(_language, {"disclaimers": [], **_expressions})

LANGUAGES = ("en", "de", "pl", "ru", "uk")


@functools.cache
def _patterns() -> tuple[re.Pattern[str], re.Pattern[str], re.Pattern[str]]:
    """The library's expressions for our languages, built once (it builds them for every
    email: half the time an email took)."""
    probe = EmailMessage(text="", languages=list(LANGUAGES))
    return probe.HEADER_REGEX, probe.DISCLAIMERS_REGEX, probe.SIGNATURE_REGEX


def new_text(body: str) -> str:
    """The newest reply of a mail body: no quoted history, reply header or signature."""
    header, disclaimers, signature = _patterns()
    parsed = EmailMessage(
        text=body, languages=list(LANGUAGES),
        _header_regex=header, _disclaimers_regex=disclaimers, _signature_regex=signature,
    ).read()  # fmt: skip
    return parsed.replies[0].body if parsed.replies else body.strip()
