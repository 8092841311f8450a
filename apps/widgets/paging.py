"""Paging through long lists: the pager, the offset it stands for, and emptied pages."""

from __future__ import annotations

import zlib

import streamlit as st


def page_offset(key: str, scope: object, size: int) -> int:
    """The offset of the page chosen in the pager under `key`; a new `scope` (filters) starts at page 1."""
    return (int(st.session_state.get(_pager_key(key, scope)) or 1) - 1) * size


def pager(key: str, scope: object, total: int, size: int) -> None:
    if total > size:
        st.pagination(-(-total // size), key=_pager_key(key, scope))


def past_the_end(key: str, offset: int, shown: int) -> None:
    """A page that emptied (its tasks were decided): start again at the first page."""
    if offset and not shown:
        st.session_state[f"{key}_round"] = st.session_state.get(f"{key}_round", 0) + 1
        st.rerun()


def _pager_key(key: str, scope: object) -> str:
    """A pager per filter and round: a fresh one starts at page 1 without writing widget state."""
    digest = zlib.crc32(repr(scope).encode())
    return f"{key}:{digest}:{st.session_state.get(f'{key}_round', 0)}"
