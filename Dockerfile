# One image for api / worker / bot / dashboard; compose picks the command.
FROM python:3.11-slim AS build
COPY --from=ghcr.io/astral-sh/uv:0.13 /uv /usr/local/bin/uv
ENV UV_COMPILE_BYTECODE=1 UV_LINK_MODE=copy UV_PYTHON_DOWNLOADS=never
WORKDIR /app
COPY pyproject.toml uv.lock README.md ./
RUN uv sync --locked --no-dev --no-install-project
COPY core core
COPY services services
COPY apps apps
COPY evals evals
COPY alembic.ini ./
RUN uv sync --locked --no-dev

FROM python:3.11-slim
RUN useradd --create-home tracker
WORKDIR /app
COPY --from=build --chown=tracker /app /app
ENV PATH="/app/.venv/bin:$PATH" TRACKER_DATA_DIR=/data PYTHONUNBUFFERED=1
RUN mkdir /data && chown tracker /data
USER tracker
EXPOSE 8000 8501
CMD ["tracker", "api"]
