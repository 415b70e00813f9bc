"""E-mail: through SMTP when SMTP_URL is set, otherwise written to the log with the address masked.

SMTP_URL is smtp://user:password@host:587 (STARTTLS when the server offers it, and never a
password without it) or smtps:// for TLS from the start. Without it, development and tests see
what would have been sent.
"""

from __future__ import annotations

import logging
import smtplib
from email.message import EmailMessage
from urllib.parse import unquote, urlparse

log = logging.getLogger(__name__)


def masked_address(address: str) -> str:
    """someone@example.com -> s***@example.com: enough to tell messages apart in a log."""
    name, _, domain = address.partition("@")
    return f"{name[:1]}***@{domain}"


def send_email(smtp_url: str | None, sender: str, to: str, subject: str, body: str) -> None:
    if not smtp_url:
        # Development without SMTP: say that an email would go, without the address at INFO.
        log.info("email (no SMTP_URL: not sent)", extra={"to": masked_address(to)})
        log.debug("email not sent", extra={"to": to, "subject": subject, "body": body})
        return
    url = urlparse(smtp_url)
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = sender, to, subject
    message.set_content(body)
    secure = url.scheme == "smtps"
    client_class = smtplib.SMTP_SSL if secure else smtplib.SMTP
    port = url.port or (465 if secure else 587)
    with client_class(url.hostname or "localhost", port, timeout=20) as client:
        client.ehlo()
        encrypted = secure
        if not secure and client.has_extn("starttls"):  # encrypt whenever the server can
            client.starttls()
            client.ehlo()
            encrypted = True
        if url.username and not encrypted:
            raise smtplib.SMTPException("refusing to send the SMTP password unencrypted")
        if url.username:
            client.login(unquote(url.username), unquote(url.password or ""))
        client.send_message(message)
