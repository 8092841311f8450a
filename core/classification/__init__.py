"""Classification: the taxonomy's result type, the local classifier, the LLM, the cascade."""
