"""What every page needs: the settings, the services, and who is at the keyboard."""

from __future__ import annotations

from typing import NoReturn

import streamlit as st

from core.config import Settings
from core.runtime.blocking import BlockingServices
from core.runtime.secrets import with_secrets
from core.runtime.system import System, open_system

NOT_CONFIGURED = (
    "The dashboard has no database or NATS to talk to. Start it with `tracker dashboard` "
    "(or `tracker up`), or set TRACKER_DATABASE_URL and TRACKER_NATS_URL."
)


def settings() -> Settings:
    """Settings from the environment that `tracker up` / `tracker dashboard` gave this process."""
    return with_secrets(Settings())


def database_url() -> str:
    """The database every read goes to; stops the page with a fix when there is none."""
    return str(system().settings.database_url)


def system() -> System:
    """The process's way to the database (and NATS) that `tracker up` started and migrated."""
    current = settings()
    if not current.database_url:
        _not_configured()
    return _opened(_key(current), current)


def services() -> BlockingServices:
    """The process's connection to core's services (database, NATS), made on first use."""
    current = system()
    if not current.settings.nats_url:
        _not_configured()
    return _connected(_key(current.settings), current)


def _not_configured() -> NoReturn:
    st.error(NOT_CONFIGURED)
    st.stop()


def _key(current: Settings) -> tuple[str, str, str]:
    """What tells one process's servers from another's (tests run several in one process)."""
    return (current.database_url or "", current.nats_url or "", current.queue_name)


@st.cache_resource(show_spinner=False, on_release=System.close)
def _opened(key: tuple[str, str, str], _settings: Settings) -> System:
    return open_system(_settings, nats=False, migrate=False)  # NATS as configured, none started


@st.cache_resource(show_spinner="Connecting to the database and NATS…", on_release=BlockingServices.close)
def _connected(key: tuple[str, str, str], _system: System) -> BlockingServices:
    return BlockingServices(_system)


def author() -> str:
    """The name recorded on this person's decisions (given at login)."""
    return str(st.session_state.get("author") or "dashboard")
