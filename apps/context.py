"""What every page needs: the settings, the services, and who is at the keyboard."""

from __future__ import annotations

import streamlit as st

from core.config import Settings
from core.runtime.blocking import BlockingServices
from core.runtime.secrets import with_secrets

NOT_CONFIGURED = (
    "The dashboard has no database or NATS to talk to. Start it with `tracker dashboard` "
    "(or `tracker up`), or set TRACKER_DATABASE_URL and TRACKER_NATS_URL."
)


def settings() -> Settings:
    """Settings from the environment that `tracker up` / `tracker dashboard` gave this process."""
    return with_secrets(Settings())


def database_url() -> str:
    """The database every read goes to; stops the page with a fix when there is none."""
    url = settings().database_url
    if not url:
        st.error(NOT_CONFIGURED)
        st.stop()
    return str(url)


def services() -> BlockingServices:
    """The process's connection to core's services (database, NATS), made on first use."""
    current = settings()
    if not current.database_url or not current.nats_url:
        st.error(NOT_CONFIGURED)
        st.stop()
    return _connected((current.database_url, current.nats_url, current.queue_name), current)


@st.cache_resource(show_spinner="Connecting to the database and NATS…", on_release=BlockingServices.close)
def _connected(key: tuple[str, str, str], _settings: Settings) -> BlockingServices:
    return BlockingServices(_settings)


def author() -> str:
    """The name recorded on this person's decisions (given at login)."""
    return str(st.session_state.get("author") or "dashboard")
