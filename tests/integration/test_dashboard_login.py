"""The password gate in AppTest: before the password, the login form is all there is."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine
from streamlit.testing.v1 import AppTest

from core.config import Settings
from tests.support.dashboard import DASHBOARD, PASSWORD, TRIAGE, new_task, texts

pytestmark = pytest.mark.usefixtures("dashboard")


def log_in(at: AppTest, password: str, name: str = "Olena") -> AppTest:
    at.text_input(key="login_name").input(name)
    at.text_input(key="login_password").input(password)
    at.button[0].click().run()
    assert not at.exception, at.exception
    return at


def test_nothing_but_the_login_form_before_the_password(engine: Engine, settings: Settings) -> None:
    new_task(engine, settings, "secret customer data leaked")
    at = AppTest.from_file(str(DASHBOARD), default_timeout=60).run()
    assert [t.value for t in at.title] == ["Task Tracker"]
    assert [w.label for w in at.text_input] == [
        "Your name, recorded on your triage decisions",
        "Dashboard password",
    ]
    assert "secret customer data" not in texts(at)
    assert not at.sidebar.button  # no logout, no navigation


def test_a_screen_asked_for_directly_still_shows_the_login_form(engine: Engine, settings: Settings) -> None:
    new_task(engine, settings, "secret roadmap question")
    at = AppTest.from_file(str(DASHBOARD), default_timeout=60)
    at.switch_page(TRIAGE).run()
    assert [t.value for t in at.title] == ["Task Tracker"]
    assert "secret roadmap" not in texts(at)


def test_a_wrong_password_is_refused(settings: Settings) -> None:
    at = log_in(AppTest.from_file(str(DASHBOARD), default_timeout=60).run(), "guess")
    assert "Wrong password" in at.error[0].value
    assert "logged_in" not in at.session_state
    assert [t.value for t in at.title] == ["Task Tracker"]


def test_the_password_opens_the_triage_inbox_and_logout_closes_it(settings: Settings) -> None:
    at = log_in(AppTest.from_file(str(DASHBOARD), default_timeout=60).run(), PASSWORD, name="Sofiia")
    assert [t.value for t in at.title] == ["Triage inbox"]
    assert at.session_state["author"] == "Sofiia"
    assert "Logged in as Sofiia" in texts(at)
    at.sidebar.button[0].click().run()
    assert [t.value for t in at.title] == ["Task Tracker"]
