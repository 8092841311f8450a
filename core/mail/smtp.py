"""Sending mail through TRACKER_EMAIL_SMTP_URL with the standard library's smtplib:
smtps://host[:465] (TLS from the start) or smtp://host[:587] (STARTTLS when the server
offers it); logged in when TRACKER_EMAIL_SMTP_USER is set."""

from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage
from urllib.parse import urlsplit

from core.config import Settings

TIMEOUT = 30.0
_PORTS = {"smtp": 587, "smtps": 465}


def send_mail(settings: Settings, mail: EmailMessage) -> None:
    """Send one email; smtplib's errors (OSError) say why it could not be."""
    parts = urlsplit(settings.email_smtp_url or "")
    if parts.scheme not in _PORTS or not parts.hostname:
        raise smtplib.SMTPException(
            f"TRACKER_EMAIL_SMTP_URL must look like smtps://host[:port], not {parts.geturl()!r}"
        )
    port = parts.port or _PORTS[parts.scheme]
    context = ssl.create_default_context()
    if parts.scheme == "smtps":
        client: smtplib.SMTP = smtplib.SMTP_SSL(parts.hostname, port, timeout=TIMEOUT, context=context)
    else:
        client = smtplib.SMTP(parts.hostname, port, timeout=TIMEOUT)
    with client:
        client.ehlo()
        if parts.scheme == "smtp" and client.has_extn("starttls"):
            client.starttls(context=context)
            client.ehlo()
        if settings.email_smtp_user:
            password = settings.email_smtp_password
            client.login(settings.email_smtp_user, password.get_secret_value() if password else "")
        client.send_message(mail)
