"""The project's shape rules that a linter does not check: no function over 40 lines."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
MAX_FUNCTION_LINES = 40
# Tests may be long (a scenario reads top to bottom); marimo notebook cells are functions by
# construction; migrations are generated.
EXEMPT = ("tests", "notebooks", "core/migrations/versions")


def project_sources() -> list[str]:
    """Every Python file of the project (relative to its root) that the 40-line rule applies to."""
    top = [path for path in ROOT.iterdir() if not path.name.startswith(".") and path.name not in EXEMPT]
    files = [f for path in top for f in ([path] if path.is_file() else path.rglob("*.py"))]
    names = (f.relative_to(ROOT).as_posix() for f in files if f.suffix == ".py")
    return sorted(name for name in names if not name.startswith(EXEMPT))


def long_functions(path: Path) -> list[str]:
    """`line name (N lines)` for each function in path longer than the limit.

    A function's length runs from its `def` line to its last line, so the docstring counts
    (decorators do not): the rule is about how much a reader must hold at once.
    """
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            lines = (node.end_lineno or node.lineno) - node.lineno + 1
            if lines > MAX_FUNCTION_LINES:
                found.append(f"{node.lineno} {node.name} ({lines} lines)")
    return found


def test_the_rule_sees_a_long_function(tmp_path: Path) -> None:
    body = "\n".join(f"    x{i} = {i}" for i in range(MAX_FUNCTION_LINES - 2))
    source = tmp_path / "sample.py"
    source.write_text(
        f'def short():\n    """Doc."""\n{body}\n\n\ndef long():\n    """Doc."""\n{body}\n    return 1\n'
    )
    assert [line.split(" ", 1)[1] for line in long_functions(source)] == [
        f"long ({MAX_FUNCTION_LINES + 1} lines)"
    ]


def test_no_function_outside_tests_is_over_40_lines() -> None:
    offenders = [f"{name}:{found}" for name in project_sources() for found in long_functions(ROOT / name)]
    report = "\n".join(offenders)
    print(report)
    assert not offenders, f"{len(offenders)} function(s) over {MAX_FUNCTION_LINES} lines:\n{report}"
