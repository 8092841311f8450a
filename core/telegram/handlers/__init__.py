"""The bot's routers, one per module; built fresh for each Dispatcher."""
