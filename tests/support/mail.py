"""Emails written for the tests, byte for byte, the way common clients send them: Gmail
(multipart/alternative, UTF-8, base64 subject), Outlook (HTML only, windows-1251, its
From/Sent/To/Subject quote block), Thunderbird (KOI8-R, "пишет:" quote header) and a KOI8-U
one, an attachment with an RFC 2231 file name, and mails that are not mails."""

from __future__ import annotations

import base64
import quopri

DOMAIN = "example.com"


def b64_header(text: str, charset: str) -> str:
    """An RFC 2047 encoded-word, base64."""
    return f"=?{charset}?B?{base64.b64encode(text.encode(charset)).decode()}?="


def q_header(text: str, charset: str) -> str:
    """An RFC 2047 encoded-word, Q encoding."""
    encoded = quopri.encodestring(text.encode(charset), header=True).decode()
    return f"=?{charset}?Q?{encoded}?="


def crlf(text: str) -> str:
    return text.strip("\n").replace("\n", "\r\n") + "\r\n"


def gmail_first(number: int = 1) -> bytes:
    """A new thread from Gmail: text and HTML alternatives, a base64 UTF-8 subject."""
    subject = b64_header("Не працює оплата карткою", "utf-8")
    plain = base64.b64encode(
        "Оплата карткою падає з помилкою 500 на кроці підтвердження.\n\n--\nОлена Коваль\nKoshyk".encode()
    ).decode()
    return crlf(f"""
From: =?UTF-8?B?{base64.b64encode("Олена Коваль".encode()).decode()}?= <Olena.Koval@{DOMAIN}>
To: support@{DOMAIN}
Subject: {subject}
Date: Mon, 30 Nov 2026 09:15:00 +0200
Message-ID: <CAgmail-{number}@mail.gmail.com>
MIME-Version: 1.0
Content-Type: multipart/alternative; boundary="000000000000b1"

--000000000000b1
Content-Type: text/plain; charset="UTF-8"
Content-Transfer-Encoding: base64

{plain}
--000000000000b1
Content-Type: text/html; charset="UTF-8"
Content-Transfer-Encoding: quoted-printable

<div dir=3D"ltr">HTML copy</div>
--000000000000b1--
""").encode("ascii")


def gmail_reply() -> bytes:
    """Gmail's plain reply: the new text, "On … wrote:", the quoted thread."""
    body = """Same here since yesterday, on Android too.

Thanks,
Ivan

On Mon, Nov 30, 2026 at 9:15 AM Олена Коваль <olena.koval@example.com> wrote:
> Оплата карткою падає з помилкою 500 на кроці підтвердження.
> --
> Олена Коваль
"""
    return crlf(f"""
From: Ivan Petrenko <ivan@{DOMAIN}>
To: support@{DOMAIN}
Subject: Re: {b64_header("Не працює оплата карткою", "utf-8")}
Date: Mon, 30 Nov 2026 10:02:00 +0200
Message-ID: <CAgmail-reply@mail.gmail.com>
In-Reply-To: <CAgmail-1@mail.gmail.com>
References: <CAgmail-1@mail.gmail.com>
MIME-Version: 1.0
Content-Type: text/plain; charset="UTF-8"
Content-Transfer-Encoding: 8bit

{body}""").encode("utf-8")


def outlook_reply() -> bytes:
    """Outlook's HTML-only reply in windows-1251 with its quoted header block."""
    html = """<html><head><meta http-equiv="Content-Type" content="text/html; charset=windows-1251"></head>
<body><p>Исправили на сервере, проверьте, пожалуйста.</p>
<p>С уважением,<br>Служба поддержки</p>
<div><hr><p><b>From:</b> Ivan Petrenko &lt;ivan@example.com&gt;<br><b>Sent:</b> Monday, November 30, 2026 10:02<br>
<b>To:</b> support@example.com<br><b>Subject:</b> Re: Не працює оплата карткою</p></div>
<p>Same here since yesterday, on Android too.</p></body></html>"""
    encoded = quopri.encodestring(html.encode("windows-1251")).decode("ascii")
    return crlf(f"""
From: {q_header("Служба поддержки", "windows-1251")} <help@{DOMAIN}>
To: ivan@{DOMAIN}
Subject: RE: {b64_header("Не працює оплата карткою", "utf-8")}
Date: Mon, 30 Nov 2026 11:30:00 +0200
Message-ID: <DB9PR01MB-outlook@eurprd01.prod.outlook.com>
In-Reply-To: <CAgmail-reply@mail.gmail.com>
References: <CAgmail-1@mail.gmail.com> <CAgmail-reply@mail.gmail.com>
MIME-Version: 1.0
Content-Type: text/html; charset="windows-1251"
Content-Transfer-Encoding: quoted-printable

{encoded}""").encode("ascii")


def thunderbird_koi8r() -> bytes:
    """Thunderbird, KOI8-R 8bit, a KOI8-R subject, its "DATE, NAME пишет:" quote header."""
    body = """Экспорт в Excel выгружает пустой файл, если выбран фильтр по дате.

30.11.2026 12:00, Олена Коваль пишет:
> Уточните, какой отчёт?
"""
    head = crlf(f"""
From: {b64_header("Сергей Иванов", "koi8-r")} <sergey@{DOMAIN}>
To: support@{DOMAIN}
Subject: {b64_header("Пустой экспорт в Excel", "koi8-r")}
Date: Tue, 1 Dec 2026 08:00:00 +0300
Message-ID: <5f1c2a3b-thunderbird@{DOMAIN}>
User-Agent: Mozilla Thunderbird
MIME-Version: 1.0
Content-Type: text/plain; charset=KOI8-R; format=flowed
Content-Transfer-Encoding: 8bit
""")
    return head.encode("ascii") + b"\r\n" + crlf(body).encode("koi8-r")


def koi8u_plain() -> bytes:
    """KOI8-U with the letters KOI8-R lacks (і, ї, є, ґ), a Q-encoded subject."""
    body = 'Ґудзик "Зберегти" не реагує, їжак і є.'
    subject = q_header('Кнопка "Зберегти"', "koi8-u")
    head = crlf(f"""
From: {q_header("Тарас Ґонта", "koi8-u")} <taras@{DOMAIN}>
To: support@{DOMAIN}
Subject: {subject}
Date: Tue, 1 Dec 2026 09:00:00 +0200
Message-ID: <koi8u-1@{DOMAIN}>
MIME-Version: 1.0
Content-Type: text/plain; charset="koi8-u"
Content-Transfer-Encoding: 8bit
""")
    return head.encode("ascii") + b"\r\n" + crlf(body).encode("koi8-u")


def with_attachment() -> bytes:
    """multipart/mixed: a text and a PDF whose Ukrainian name is RFC 2231-encoded."""
    pdf = base64.b64encode(b"%PDF-1.4 not really").decode()
    return crlf(f"""
From: Olena Koval <olena.koval@{DOMAIN}>
To: support@{DOMAIN}
Subject: Invoice totals are wrong
Date: Tue, 1 Dec 2026 10:00:00 +0200
Message-ID: <attach-1@{DOMAIN}>
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="mix"

--mix
Content-Type: text/plain; charset=utf-8

The totals in the attached invoice do not add up.
--mix
Content-Type: application/pdf
Content-Disposition: attachment; filename*=utf-8''%D0%B7%D0%B2%D1%96%D1%82.pdf
Content-Transfer-Encoding: base64

{pdf}
--mix--
""").encode("ascii")


def without_sender() -> bytes:
    """Malformed: no From header at all."""
    return crlf("""
To: support@example.com
Subject: who am I
Message-ID: <nosender@example.com>

body without a sender
""").encode("ascii")


def garbage() -> bytes:
    """Malformed: not a mail at all (binary noise, no headers)."""
    return b"\xff\xfe not a mail at all\r\n\r\n\x89PNG\r\n"


def plain(number: int, reply_to: int | None = None, text: str = "Checkout is slow") -> bytes:
    """A small plain mail for volume (benchmarks, live delivery)."""
    refs = (
        f"In-Reply-To: <bulk-{reply_to}@{DOMAIN}>\r\nReferences: <bulk-{reply_to}@{DOMAIN}>\r\n"
        if reply_to
        else ""
    )
    return (
        f"From: User {number % 97} <user{number % 97}@{DOMAIN}>\r\nTo: support@{DOMAIN}\r\n"
        f"Subject: Issue {number // 5}\r\nDate: Tue, 1 Dec 2026 10:00:00 +0000\r\n"
        f"Message-ID: <bulk-{number}@{DOMAIN}>\r\n{refs}MIME-Version: 1.0\r\n"
        f"Content-Type: text/plain; charset=utf-8\r\n\r\n{text} #{number}\r\n"
    ).encode()
