"""Build evals/datasets/seed.jsonl: the project's own labeled chat messages.

Sources: the hand-written messages in evals/seed/*.txt (one per line,
`kind priority lang | text [>> reply_to]`) plus messages combined from templates and
slots below (several domains, uk/ru/en, transliteration, typos). Deterministic.

    uv run python -m evals.make_seed
"""

from __future__ import annotations

import json
import random
from collections import Counter
from pathlib import Path

HERE = Path(__file__).parent
OUT = HERE / "datasets" / "seed.jsonl"
KINDS = {"b": "bug", "f": "feature", "q": "question", "t": "task", "n": "noise"}
PRIORITIES = {"c": "critical", "h": "high", "m": "medium", "l": "low", "-": None}

Row = dict[str, str | None]


def parse_hand(path: Path) -> list[Row]:
    """Parse one hand-written file."""
    rows: list[Row] = []
    for raw in path.read_text(encoding="utf-8").splitlines():
        if not raw.strip() or raw.startswith("#"):
            continue
        head, _, body = raw.partition(" | ")
        k, p, lang = head.split()
        text, _, reply = body.partition(" >> ")
        rows.append(
            {"text": text.strip(), "kind": KINDS[k], "priority": PRIORITIES[p],
             "reply_to": reply.strip() or None, "lang": lang.replace("mx", "mixed")}
        )  # fmt: skip
    return rows


# --- template slots -------------------------------------------------------------------

OBJ = {
    "uk": ["вхід через Google", "оплата карткою", "експорт у CSV", "трекінг кур'єра",
           "розклад занять", "електронний журнал", "обмін з банком", "друк ТТН",
           "пошук по замовленнях", "чат підтримки", "збереження гри", "мультиплеєр",
           "звіт по залишках", "синхронізація з 1С", "завантаження файлів", "кошик",
           "реєстрація нових користувачів", "зарахування платежів", "карта доставки"],
    "ru": ["вход через Google", "оплата картой", "экспорт в CSV", "трекинг курьера",
           "расписание занятий", "электронный журнал", "обмен с банком", "печать ТТН",
           "поиск по заказам", "чат поддержки", "сохранение игры", "мультиплеер",
           "отчёт по остаткам", "синхронизация с 1С", "загрузка файлов", "корзина",
           "регистрация новых пользователей", "зачисление платежей", "карта доставки"],
    "en": ["Google login", "card payment", "the CSV export", "courier tracking",
           "the class timetable", "the gradebook", "the bank sync", "waybill printing",
           "order search", "support chat", "game saving", "multiplayer", "the stock report",
           "the 1C sync", "file upload", "the cart", "sign-up", "payment posting",
           "the delivery map"],
}  # fmt: skip
SINCE = {
    "uk": ["з ранку", "після оновлення", "з учора", "після деплою", "вже годину", "", ""],
    "ru": ["с утра", "после обновления", "со вчера", "после деплоя", "уже час", "", ""],
    "en": ["since this morning", "after the update", "since yesterday", "after the deploy",
           "for an hour now", "", ""],
}  # fmt: skip
ERR = ["500", "502", "timeout", "403", "NullReferenceException", "Unknown error", "ECONNRESET"]
BUG_T = {
    "uk": ["{obj} не працює {since}", "{obj} видає помилку {err} {since}",
           "чомусь {obj} падає з помилкою {err}", "в мене {obj} не працює {since}, це тільки в мене?",
           "{greet}{obj} глючить {since}, пише {err}", "знову біда: {obj} не відповідає {since}",
           "після оновлення {obj} поводиться дивно — дані не зберігаються",
           "{obj} віддає неправильні дані {since}"],
    "ru": ["{obj} не работает {since}", "{obj} выдаёт ошибку {err} {since}",
           "почему-то {obj} падает с ошибкой {err}", "у меня {obj} не работает {since}, это только у меня?",
           "{greet}{obj} глючит {since}, пишет {err}", "опять беда: {obj} не отвечает {since}",
           "после обновления {obj} ведёт себя странно — данные не сохраняются",
           "{obj} отдаёт неправильные данные {since}"],
    "en": ["{obj} is broken {since}", "{obj} throws {err} {since}",
           "for some reason {obj} fails with {err}", "{obj} doesn't work for me {since}, just me?",
           "{greet}{obj} is acting up {since}, says {err}", "{obj} is not responding {since}",
           "{obj} shows wrong numbers {since}", "{obj} keeps failing with {err}"],
}  # fmt: skip
BUG_SEV = {
    "critical": {"uk": ["у всіх користувачів!!", "прод стоїть", "втрачаємо гроші 🔥"],
                 "ru": ["у всех пользователей!!", "прод стоит", "теряем деньги 🔥"],
                 "en": ["for ALL users!!", "prod is down", "we're losing money 🔥"]},
    "high": {"uk": ["у частини клієнтів", "блокує реліз", "клієнт чекає, терміново"],
             "ru": ["у части клиентов", "блокирует релиз", "клиент ждёт, срочно"],
             "en": ["for some customers", "this blocks the release", "client is waiting, urgent"]},
    "medium": {"uk": ["", "", "гляньте, будь ласка"], "ru": ["", "", "гляньте, пожалуйста"],
               "en": ["", "", "can someone take a look"]},
    "low": {"uk": ["не критично", "дрібниця, але все ж"], "ru": ["не критично", "мелочь, но всё же"],
            "en": ["not urgent", "minor thing"]},
}  # fmt: skip
FEAT = {
    "uk": ["експорт у PDF", "фільтр за статусом", "темну тему", "масове редагування",
           "інтеграцію з Google Calendar", "сповіщення в Telegram", "двофакторну автентифікацію",
           "автозбереження чернеток", "сортування за ціною", "історію змін", "підтримку Apple Pay",
           "пошук по артикулу", "імпорт з Excel", "нагадування про дедлайни", "групування по складах"],
    "ru": ["экспорт в PDF", "фильтр по статусу", "тёмную тему", "массовое редактирование",
           "интеграцию с Google Calendar", "уведомления в Telegram", "двухфакторную авторизацию",
           "автосохранение черновиков", "сортировку по цене", "историю изменений", "поддержку Apple Pay",
           "поиск по артикулу", "импорт из Excel", "напоминания о дедлайнах", "группировку по складам"],
    "en": ["PDF export", "a status filter", "dark mode", "bulk editing",
           "Google Calendar integration", "Telegram notifications", "two-factor auth",
           "draft autosave", "sorting by price", "a change history", "Apple Pay support",
           "search by SKU", "Excel import", "deadline reminders", "grouping by warehouse"],
}  # fmt: skip
WHERE = {
    "uk": ["в адмінці", "в мобільному застосунку", "у звітах", "в кабінеті студента", "в 1С", ""],
    "ru": ["в админке", "в мобильном приложении", "в отчётах", "в кабинете студента", "в 1С", ""],
    "en": ["in the admin panel", "in the mobile app", "in reports", "in the student portal", ""],
}  # fmt: skip
FEAT_T = {
    "uk": ["додайте {feat} {where}", "можна якось додати {feat} {where}?", "було б круто мати {feat} {where}",
           "пропоную зробити {feat} {where}", "хочемо {feat} {where}", "а реально зробити {feat}?",
           "давайте запилимо {feat} {where}", "дуже бракує функції: {feat}"],
    "ru": ["добавьте {feat} {where}", "можно как-то добавить {feat} {where}?",
           "было бы круто иметь {feat} {where}",
           "предлагаю сделать {feat} {where}", "хотим {feat} {where}", "а реально сделать {feat}?",
           "давайте запилим {feat} {where}", "очень не хватает функции: {feat}"],
    "en": ["please add {feat} {where}", "could we get {feat} {where}?",
           "it would be great to have {feat} {where}",
           "I propose adding {feat} {where}", "we want {feat} {where}", "any chance of {feat}?",
           "let's build {feat} {where}", "really missing {feat} {where}"],
}  # fmt: skip
FEAT_SEV = {
    "high": {"uk": ["клієнт просить до понеділка", "без цього не підпишуть договір"],
             "ru": ["клиент просит к понедельнику", "без этого не подпишут договор"],
             "en": ["the client wants it by Monday", "the deal depends on it"]},
    "medium": {"uk": ["", "", "користувачі просять"], "ru": ["", "", "пользователи просят"],
               "en": ["", "", "users keep asking"]},
    "low": {"uk": ["не горить", "колись, як буде час"], "ru": ["не горит", "когда-нибудь"],
            "en": ["no rush", "someday maybe"]},
}  # fmt: skip
ACT = {
    "uk": ["змінити пароль", "додати нового користувача", "вивантажити звіт за місяць",
           "подивитись логи", "перевести замовлення на іншого кур'єра", "відкрити доступ до курсу",
           "скасувати накладну", "налаштувати сповіщення", "отримати доступ до staging",
           "підключити принтер", "оновити клієнт", "повернути кошти клієнту", "знайти старі замовлення"],
    "ru": ["сменить пароль", "добавить нового пользователя", "выгрузить отчёт за месяц",
           "посмотреть логи", "переназначить заказ на другого курьера", "открыть доступ к курсу",
           "отменить накладную", "настроить уведомления", "получить доступ к staging",
           "подключить принтер", "обновить клиент", "вернуть деньги клиенту", "найти старые заказы"],
    "en": ["change my password", "add a new user", "export the monthly report", "see the logs",
           "reassign an order to another courier", "open a course for a student", "cancel a waybill",
           "set up notifications", "get access to staging", "connect the printer",
           "update the client", "refund a customer", "find old orders"],
}  # fmt: skip
Q_T = {
    "uk": ["як {act}?", "підкажіть, будь ласка, як {act}?", "а хтось знає, як {act}?",
           "де можна {act}?", "чи можна {act} {where}?", "можна питання: як {act}?", "{greet}як {act}?"],
    "ru": ["как {act}?", "подскажите, пожалуйста, как {act}?", "а кто-нибудь знает, как {act}?",
           "где можно {act}?", "можно ли {act} {where}?", "можно вопрос: как {act}?", "{greet}как {act}?"],
    "en": ["how do I {act}?", "could someone tell me how to {act}?", "anyone know how to {act}?",
           "where can I {act}?", "is it possible to {act} {where}?", "quick question: how to {act}?",
           "{greet}how do I {act}?"],
}  # fmt: skip
TASK = {
    "uk": [("онови сертифікат на сервері", "оновити сертифікат на сервері"),
           ("додай нового співробітника в Jira", "додати нового співробітника в Jira"),
           ("підготуй звіт для клієнта", "підготувати звіт для клієнта"),
           ("виклади реліз-ноти", "викласти реліз-ноти"), ("зроби бекап бази", "зробити бекап бази"),
           ("створи акаунт для нового викладача", "створити акаунт для нового викладача"),
           ("перенеси зустріч на четвер", "перенести зустріч на четвер"),
           ("онови ціни в 1С", "оновити ціни в 1С"),
           ("закрий доступ колишньому підряднику", "закрити доступ колишньому підряднику"),
           ("відправ акти бухгалтерії", "відправити акти бухгалтерії"),
           ("збери білд для плейтесту", "зібрати білд для плейтесту"),
           ("продовж ліцензію на антивірус", "продовжити ліцензію на антивірус")],
    "ru": [("обнови сертификат на сервере", "обновить сертификат на сервере"),
           ("добавь нового сотрудника в Jira", "добавить нового сотрудника в Jira"),
           ("подготовь отчёт для клиента", "подготовить отчёт для клиента"),
           ("выложи релиз-ноты", "выложить релиз-ноты"), ("сделай бэкап базы", "сделать бэкап базы"),
           ("создай аккаунт для нового преподавателя", "создать аккаунт для нового преподавателя"),
           ("перенеси встречу на четверг", "перенести встречу на четверг"),
           ("обнови цены в 1С", "обновить цены в 1С"),
           ("закрой доступ бывшему подрядчику", "закрыть доступ бывшему подрядчику"),
           ("отправь акты в бухгалтерию", "отправить акты в бухгалтерию"),
           ("собери билд для плейтеста", "собрать билд для плейтеста"),
           ("продли лицензию на антивирус", "продлить лицензию на антивирус")],
    "en": [("renew the certificate on the server", "renew the certificate on the server"),
           ("add the new hire to Jira", "add the new hire to Jira"),
           ("prepare the report for the client", "prepare the report for the client"),
           ("publish the release notes", "publish the release notes"),
           ("back up the database", "back up the database"),
           ("create an account for the new lecturer", "create an account for the new lecturer"),
           ("move the meeting to Thursday", "move the meeting to Thursday"),
           ("update the prices in 1C", "update the prices in 1C"),
           ("remove the former contractor's access", "remove the former contractor's access"),
           ("send the invoices to accounting", "send the invoices to accounting"),
           ("build a playtest version", "build a playtest version"),
           ("renew the antivirus license", "renew the antivirus license")],
}  # fmt: skip
TASK_T = {
    "uk": ["{name}, {imp} {deadline}", "треба {inf} {deadline}", "будь ласка, {imp} {deadline}",
           "хто може {inf} {deadline}?", "нагадую: треба {inf} {deadline}",
           "{greet}{imp}, будь ласка, {deadline}"],
    "ru": ["{name}, {imp} {deadline}", "надо {inf} {deadline}", "пожалуйста, {imp} {deadline}",
           "кто может {inf} {deadline}?", "напоминаю: нужно {inf} {deadline}",
           "{greet}{imp}, пожалуйста, {deadline}"],
    "en": ["{name}, please {imp} {deadline}", "we need to {inf} {deadline}", "please {imp} {deadline}",
           "can someone {inf} {deadline}?", "reminder: {inf} {deadline}",
           "{greet}could you {imp} {deadline}?"],
}  # fmt: skip
DEADLINE = {
    "high": {"uk": ["сьогодні", "до кінця дня", "до завтра", "терміново", "до 17:00"],
             "ru": ["сегодня", "до конца дня", "к завтра", "срочно", "до 17:00"],
             "en": ["today", "by end of day", "by tomorrow", "asap", "before 5pm"]},
    "medium": {"uk": ["до п'ятниці", "на цьому тижні", "до понеділка", ""],
               "ru": ["до пятницы", "на этой неделе", "к понедельнику", ""],
               "en": ["by Friday", "this week", "before Monday", ""]},
    "low": {"uk": ["коли буде час", "не горить", "якось на днях"],
            "ru": ["когда будет время", "не горит", "как-нибудь на днях"],
            "en": ["whenever you have time", "no rush", "at some point"]},
}  # fmt: skip
NAMES = {"uk": ["Тарасе", "Олено", "Андрію", "Ірино", "Максиме", "Богдане"],
         "ru": ["Дима", "Саша", "Катя", "Лёша", "Марина"],
         "en": ["Max", "Anna", "Tom", "Priya", "Oleh"]}  # fmt: skip
GREET = {"uk": ["", "", "привіт, ", "доброго дня! ", "колеги, ", "слухайте, "],
         "ru": ["", "", "привет, ", "добрый день! ", "коллеги, ", "слушайте, "],
         "en": ["", "", "hi, ", "hey team, ", "morning! ", "folks, "]}  # fmt: skip
NOISE = {
    "uk": ["дякую", "дякую велике", "ок", "добре", "зрозумів", "прийняв", "супер", "класно",
           "доброго ранку", "всім гарного дня", "вітаю", "ура", "та ну", "хах", "згода", "бачу"],
    "ru": ["спасибо", "благодарю", "ок", "хорошо", "понял", "принял", "супер", "класс",
           "доброе утро", "всем хорошего дня", "поздравляю", "ура", "да ладно", "хах", "согласен"],
    "en": ["thanks", "thank you", "ok", "okay", "got it", "sure", "great", "nice", "morning all",
           "have a good one", "congrats", "yay", "agreed", "makes sense", "haha"],
}  # fmt: skip

# Announcements that ask nothing (noise) and the same announcements with a request (task).
WHEN = {"uk": ["сьогодні о 21:00", "вночі", "в суботу зранку", "завтра о 7:00", "о 19:30"],
        "ru": ["сегодня в 21:00", "ночью", "в субботу утром", "завтра в 7:00", "в 19:30"],
        "en": ["tonight at 9pm", "overnight", "on Saturday morning", "tomorrow at 7am",
               "at 7:30pm"]}  # fmt: skip
WORKS = {
    "uk": ["оновлюю {sys}", "перезавантажую {sys}", "переношу {sys} на новий сервер",
           "мігрую {sys}", "перевстановлюю {sys}"],
    "ru": ["обновляю {sys}", "перезагружаю {sys}", "переношу {sys} на новый сервер",
           "мигрирую {sys}", "переустанавливаю {sys}"],
    "en": ["I'm upgrading {sys}", "I'm rebooting {sys}", "I'm moving {sys} to a new host",
           "I'm migrating {sys}", "I'm reinstalling {sys}"],
}  # fmt: skip
SYSTEMS = {"uk": ["базу на стейджі", "білд-сервер", "VPN", "вікі", "поштовий сервер", "Grafana"],
           "ru": ["базу на стейдже", "билд-сервер", "VPN", "вики", "почтовый сервер", "Grafana"],
           "en": ["the staging database", "the build server", "the VPN", "the wiki",
                  "the mail server", "Grafana"]}  # fmt: skip
IMPACT = {"uk": ["буде недоступно хвилин 5", "можливі короткі перебої", "нічого не має впасти",
                 "простій до пів години", "", "збережіть роботу заздалегідь 🙂"],
          "ru": ["будет недоступно минут 5", "возможны короткие перебои", "ничего не должно упасть",
                 "простой до получаса", "", "сохраните работу заранее 🙂"],
          "en": ["about 5 minutes of downtime", "expect short blips", "nothing should break",
                 "up to half an hour down", "", "save your work beforehand 🙂"]}  # fmt: skip
ASK = {"uk": ["хтось, підготуйте, будь ласка, бекап до 18:00",
              "після робіт перевірте, будь ласка, свої сервіси",
              "Олено, попередь, будь ласка, клієнтів розсилкою"],
       "ru": ["кто-нибудь, сделайте, пожалуйста, бэкап до 18:00",
              "после работ проверьте, пожалуйста, свои сервисы",
              "Оля, предупреди, пожалуйста, клиентов рассылкой"],
       "en": ["could someone take a backup before 6pm?", "please check your services afterwards",
              "Anna, please warn the customers by email"]}  # fmt: skip


EMOJI = ["", "", "", " 👍", " 🙏", " 😂", " 🎉", " ❤️", ")", "!", "!!", " :)", " 🔥"]

TRANSLIT = str.maketrans({
    "а": "a", "б": "b", "в": "v", "г": "h", "ґ": "g", "д": "d", "е": "e", "є": "ie", "ж": "zh",
    "з": "z", "и": "y", "і": "i", "ї": "i", "й": "i", "к": "k", "л": "l", "м": "m", "н": "n",
    "о": "o", "п": "p", "р": "r", "с": "s", "т": "t", "у": "u", "ф": "f", "х": "kh", "ц": "ts",
    "ч": "ch", "ш": "sh", "щ": "shch", "ь": "", "ю": "iu", "я": "ia", "'": "", "ы": "y",
    "э": "e", "ё": "e", "ъ": "",
})  # fmt: skip


def typo(rng: random.Random, text: str) -> str:
    """Swap or drop one letter, as hurried typing does."""
    i = rng.randrange(1, max(2, len(text) - 2))
    if not text[i].isalpha():
        return text
    if rng.random() < 0.5:
        return text[:i] + text[i + 1 :]
    return text[: i - 1] + text[i] + text[i - 1] + text[i + 1 :]


def roughen(rng: random.Random, text: str, lang: str) -> tuple[str, str]:
    """Chat-style noise: lower case, no final dot, typos, sometimes transliteration."""
    text = " ".join(text.split()).replace(" ,", ",").replace(" ?", "?").strip(" ,")
    if rng.random() < 0.5:
        text = text[0].lower() + text[1:]
    if rng.random() < 0.2:
        text = typo(rng, text)
    if lang in ("uk", "ru") and rng.random() < 0.12:
        return text.lower().translate(TRANSLIT), "mixed"
    return text, lang


def pick(rng: random.Random, table: dict[str, dict[str, list[str]]], lang: str) -> tuple[str, str]:
    """A priority (by table weight order) and one phrase for it."""
    prio = rng.choice([p for p in table for _ in range(3 if p == "medium" else 1)])
    return prio, rng.choice(table[prio][lang])


def _join(text: str, extra: str) -> str:
    text = text.strip()
    return text if not extra else f"{text} {extra}" if text.endswith("?") else f"{text}, {extra}"


def gen_bug(rng: random.Random, lang: str) -> Row:
    prio, sev = pick(rng, BUG_SEV, lang)
    text = rng.choice(BUG_T[lang]).format(
        obj=rng.choice(OBJ[lang]), since=rng.choice(SINCE[lang]), err=rng.choice(ERR),
        greet=rng.choice(GREET[lang]),
    )  # fmt: skip
    return {"text": _join(text, sev), "kind": "bug", "priority": prio, "lang": lang}


def gen_feature(rng: random.Random, lang: str) -> Row:
    prio, sev = pick(rng, FEAT_SEV, lang)
    text = rng.choice(FEAT_T[lang]).format(feat=rng.choice(FEAT[lang]), where=rng.choice(WHERE[lang]))
    return {"text": _join(text, sev), "kind": "feature", "priority": prio,
            "lang": lang}  # fmt: skip


def gen_question(rng: random.Random, lang: str) -> Row:
    text = rng.choice(Q_T[lang]).format(
        act=rng.choice(ACT[lang]), where=rng.choice(WHERE[lang]), greet=rng.choice(GREET[lang])
    )
    return {"text": text, "kind": "question", "priority": rng.choice(["low", "medium"]), "lang": lang}


def gen_task(rng: random.Random, lang: str) -> Row:
    prio, deadline = pick(rng, DEADLINE, lang)
    imp, inf = rng.choice(TASK[lang])
    text = rng.choice(TASK_T[lang]).format(
        name=rng.choice(NAMES[lang]), imp=imp, inf=inf, deadline=deadline,
        greet=rng.choice(GREET[lang]),
    )  # fmt: skip
    return {"text": text, "kind": "task", "priority": prio, "lang": lang}


def gen_noise(rng: random.Random, lang: str) -> Row:
    words = rng.sample(NOISE[lang], rng.choice([1, 1, 2]))
    return {"text": ", ".join(words) + rng.choice(EMOJI), "kind": "noise", "priority": None,
            "lang": lang}  # fmt: skip


def gen_notice(rng: random.Random, lang: str) -> Row:
    """A planned-maintenance notice (noise), or the same with a request to the team (task)."""
    work = rng.choice(WORKS[lang]).format(sys=rng.choice(SYSTEMS[lang]))
    text = _join(f"{rng.choice(WHEN[lang])} {work}", rng.choice(IMPACT[lang]))
    if rng.random() < 0.3:
        return {"text": _join(text, rng.choice(ASK[lang])), "kind": "task", "priority": "medium",
                "lang": lang}  # fmt: skip
    return {"text": text, "kind": "noise", "priority": None, "lang": lang}


GENERATORS = {"bug": (gen_bug, 30), "feature": (gen_feature, 45), "question": (gen_question, 35),
              "task": (gen_task, 35), "noise": (gen_noise, 25), "notice": (gen_notice, 40)}  # fmt: skip


def generated(seed: int = 3) -> list[Row]:
    """Template messages, distinct from each other and from the hand-written ones."""
    rng = random.Random(seed)
    rows: list[Row] = []
    for fn, count in GENERATORS.values():
        for _ in range(count):
            row = fn(rng, rng.choice(["uk", "uk", "ru", "en"]))
            row["text"], row["lang"] = roughen(rng, str(row["text"]), str(row["lang"]))
            rows.append(row)
    return rows


def build() -> list[Row]:
    """All seed rows, deduplicated by lower-cased text, with ids."""
    rows = [r for p in sorted((HERE / "seed").glob("*.txt")) for r in parse_hand(p)]
    rows += generated()
    seen: set[str] = set()
    out: list[Row] = []
    for row in rows:
        key = " ".join(str(row["text"]).lower().split())
        if key in seen:
            continue
        seen.add(key)
        out.append({"id": f"s{len(out) + 1:04d}", "text": row["text"], "kind": row["kind"],
                    "priority": row["priority"], "reply_to": row.get("reply_to"),
                    "lang": row["lang"]})  # fmt: skip
    return out


def main() -> None:
    rows = build()
    with OUT.open("w", encoding="utf-8") as f:
        for row in rows:
            f.write(json.dumps(row, ensure_ascii=False) + "\n")
    print(f"{len(rows)} rows -> {OUT}")
    print(Counter(r["kind"] for r in rows), Counter(r["lang"] for r in rows))
    print(Counter(r["priority"] for r in rows))


if __name__ == "__main__":
    main()
