"""Fixtures for the marimo notebooks' test cells (`pytest notebooks/`); tests/ has its own conftest."""

from tests.conftest import model_requests as model_requests
from tests.conftest import postgres_server_url as postgres_server_url
from tests.conftest import suite_system as suite_system
from tests.support.notebook_env import notebook_cells_env as notebook_cells_env
from tests.support.notebook_env import notebook_env as notebook_env
