"""What obtaining an LLM result cost, and each message's share of a batch's cost."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Spend:
    """What obtaining a result cost: tokens, model requests and waiting time."""

    input_tokens: int = 0
    output_tokens: int = 0
    calls: int = 0
    latency_ms: float = 0.0

    def __add__(self, other: Spend) -> Spend:
        return Spend(
            self.input_tokens + other.input_tokens,
            self.output_tokens + other.output_tokens,
            self.calls + other.calls,
            self.latency_ms + other.latency_ms,
        )

    def split(self, n: int) -> list[Spend]:
        """Shares for the n messages of a batch: counts sum exactly, each waited the whole time."""
        ins, outs, calls = (_shares(v, n) for v in (self.input_tokens, self.output_tokens, self.calls))
        return [Spend(ins[i], outs[i], calls[i], self.latency_ms) for i in range(n)]


def _shares(total: int, n: int) -> list[int]:
    base, rest = divmod(total, n)
    return [base + (1 if i < rest else 0) for i in range(n)]
