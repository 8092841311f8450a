"""The local classifier: training, compiled inference, storage, protocol, titles."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from scipy.sparse import csr_matrix

from core.classification.dataset import Example, data_hash, seed_examples
from core.classification.local.classifier import LocalClassifier
from core.classification.local.features import shape_markers
from core.classification.local.fit import TextFeatures, fit_kind
from core.classification.local.model import LocalModelArtifact, TrainConfig, softmax, train
from core.classification.local.store import (
    ACTIVE_FILE,
    ModelLoadError,
    active_model_path,
    load_model,
    save_model,
)
from core.classification.local.titles import extract_title
from core.classification.local.training import train_local_model
from core.classification.types import MessageInput
from core.models import Kind, Priority


@pytest.fixture(scope="module")
def artifact() -> LocalModelArtifact:
    return train(seed_examples())


@pytest.fixture(scope="module")
def clf(artifact: LocalModelArtifact) -> LocalClassifier:
    return LocalClassifier(artifact)


def msgs(*texts: str) -> list[MessageInput]:
    return [MessageInput(id=str(i), text=t) for i, t in enumerate(texts)]


def test_seed_set_is_large_and_balanced() -> None:
    rows = seed_examples()
    assert len(rows) >= 600
    counts = {k: sum(e.kind == k for e in rows) for k in Kind}
    assert min(counts.values()) >= 100
    assert all(e.priority is None for e in rows if e.kind == Kind.noise)
    assert all(e.priority is not None for e in rows if e.kind != Kind.noise)


def test_compiled_features_equal_scikit_learn() -> None:
    rows = seed_examples()[:300]
    feats, _ = fit_kind(TrainConfig(), rows)
    assert isinstance(feats, TextFeatures)
    texts = ["Прод лежить!! 500 на /checkout", "can we get dark mode?", "ok 👍", "a", "  spaced   out  ",
             "Питання: це в копійках?"]  # fmt: skip
    ctx = [None, "додайте експорт", None, "x", None, None]
    expected = feats.transform(texts, ctx).toarray()
    rows = feats.compile().transform(texts, ctx)
    got = csr_matrix((rows.data, rows.indices, rows.indptr), shape=rows.shape).toarray()
    np.testing.assert_allclose(got, expected, atol=1e-6)


def test_classifies_obvious_messages(clf: LocalClassifier) -> None:
    results = clf.predict(msgs(
        "прод лежить, 500 на всіх сторінках, клієнти не можуть оплатити",
        "додайте, будь ласка, експорт звіту в PDF",
        "як змінити пароль від корпоративної пошти?",
        "дякую!",
    ))  # fmt: skip
    assert [r.kind for r in results] == [Kind.bug, Kind.feature, Kind.question, Kind.noise]
    assert results[3].priority is None and results[3].title == ""
    assert all(r.priority is not None for r in results[:3])
    assert all(0.0 <= r.confidence <= 1.0 for r in results)


@pytest.mark.parametrize(
    ("text", "marked"),
    [("Питання до фронту: ціна з ПДВ?", True), ("  Вопрос: кто дежурит?", True),
     ("quick q - is staging up?", True), ("Any ETA for the payouts page?", True),
     ("Ладно. Ещё вопрос от клиента: можно в Excel?", True), ("it fails, is it me?", False),
     ("Питання: ціна з ПДВ", False), ("в мене питання є, як це?", False),
     ("questionnaire for clients is ready?", False), ("прод лежить", False)],
)  # fmt: skip
def test_question_opener_marker(text: str, marked: bool) -> None:
    assert (shape_markers(text) == "xquestionopenerx") is marked


def test_models_trained_before_the_marker_read_texts_without_it() -> None:
    feats, _ = fit_kind(TrainConfig(), seed_examples()[::8])
    assert isinstance(feats, TextFeatures)
    compiled = feats.compile()
    assert compiled.markers
    del compiled.__dict__["markers"]  # as a pickle written before the field existed loads
    assert compiled.markers is False


@pytest.mark.parametrize(
    ("text", "kind"),
    [("Питання до бекенду: сума в чеку приходить у копійках чи в гривнях? Бо на фронті 100 разів більше",
      Kind.question),
     ("Any ETA on the Android update? Salons keep asking", Kind.question),
     ("тут якийсь дивний запис на 3 ночі, що з ним робити? видалити чи лишити?", Kind.question),
     ("Добавьте нашего нового SMM в Facebook Business Manager с правами редактора", Kind.task),
     ("Nazar, can you make 2 more reels for the holiday campaign?", Kind.task),
     ("Почему нельзя посмотреть все записи клиента в одном месте? Каждый раз ищу по датам", Kind.feature),
     ("фільтр працює тільки по одній послузі, можна, щоб вибирати кілька?", Kind.feature),
     ("Тарасе, ти топ 🔥 Прийняли з першого разу", Kind.noise),
     ("Хто зі мною на каву о 16:00?", Kind.noise),
     ("Після оновлення в адмінці не зберігаються графіки майстрів, тисну зберегти — і все скидається",
      Kind.bug)],
)  # fmt: skip
def test_team_chat_shapes_get_their_kind(clf: LocalClassifier, text: str, kind: Kind) -> None:
    """Long team-chat messages (not in the seed): explicit questions, chores asked of a person,
    requests worded as complaints, praise and coffee runs."""
    assert clf.predict(msgs(text))[0].kind == kind


def test_office_small_talk_is_noise_and_casual_work_is_not(clf: LocalClassifier) -> None:
    """Messages written for this test (not in the seed): small talk that asks or announces
    something opens no task; work in a casual tone still does, with its kind."""
    small_talk = [
        "ну що, хто на футбол в суботу?", "reminder: team lunch tomorrow at 1pm",
        "сирена, спускаюсь, продовжимо хвилин через 40", "відійду на обід, повернусь о 14:00",
        "I'm at the vet with my dog, online in an hour", "чергує сьогодні Максим, завтра — я",
        "о 15:00 демо для партнерів, хто хоче — підключайтесь",
        "в п'ятницю о 23:00 оновлюємо кластер Kafka, даунтайм до 10 хв",
        "наш подкаст послухали 3 тисячі людей за тиждень", "так, рахунок-фактуру відправили, чекаємо оплату",
    ]  # fmt: skip
    work = {
        "тривога тривогою, але замовлення з сайту не падають в CRM з 10 ранку": Kind.bug,
        "з днем народження! і до речі, лендінг не відкривається на мобілці": Kind.bug,
        "до фрізу треба закрити 3 таски по оплатах, Андрію, глянь": Kind.task,
        "please prepare the slides for the investor demo by Thursday": Kind.task,
        "who's on call this weekend? need to know who to page": Kind.question,
    }
    assert [r.kind for r in clf.predict(msgs(*small_talk))] == [Kind.noise] * len(small_talk)
    assert [r.kind for r in clf.predict(msgs(*work))] == list(work.values())


def test_goodbyes_drink_orders_and_the_office_pet_are_small_talk(clf: LocalClassifier) -> None:
    """Messages written for this test (not in the seed): a goodbye that wishes good weather
    ("не мокніть" is no "не працює"), an order answering nobody in particular, a joke about the
    office pet, "I'm fine" after a fall, an event reminder that asks nothing of anyone."""
    small_talk = [
        "Бувайте, не мокніть під дощем", "See you, don't freeze out there", "Мені какао, будь ласка 🙏",
        "Кошеняті привіт від усього відділу 🐾", "Живий, тільки коліно збив",
        "Нагадую: в четвер о 15 спільне фото для сторінки «Команда»",
    ]  # fmt: skip
    assert [r.kind for r in clf.predict(msgs(*small_talk))] == [Kind.noise] * len(small_talk)


def test_predict_empty_batch(clf: LocalClassifier) -> None:
    assert clf.predict([]) == []


async def test_classify_follows_the_protocol(clf: LocalClassifier) -> None:
    batch = msgs("ok", "checkout returns 500 since 10:00", "please add Olena to the staging project")
    outcomes = await clf.classify(batch)
    assert len(outcomes) == 3
    assert all(o.classifier == "local" and o.classifier_version == clf.classifier_version for o in outcomes)
    assert all(o.result is not None and o.llm_calls == 0 for o in outcomes)
    assert outcomes[0].result is not None and outcomes[0].result.kind == Kind.noise


def test_confidence_is_the_calibrated_probability_of_the_kind(
    clf: LocalClassifier, artifact: LocalModelArtifact
) -> None:
    texts = ["експорт не працює", "хто на каву?"]
    x = artifact.features.transform(texts, [None, None])
    probs = softmax(artifact.kind_head.logits(x) / artifact.temperature)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, rtol=1e-5)
    results = clf.predict(msgs(*texts))
    assert [r.kind.value for r in results] == [artifact.kind_head.classes[i] for i in probs.argmax(axis=1)]
    np.testing.assert_allclose([r.confidence for r in results], probs.max(axis=1), rtol=1e-6)


def test_metrics_and_version_recorded(artifact: LocalModelArtifact) -> None:
    assert artifact.version.endswith(artifact.data_hash[:8])
    assert artifact.metrics["n_examples"] == artifact.n_examples
    assert 0 < artifact.metrics["cv_macro_f1"] <= 1
    assert artifact.temperature > 0


def test_data_hash_ignores_order() -> None:
    a = [Example("x", Kind.bug, Priority.high), Example("y", Kind.noise)]
    assert data_hash(a) == data_hash(list(reversed(a)))
    assert data_hash(a) != data_hash([Example("x", Kind.bug, Priority.low), Example("y", Kind.noise)])


def test_training_needs_two_kinds() -> None:
    with pytest.raises(ValueError, match="two kinds"):
        train([Example("a", Kind.bug, Priority.high), Example("b", Kind.bug, Priority.low)])


def test_tiny_training_set_skips_calibration(artifact: LocalModelArtifact) -> None:
    assert "cv_macro_f1" in artifact.metrics and artifact.temperature != 1.0  # the seed set is calibrated
    art = train([Example("crash on login", Kind.bug, Priority.high), Example("thanks", Kind.noise)])
    assert art.temperature == 1.0 and set(art.metrics) == {"n_examples", "train_seconds"}
    [crash, thanks] = LocalClassifier(art).predict(msgs("crash on start", "thanks a lot"))
    assert (crash.kind, thanks.kind) == (Kind.bug, Kind.noise)  # the uncalibrated model still works


def test_first_use_trains_and_caches_the_seed_model(tmp_path: Path, artifact: LocalModelArtifact) -> None:
    first = LocalClassifier.from_data_dir(tmp_path)
    path = active_model_path(tmp_path)
    assert path is not None and path.name == f"{first.classifier_version}.pkl"
    assert (tmp_path / "models" / ACTIVE_FILE).read_text().strip() == first.classifier_version
    mtime = path.stat().st_mtime_ns
    again = LocalClassifier.from_data_dir(tmp_path)
    assert again.classifier_version == first.classifier_version
    assert path.stat().st_mtime_ns == mtime


def test_save_load_round_trip(tmp_path: Path, artifact: LocalModelArtifact) -> None:
    path = save_model(artifact, tmp_path)
    loaded = load_model(path)
    assert loaded.version == artifact.version
    texts = msgs("export fails with 500", "дякую")
    assert LocalClassifier(loaded).predict(texts) == LocalClassifier(artifact).predict(texts)


def test_loading_a_model_imports_neither_sklearn_nor_scipy(
    tmp_path: Path, artifact: LocalModelArtifact
) -> None:
    path = save_model(artifact, tmp_path)
    code = (
        "import sys; from core.classification.local.classifier import LocalClassifier;"
        f"c = LocalClassifier.load({str(path)!r}); from core.classification.types import MessageInput;"
        "c.predict([MessageInput('1', 'checkout is down')]);"
        "assert 'sklearn' not in sys.modules and 'scipy' not in sys.modules, sorted(sys.modules)"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=Path(__file__).parents[2])


def test_two_processes_saving_the_same_model_at_once_both_succeed(
    tmp_path: Path, artifact: LocalModelArtifact, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Several commands run first on a fresh checkout train the seed model at once."""
    import pickle

    from core.classification.local import store

    real_dump = pickle.dump
    saved: list[Path] = []

    def dump_while_another_saves(obj: object, file: Any, protocol: int | None = None) -> None:
        monkeypatch.setattr(store.pickle, "dump", real_dump)
        saved.append(save_model(artifact, tmp_path))
        real_dump(obj, file, protocol=protocol)

    monkeypatch.setattr(store.pickle, "dump", dump_while_another_saves)
    path = save_model(artifact, tmp_path)
    assert saved == [path]
    assert load_model(path).version == artifact.version
    assert active_model_path(tmp_path) == path
    assert {p.name for p in path.parent.iterdir()} == {ACTIVE_FILE, path.name}


def test_load_rejects_other_pickles(tmp_path: Path) -> None:
    import pickle

    path = tmp_path / "other.pkl"
    path.write_bytes(pickle.dumps({"not": "a model"}))
    with pytest.raises(ModelLoadError):
        load_model(path)


def test_unreadable_active_model_is_replaced_by_the_seed_model(
    tmp_path: Path, artifact: LocalModelArtifact
) -> None:
    path = save_model(artifact, tmp_path)
    path.write_bytes(b"not a pickle")
    clf = LocalClassifier.from_data_dir(tmp_path)
    assert clf.artifact.data_hash == artifact.data_hash
    assert active_model_path(tmp_path) is not None


def test_train_local_model_without_database(tmp_path: Path) -> None:
    rows = seed_examples()[::3]
    result = train_local_model(rows, tmp_path)
    assert result.path.is_file()
    assert result.sources == {"examples": len(rows)}
    assert result.model_id is None
    assert active_model_path(tmp_path) == result.path


@pytest.mark.parametrize(
    ("text", "title"),
    [
        ("Привіт! Після оновлення не працює вхід через Google. Лог у треді", "Після оновлення не працює вхід через Google."),
        ("hi team, checkout returns 500\nsince 10:00", "Checkout returns 500"),
        ("@olena онови сертифікат до п'ятниці", "Онови сертифікат до п'ятниці"),
        ("доброго ранку", "Доброго ранку"),
    ],
)  # fmt: skip
def test_extract_title(text: str, title: str) -> None:
    assert extract_title(text) == title


def test_title_is_cut_at_a_word_to_80_chars() -> None:
    title = extract_title("експорт " * 30)
    assert len(title) <= 80 and title.endswith("…") and "  " not in title


def test_seed_file_is_what_the_generator_builds() -> None:
    import json

    from core.classification.dataset import SEED_PATH
    from evals.make_seed import build

    committed = [json.loads(line) for line in SEED_PATH.read_text(encoding="utf-8").splitlines()]
    assert committed == build()


@pytest.mark.parametrize(
    "text",
    ["прод лежить, 502 на всі запити", "оплата не проходит у всех клиентов", "we're leaking user emails in logs",
     "з бази зникли замовлення за вчора", "checkout is down for everyone"],
)  # fmt: skip
def test_critical_situations_get_critical_priority(clf: LocalClassifier, text: str) -> None:
    result = clf.predict(msgs(text))[0]
    assert result.kind in (Kind.bug, Kind.task)
    assert result.priority == Priority.critical


def test_critical_rule_leaves_ordinary_messages_alone() -> None:
    from core.classification.local.urgency import is_critical

    assert not is_critical("typo on the pricing page")
    assert not is_critical("додайте оплату через Apple Pay")
