"""Conversations: which messages of a chat are about the same thing, and the task each keeps.

- `text`: word stems of a message, and how alike two bags of them are.
- `signals`: what a message says about the work (taken, done, withdrawn, escalated, "+1",
  "not a bug", thanks) in Ukrainian, Russian and English.
- `features` / `scorer`: how well a message fits an open conversation (a trained logistic
  model over reply, topic, time, author, mention and text features).
- `store`: the conversations table: a batch's chats read once (candidates for each message),
  joining, opening.
- `tasks`: one task per conversation: opened by its first actionable message, kept current
  by the chat (each change recorded with its message; a human decision always wins).
- `placement`: the entry point the pipeline calls for a batch's classified messages.
"""
