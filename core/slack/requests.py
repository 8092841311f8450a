"""Is a request really Slack's? Its signature (slack-sdk's verifier) and its age."""

from __future__ import annotations

import time

from slack_sdk.signature import SignatureVerifier

TIMESTAMP_HEADER = "X-Slack-Request-Timestamp"
SIGNATURE_HEADER = "X-Slack-Signature"
REPLAY_WINDOW = 300
"""Seconds a signed request stays acceptable: an older one is taken for a replay."""


class Refused(ValueError):
    """A request Slack did not send (or sent too long ago); `field` names the header at fault."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


def check_signed(secret: str, body: bytes, timestamp: str | None, signature: str | None) -> None:
    """Raise Refused unless the body is signed with the signing secret within the last 5 minutes."""
    if not timestamp:
        raise Refused(TIMESTAMP_HEADER, "missing")
    if not signature:
        raise Refused(SIGNATURE_HEADER, "missing")
    try:
        age = time.time() - int(timestamp)
    except ValueError:
        raise Refused(TIMESTAMP_HEADER, "not a unix time") from None
    if abs(age) > REPLAY_WINDOW:
        raise Refused(TIMESTAMP_HEADER, f"{age:.0f} s old, more than 5 minutes: a replayed request?")
    if not SignatureVerifier(secret).is_valid(body, timestamp, signature):
        raise Refused(SIGNATURE_HEADER, "does not match the body: wrong TRACKER_SLACK_SIGNING_SECRET?")
