"""How well a grouping of messages matches the right one: B-cubed precision, recall, F1."""

from __future__ import annotations

from collections.abc import Iterable


def bcubed(
    gold: Iterable[frozenset[str]], system: Iterable[frozenset[str]]
) -> tuple[float | None, float | None, float | None]:
    """B-cubed precision, recall and F1 over the messages of the gold groups; a message in
    no system group is a group of its own."""
    gold_of = {m: group for group in gold for m in group}
    if not gold_of:
        return None, None, None
    system_of: dict[str, frozenset[str]] = {}
    for group in system:
        cluster = group & gold_of.keys()
        for message in cluster:
            system_of.setdefault(message, cluster)
    precision = recall = 0.0
    for message, gold_cluster in gold_of.items():
        cluster = system_of.get(message, frozenset({message}))
        shared = len(cluster & gold_cluster)
        precision += shared / len(cluster) / len(gold_of)
        recall += shared / len(gold_cluster) / len(gold_of)
    total = precision + recall
    return round(precision, 4), round(recall, 4), round(2 * precision * recall / total, 4) if total else None
