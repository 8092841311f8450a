"""Local classifier benchmark: load time, messages/s on one core, eval of 10,000 messages.

    uv run python -m evals.bench_local [--n 10000] [--data-dir DIR]

Prints wall-clock and CPU figures (CPU time is what one core spends, unaffected by other
processes on a busy machine). The 10,000 messages are seed texts with varied suffixes.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from core.classification.dataset import Example, seed_examples
from core.classification.local.classifier import LocalClassifier
from core.classification.local.model import train
from core.classification.local.store import active_model_path, save_model
from core.classification.types import MessageInput
from core.evaluation.runner import evaluate

SUFFIXES = ["", " pls", " 🙏", " !!", " (again)", " — глянь", " срочно?", " ok?", " #42", " @ops"]


def pin_one_core() -> None:
    """Run this process (and the BLAS threads it may start) on one CPU."""
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(var, "1")
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})


def messages(n: int, seed: int = 1) -> list[Example]:
    """n labeled messages made from the seed set (text varied so caches cannot help)."""
    rng = random.Random(seed)
    base = seed_examples()
    return [
        Example(text=f"{e.text}{rng.choice(SUFFIXES)} {i}", kind=e.kind, priority=e.priority,
                reply_to=e.reply_to, id=str(i))
        for i, e in ((i, rng.choice(base)) for i in range(n))
    ]  # fmt: skip


def load_seconds(path: Path) -> dict[str, float]:
    """Fresh interpreter: import the classifier module, then load the model file."""
    code = (
        "import time, json; w=time.perf_counter(); c=time.process_time();"
        "from core.classification.local.classifier import LocalClassifier;"
        "w1=time.perf_counter(); c1=time.process_time();"
        f"LocalClassifier.load({str(path)!r});"
        "print(json.dumps({'import_wall': w1-w, 'import_cpu': c1-c,"
        " 'load_model_wall': time.perf_counter()-w1, 'load_model_cpu': time.process_time()-c1}))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return {f"fresh_process_{k}_s": round(v, 3) for k, v in json.loads(out.stdout).items()}


def throughput(clf: LocalClassifier, rows: list[Example], batch: int = 1000) -> dict[str, float]:
    """predict() over rows in batches: messages per wall second and per CPU second."""
    inputs = [MessageInput(e.id or "", e.text, e.reply_to) for e in rows]
    wall, cpu = time.perf_counter(), time.process_time()
    for start in range(0, len(inputs), batch):
        clf.predict(inputs[start : start + batch])
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    return {"msgs_per_s_wall": round(len(rows) / wall), "msgs_per_s_cpu": round(len(rows) / cpu)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=10_000)
    parser.add_argument("--data-dir", type=Path, default=None)
    args = parser.parse_args()
    pin_one_core()
    data_dir = args.data_dir or Path(tempfile.mkdtemp(prefix="bench-local-"))
    started = time.perf_counter()
    path = active_model_path(data_dir)
    if path is None:
        path = save_model(train(seed_examples()), data_dir)
    train_s = time.perf_counter() - started
    clf = LocalClassifier.load(path)
    rows = messages(args.n)
    wall, cpu = time.perf_counter(), time.process_time()
    result = asyncio.run(evaluate(clf, rows, batch_size=500))
    eval_wall, eval_cpu = time.perf_counter() - wall, time.process_time() - cpu
    figures = {
        "model": clf.classifier_version,
        "model_bytes": path.stat().st_size,
        "train_or_load_seconds": round(train_s, 2),
        **load_seconds(path),
        **throughput(clf, rows),
        f"eval_{args.n}_seconds_wall": round(eval_wall, 2),
        f"eval_{args.n}_seconds_cpu": round(eval_cpu, 2),
        "eval_accuracy_on_seed_variants": result.metrics["accuracy"],
    }
    print(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
