"""`tracker up` benchmark: seconds until /api/health says 200, and a clean stop.

    uv run python -m evals.bench_up [--runs 3] [--bytecode-cache]

Runs `tracker up` (this interpreter, `services.cli.main`) on a temporary data dir with
free API and dashboard ports, three times: the first start creates the data dir (initdb),
the others reuse it. Each time it measures the seconds from starting the command to
GET /api/health == 200 (target <= 10 s on a warm machine), sends SIGTERM, and checks that
no process is left behind: neither one that `tracker up` started, nor any process whose
command line names the data dir (PostgreSQL detaches from its parent). Linux only (/proc).

Python compiles every module at start when it may not write bytecode
(PYTHONDONTWRITEBYTECODE=1, as on the machines this project was built on);
--bytecode-cache gives the runs a bytecode cache under the data dir (PYTHONPYCACHEPREFIX),
as an ordinary install has, warmed by one start that is not counted.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from core.runtime.embedded import free_port

UP = [sys.executable, "-c", "from services.cli import main; main()", "up"]


def descendants(pid: int) -> set[int]:
    """Every live process below `pid`."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, ValueError, IndexError):
            fields = stat.read_text().rsplit(")", 1)[1].split()
            children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    found, todo = set(), [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.add(child)
            todo.append(child)
    return found


def naming(path: Path) -> set[int]:
    """Live processes whose command line mentions `path`."""
    found = set()
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        with contextlib.suppress(OSError):
            if str(path) in cmdline.read_bytes().replace(b"\0", b" ").decode(errors="replace"):
                found.add(int(cmdline.parent.name))
    return found - {os.getpid()}


def alive(pids: set[int]) -> set[int]:
    return {pid for pid in pids if Path(f"/proc/{pid}").exists() and "Z" not in _state(pid)}


def _state(pid: int) -> str:
    with contextlib.suppress(OSError, IndexError):
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    return "X"


def one_run(data_dir: Path, env: dict[str, str], label: str) -> float:
    """Start `tracker up`, wait for health, stop it; print and return the seconds to health."""
    port = free_port()
    env = env | {"TRACKER_API_PORT": str(port), "TRACKER_DASHBOARD_PORT": str(free_port())}
    start = time.perf_counter()
    proc = subprocess.Popen(UP, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    healthy = None
    while proc.poll() is None and time.perf_counter() - start < 120:
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"http://127.0.0.1:{port}/api/health", timeout=1).status_code == 200:
                healthy = time.perf_counter() - start
                break
        time.sleep(0.05)
    started = descendants(proc.pid) | naming(data_dir)
    stop = time.perf_counter()
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    stopped = time.perf_counter() - stop
    time.sleep(0.5)
    left = alive(started) | naming(data_dir)
    shown = f"{healthy:.2f} s" if healthy is not None else f"never (exit {proc.returncode}): {err[-500:]!r}"
    print(f"{label}: /api/health 200 after {shown}; {len(started)} processes; SIGTERM -> exit "
          f"{proc.returncode} in {stopped:.2f} s; left behind: {sorted(left) or 'none'}")  # fmt: skip
    return healthy if healthy is not None else float("inf")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--bytecode-cache", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="tracker-up-") as tmp:
        data_dir = Path(tmp) / "data"
        env = {
            k: v for k, v in os.environ.items() if not k.startswith("TRACKER_") and k != "TELEGRAM_BOT_TOKEN"
        }
        env["TRACKER_DATA_DIR"] = str(data_dir)
        if args.bytecode_cache:
            env.pop("PYTHONDONTWRITEBYTECODE", None)
            env["PYTHONPYCACHEPREFIX"] = str(Path(tmp) / "pycache")
            one_run(data_dir, env, "bytecode cache warm-up (not counted)")
        print(f"PYTHONDONTWRITEBYTECODE={env.get('PYTHONDONTWRITEBYTECODE', '')!r}, load {os.getloadavg()}")
        fresh = not args.bytecode_cache
        times = [one_run(data_dir, env, f"run {i + 1}" + (" (new data dir)" if i == 0 and fresh else ""))
                 for i in range(args.runs)]  # fmt: skip
        print(f"best {min(times):.2f} s, worst {max(times):.2f} s (target <= 10 s)")


if __name__ == "__main__":
    main()
