"""The rule-based noise filter: trivially non-actionable messages only."""

from __future__ import annotations

import pytest

from core.classification.noise import NOISE_CONFIDENCE, is_noise, noise_classification
from core.models import Kind

NOISE = [
    "дякую!", "Дякую велике 🙏", "ok 👍", "+1", "у мене теж", "у меня тоже", "same here",
    "доброго ранку всім", "Доброго дня, колеги!", "lol", "ахахах", "👍👍", "🎉", "!!!",
    "спасибо большое", "thank you so much!", "ок, зрозумів", "dyakuyu", "спс", "good morning everyone",
    "lgtm", "+100", "ok pasib", "",
]  # fmt: skip
NOT_NOISE = [
    "thanks, but the export is broken", "дякую, але тепер не працює оплата", "спасибо, но ошибка осталась",
    "привіт, є хвилинка?", "hi team, checkout is down", "Доброго ранку! Скиньте доступ до Figma",
    "500", "+1 у мене теж не працює вхід", "ok, but who owns the release?", "додайте темну тему",
    "ок, а де логи?", "Дякую, Олено!",
]  # fmt: skip


@pytest.mark.parametrize("text", NOISE)
def test_noise_is_recognised(text: str) -> None:
    assert is_noise(text)


@pytest.mark.parametrize("text", NOT_NOISE)
def test_messages_with_content_are_left_to_the_classifier(text: str) -> None:
    assert not is_noise(text)
    assert noise_classification(text) is None


def test_noise_classification_is_confident_and_has_no_priority() -> None:
    result = noise_classification("дякую!")
    assert result is not None
    assert result.kind == Kind.noise
    assert result.priority is None
    assert result.confidence == NOISE_CONFIDENCE >= 0.9


def test_long_messages_are_never_rule_noise() -> None:
    assert not is_noise(" ".join(["дякую"] * 20))
