"""Message text search: PostgreSQL full-text search over the 'simple' configuration.

Texts are split into words (any language, lower-cased, no stemming) and indexed by
ix_messages_text_fts. A search finds the messages that contain every one of its words,
each as a whole word or a word's beginning: 'оплат' finds 'оплати', 'SAFARI' finds
'Safari'. The search is split by the same parser as the texts, so '17.2' or 'e-mail'
find themselves; a search with no words finds nothing.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, Text, cast, func, literal, select
from sqlalchemy.dialects.postgresql import TSQUERY

from core.models import MESSAGE_WORDS, SEARCH_CONFIG


def message_text_matches(search: str) -> ColumnElement[bool]:
    """The message's text holds every word of `search` (as words or word beginnings)."""
    words = func.unnest(func.to_tsvector(SEARCH_CONFIG, cast(search, Text))).table_valued("lexeme")
    prefixes = select(func.string_agg(func.quote_literal(words.c.lexeme).concat(":*"), literal(" & ")))
    return MESSAGE_WORDS.op("@@")(cast(prefixes.scalar_subquery(), TSQUERY))
