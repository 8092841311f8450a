"""`tracker train --conversations A --tasks A_TASKS --conversations B --tasks B_TASKS`: the
conversation scorer fitted on several labelled sets at once."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from evals.make_team_threads import MESSAGES, TASKS
from services.cli import app

runner = CliRunner()


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return {"TRACKER_DATA_DIR": str(tmp_path / "data"), "TRACKER_DATABASE_URL": "", "NO_COLOR": "1"}


def one_chat(folder: Path, letter: str) -> tuple[Path, Path]:
    """One chat of the team set (its messages and gold tasks) as a set of its own."""
    messages = [
        line for line in MESSAGES.read_text(encoding="utf-8").splitlines() if f'"id": "{letter}-' in line
    ]
    tasks = [
        line
        for line in TASKS.read_text(encoding="utf-8").splitlines()
        if f'"task": "{letter.upper()}-' in line
    ]
    (folder / f"{letter}.jsonl").write_text("\n".join(messages) + "\n", encoding="utf-8")
    (folder / f"{letter}_tasks.jsonl").write_text("\n".join(tasks) + "\n", encoding="utf-8")
    return folder / f"{letter}.jsonl", folder / f"{letter}_tasks.jsonl"


def options(*sets: tuple[Path, Path]) -> list[str]:
    return [
        arg for messages, tasks in sets for arg in ("--conversations", str(messages), "--tasks", str(tasks))
    ]


def test_training_on_two_sets_fits_one_scorer_on_both(tmp_path: Path, env: dict[str, str]) -> None:
    shop, studio = one_chat(tmp_path, "s"), one_chat(tmp_path, "g")
    out = tmp_path / "scorer.json"
    res = runner.invoke(app, ["train", *options(shop, studio), "--out", str(out)], env=env)
    assert res.exit_code == 0, res.output
    fitted = json.loads(out.read_text(encoding="utf-8"))
    assert fitted["trained_on"] == "s.jsonl, g.jsonl"
    assert "trained on 286 messages" in " ".join(res.stdout.split())  # 134 + 152


def test_a_set_without_its_tasks_is_refused_naming_the_option(tmp_path: Path, env: dict[str, str]) -> None:
    shop, studio = one_chat(tmp_path, "s"), one_chat(tmp_path, "g")
    args = ["train", *options(shop), "--conversations", str(studio[0]), "--out", str(tmp_path / "x.json")]
    res = runner.invoke(app, args, env=env)
    assert res.exit_code != 0
    assert "one --tasks TASKS.jsonl per --conversations (2 --conversations, 1 --tasks)" in " ".join(
        res.stderr.split()
    )
    assert not (tmp_path / "x.json").exists()


def test_the_same_set_twice_is_refused_naming_a_repeated_id(tmp_path: Path, env: dict[str, str]) -> None:
    shop = one_chat(tmp_path, "s")
    res = runner.invoke(app, ["train", *options(shop, shop), "--out", str(tmp_path / "x.json")], env=env)
    assert res.exit_code != 0
    assert "'s-0001' is in more than one --conversations set" in " ".join(res.stderr.split())
