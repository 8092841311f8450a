"""Task Tracker's core: everything that knows what a message, an issue or a task is.

Glossary (one name per concept; the code, the API, the dashboard and the README use these):

- **message**: one chat message as it reached us (`models.Message`), stored once per
  source + chat + external id; `revision` counts its edits.
- **issue**: a message's classification (`models.Issue`): kind, priority, title, confidence
  and its provenance (which classifier, model and prompt version decided); one current issue
  per message revision.
- **kind / priority**: the taxonomy's words (`models.Kind`, `models.Priority`): bug, feature,
  question, task, noise; critical, high, medium, low.
- **task**: a piece of work to triage and track (`models.Task`); its messages are attached with
  a **role** (`models.TaskMessageRole`).
- **label**: a human decision about a message (accept, reject, correct, assign, merge, track,
  ignore: `models.LabelAction`), with its **origin** (dashboard, api, bot: `models.LabelOrigin`);
  training and evaluation read labels, the classifier never overrides them.
- **event**: a committed change announced to live clients (`models.Event`, the outbox).
- **prompt version**: a stored LLM prompt; one is active.
- **local model**: a trained local classifier file, versioned; one is active.
- **run**: an evaluation of one classifier configuration on one data set (`models.EvalRun`).

Packages, layered top to bottom (a package imports only those below it; the import-linter
contract in pyproject.toml enforces it):

- `telegram/`: the bot's handlers and the Telegram Desktop importer (`export/` reads every
  export vintage).
- `evaluation/`: metrics, data sources, runs and their runner, stored runs, frames, charts,
  prompt review, the notebooks' workbench, NLBSE'24, the conversations evaluation.
- `runtime/`: `system.open_system` (the one bootstrap every entry point uses), the embedded
  servers, the wired services, the queue and its group commit, blocking helpers, generated
  secrets.
- `triage/`: the pipeline (classification -> issue -> task), task commands and queries,
  labels, human decisions from chats, the inbox, analytics.
- `classification/`: the taxonomy's types, the noise filter, the cascade, the factory,
  prompts, `local/` (n-grams, features, model, titles, store, fit, training, registry) and
  `llm/` (agent, rendering, spend, schema, cache, classifier).
- `messages/`: ingestion, bulk imports, threads and replies, search, reads.
- `events`, `db`, `schemas`, `models`, `config`: the outbox, the database, the public shapes,
  the tables (SQLModel families), the settings.
"""
