# The YTMaker worker image: FFmpeg, a CJK font, and the project installed with uv from uv.lock.
# It runs the Prefect worker of the `ytmaker-pool` process work pool (docker-compose.yml);
# the same image runs the CLI: `docker compose run --rm worker ytmaker batch status 1`.
FROM python:3.11-slim-bookworm

RUN apt-get update \
    && apt-get install -y --no-install-recommends ffmpeg fonts-noto-cjk curl ca-certificates \
    && rm -rf /var/lib/apt/lists/*
COPY --from=ghcr.io/astral-sh/uv:0.13.9 /uv /uvx /bin/

ENV UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_PROJECT_ENVIRONMENT=/app/.venv \
    PYTHONUNBUFFERED=1
WORKDIR /app

# Dependencies first (cached while only the code changes), then the project itself.
COPY pyproject.toml uv.lock README.md ./
RUN uv sync --frozen --no-dev --no-install-project
COPY ytmaker ./ytmaker
COPY ytmaker_cli ./ytmaker_cli
COPY tasks ./tasks
COPY flows ./flows
COPY deployments ./deployments
COPY data/samples ./data/samples
COPY prefect.yaml ./
RUN uv sync --frozen --no-dev

RUN useradd --create-home --uid 1000 ytmaker \
    && mkdir -p /data \
    && chown -R ytmaker:ytmaker /data
USER ytmaker

# YTMAKER_APP_DIR: where prefect.yaml's pull step starts every flow run (the code above).
ENV PATH=/app/.venv/bin:$PATH \
    YTMAKER_APP_DIR=/app \
    YTMAKER_DATA_DIR=/data \
    PREFECT_HOME=/data/prefect \
    PREFECT_LOCAL_STORAGE_PATH=/data/prefect/results \
    PREFECT_RESULTS_PERSIST_BY_DEFAULT=true \
    PREFECT_SERVER_ANALYTICS_ENABLED=false
VOLUME ["/data"]

CMD ["bash", "deployments/worker-entrypoint.sh"]
