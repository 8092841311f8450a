"""What the bot says."""

from __future__ import annotations

from core.models import Kind, Priority, Task

MARK = {Priority.critical: "🔴", Priority.high: "🟠", Priority.medium: "🟡", Priority.low: "⚪"}
KIND_ORDER = [Kind.bug, Kind.feature, Kind.task, Kind.question]


def help_text(chat_id: int, allowed: bool) -> str:
    where = (
        "I listen in this chat and turn bugs, requests and questions into tasks."
        if allowed
        else f"I am not enabled in this chat. To enable me, add {chat_id} to TRACKER_TELEGRAM_CHATS."
    )
    return (
        f"{where}\n\n"
        "/status: this chat's open tasks by kind and priority\n"
        "/tasks: the most urgent open tasks\n"
        "/track [bug|feature|question|task], as a reply: make that message a task now\n"
        "/ignore, as a reply: mark that message as noise\n"
        "/help: this text"
    )


def not_enabled_text(chat_id: int) -> str:
    return (
        "I am not enabled in this chat, so I do not read it. "
        f"To enable me, add {chat_id} to TRACKER_TELEGRAM_CHATS."
    )


def enabled_text() -> str:
    return (
        "Hello! I will turn this chat's bugs, requests and questions into tasks. /help lists what I can do."
    )


def status_text(counts: dict[tuple[Kind, Priority], int]) -> str:
    if not counts:
        return "No open tasks in this chat."
    lines = [f"Open tasks in this chat: {sum(counts.values())}"]
    for kind in KIND_ORDER:
        by_priority = [(p, counts[(kind, p)]) for p in Priority if counts.get((kind, p))]
        if by_priority:
            detail = ", ".join(f"{MARK[p]} {p.value} {n}" for p, n in by_priority)
            lines.append(f"{kind.value}: {sum(n for _, n in by_priority)} ({detail})")
    return "\n".join(lines)


def tasks_text(tasks: list[Task]) -> str:
    if not tasks:
        return "No open tasks in this chat."
    return "\n".join(["Top open tasks:", *(task_line(t) for t in tasks)])


def task_line(task: Task) -> str:
    return f"{MARK[task.priority]} #{task.id} {task.kind}: {task.title}"


def tracked_text(task: Task) -> str:
    return f"Tracked: {task_line(task)}"


def ignored_text() -> str:
    return "Marked as noise."


def reply_needed_text(command: str) -> str:
    hint = " [bug|feature|question|task]" if command == "track" else ""
    return f"Reply to a message with /{command}{hint} to use it on that message."


def unknown_kind_text(given: str) -> str:
    return f"Unknown kind {given!r}: use bug, feature, question or task."


def critical_text(task_id: int, kind: str, title: str) -> str:
    return f"🔴 Critical {kind} opened: {title} (task #{task_id})"
