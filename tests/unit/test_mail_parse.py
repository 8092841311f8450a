"""Emails -> messages without a server: the edge cases of parsing (the shapes of real clients
are tested through Dovecot in tests/integration/test_mail.py)."""

from __future__ import annotations

import pytest

from core.mail.parse import MalformedMail, parse_mail
from tests.support import mail


def test_without_message_id_the_bytes_name_it_so_a_reimport_finds_it() -> None:
    raw = mail.plain(1).replace(b"Message-ID: <bulk-1@example.com>\r\n", b"")
    first, again = parse_mail(raw, "box", None), parse_mail(raw, "box", None)
    assert first.external_id.startswith("sha256:") and first.external_id == again.external_id


def test_unknown_charset_is_read_not_lost() -> None:
    raw = mail.plain(2).replace(b"charset=utf-8", b"charset=x-unknown-42")
    assert parse_mail(raw, "box", None).text.endswith("Checkout is slow #2")


def test_gmail_html_reply_keeps_only_the_new_text() -> None:
    html = (
        '<div dir="ltr">Still failing after the update.</div><br><div class="gmail_quote">'
        '<div dir="ltr" class="gmail_attr">On Mon, Nov 30, 2026 at 9:15 AM Olena &lt;o@example.com&gt; wrote:<br></div>'
        '<blockquote class="gmail_quote">Payment fails with 500.</blockquote></div>'
    )
    raw = (
        "From: Ivan <ivan@example.com>\r\nSubject: Re: Payment\r\nMessage-ID: <h1@example.com>\r\n"
        "In-Reply-To: <p1@example.com>\r\nContent-Type: text/html; charset=utf-8\r\n\r\n" + html
    ).encode()
    parsed = parse_mail(raw, "box", None)
    assert (
        parsed.text == "Still failing after the update." and parsed.reply_to_external_id == "p1@example.com"
    )


def test_references_without_in_reply_to_link_to_the_last_one() -> None:
    raw = mail.plain(3).replace(b"MIME-Version", b"References: <a@x> <b@x>\r\nMIME-Version")
    parsed = parse_mail(raw, "box", None)
    assert (parsed.reply_to_external_id, parsed.thread_id) == ("b@x", "a@x")


@pytest.mark.parametrize("raw", [mail.without_sender(), mail.garbage(), b"", b"From: nobody\r\n\r\nx"])
def test_mail_without_a_sender_address_is_refused(raw: bytes) -> None:
    with pytest.raises(MalformedMail, match="no sender"):
        parse_mail(raw, "box", None)
