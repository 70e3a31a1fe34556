"""docker-compose.yml and the Dockerfile, checked without a Docker engine: every service is wired
to the settings the code reads, and the wiring points at services that exist."""

from __future__ import annotations

import os
import re
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml

from ytmaker.config import Settings

ROOT = Path(__file__).resolve().parent.parent
_VAR = re.compile(r"(?<!\$)\$\{([A-Z0-9_]+)(?::?-([^}]*))?\}")


def interpolate(value: str, env: dict[str, str] | None = None) -> str:
    """Compose's `${VAR:-default}` with an empty environment (no .env): the defaults."""
    env = env or {}
    return _VAR.sub(lambda m: env.get(m.group(1)) or (m.group(2) or ""), value)


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))


def env_of(service: dict) -> dict[str, str]:
    env = service.get("environment") or {}
    if isinstance(env, list):
        env = dict(item.split("=", 1) for item in env)
    return {key: interpolate(str(value)) for key, value in env.items()}


def setting_names() -> set[str]:
    """The environment variables Settings reads."""
    names = set()
    for field in Settings.model_fields.values():
        names.update(choice for choice in field.validation_alias.choices)
    return names


def mounts(service: dict) -> dict[str, str]:
    """target -> source of the service's volumes."""
    found = {}
    for item in service.get("volumes", []):
        source, target = item.split(":")[:2]
        found[target] = source
    return found


def test_services_exist_with_health_checks(compose: dict) -> None:
    services = compose["services"]
    assert set(services) == {"redis", "postgres", "prefect-server", "worker", "metrics"}
    for name in ("redis", "postgres", "prefect-server", "metrics"):
        assert services[name]["healthcheck"]["test"], name
    depends = services["worker"]["depends_on"]
    assert {name: d["condition"] for name, d in depends.items()} == {
        "redis": "service_healthy",
        "postgres": "service_healthy",
        "prefect-server": "service_healthy",
    }
    assert services["prefect-server"]["depends_on"]["postgres"]["condition"] == "service_healthy"


def test_worker_env_names_are_settings_the_code_reads(compose: dict) -> None:
    env = env_of(compose["services"]["worker"])
    known = setting_names()
    assert {"DATABASE_URL", "REDIS_URL", "YTMAKER_DATA_DIR"} <= known  # the names still exist
    assert {"DATABASE_URL", "REDIS_URL", "YTMAKER_DATA_DIR", "PREFECT_API_URL"} <= set(env)
    # every YTMAKER_* given is a setting (or the deploy-time app dir), so a typo cannot hide
    unknown = {k for k in env if k.startswith("YTMAKER_")} - known - {"YTMAKER_APP_DIR"}
    assert not unknown
    # the values parse into our settings as intended
    settings = Settings(
        **{
            "YTMAKER_DATA_DIR": env["YTMAKER_DATA_DIR"],
            "DATABASE_URL": env["DATABASE_URL"],
            "REDIS_URL": env["REDIS_URL"],
        }
    )
    assert settings.data_dir == Path("/data")
    assert settings.resolved_database_url.startswith("postgresql://")


def test_database_url_points_at_the_postgres_service(compose: dict) -> None:
    services = compose["services"]
    url = urlsplit(env_of(services["worker"])["DATABASE_URL"])
    postgres = env_of(services["postgres"])
    assert url.scheme == "postgresql" and url.hostname == "postgres" and url.port == 5432
    assert (url.username, url.password) == (
        postgres["POSTGRES_USER"],
        postgres["POSTGRES_PASSWORD"],
    )
    # the application database is created by the init script, next to Prefect's
    assert url.path.lstrip("/") == postgres["YTMAKER_DB"]
    init = mounts(services["postgres"])["/docker-entrypoint-initdb.d/10-ytmaker.sh"]
    script = (ROOT / init).read_text(encoding="utf-8")
    assert "CREATE DATABASE" in script and "YTMAKER_DB" in script
    assert os.access(ROOT / init, os.X_OK)
    assert services["postgres"]["image"].startswith("postgres:")


def test_prefect_server_runs_on_postgres_and_the_worker_reaches_it(compose: dict) -> None:
    services = compose["services"]
    server = services["prefect-server"]
    server_env = env_of(server)
    db = urlsplit(server_env["PREFECT_SERVER_DATABASE_CONNECTION_URL"])
    postgres = env_of(services["postgres"])
    assert db.scheme == "postgresql+asyncpg" and db.hostname == "postgres"
    assert db.path.lstrip("/") == postgres["POSTGRES_DB"]
    # the worker's image (Prefect from uv.lock, with prefect-redis): slot leases kept in Redis
    assert server["image"] == services["worker"]["image"] and server["build"]
    assert server_env["PREFECT_SERVER_CONCURRENCY_LEASE_STORAGE"] == "prefect_redis.lease_storage"
    assert urlsplit(server_env["PREFECT_REDIS_MESSAGING_URL"]).hostname == "redis"
    command = server["command"]
    port = int(command[command.index("--port") + 1])
    assert command[command.index("--host") + 1] == "0.0.0.0"
    assert any(str(p).endswith(f":{port}") for p in server["ports"])
    api = urlsplit(env_of(services["worker"])["PREFECT_API_URL"])
    assert (api.hostname, api.port, api.path) == ("prefect-server", port, "/api")


def test_redis_url_points_at_the_redis_service(compose: dict) -> None:
    url = urlsplit(env_of(compose["services"]["worker"])["REDIS_URL"])
    assert url.scheme == "redis" and url.hostname == "redis" and url.port == 6379
    assert compose["services"]["redis"]["image"].startswith("redis:")


def test_data_lives_on_a_named_volume(compose: dict) -> None:
    worker = compose["services"]["worker"]
    env = env_of(worker)
    volumes = mounts(worker)
    data_dir = env["YTMAKER_DATA_DIR"]
    assert volumes[data_dir] in compose["volumes"]
    for key in ("PREFECT_LOCAL_STORAGE_PATH", "PREFECT_HOME"):
        assert env[key].startswith(data_dir + "/"), key  # results survive restarts too
    for name in ("redis", "postgres", "prefect-server"):
        assert all(
            source in compose["volumes"]
            for source in mounts(compose["services"][name]).values()
            if not source.startswith(".")
        )


def test_secrets_come_from_dot_env_and_every_variable_has_a_default(compose: dict) -> None:
    worker = compose["services"]["worker"]
    assert worker["env_file"] == [{"path": ".env", "required": False}]
    text = (ROOT / "docker-compose.yml").read_text(encoding="utf-8")
    without_default = [m.group(0) for m in _VAR.finditer(text) if m.group(2) is None]
    assert not without_default, "compose must start without a .env"


def test_worker_image_has_ffmpeg_a_cjk_font_and_the_locked_project(compose: dict) -> None:
    worker = compose["services"]["worker"]
    assert worker["build"] == {"context": ".", "dockerfile": "Dockerfile"}
    dockerfile = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    assert re.search(r"apt-get install[^\n]*ffmpeg[^\n]*fonts-noto-cjk", dockerfile)
    assert "uv sync --frozen --no-dev" in dockerfile and "COPY pyproject.toml uv.lock" in dockerfile
    for package in ("ytmaker", "tasks", "flows", "deployments", "prefect.yaml"):
        assert f"COPY {package}" in dockerfile, package
    # prefect.yaml's pull step starts flow runs in YTMAKER_APP_DIR: the image's code folder
    assert "YTMAKER_APP_DIR=/app" in dockerfile and "WORKDIR /app" in dockerfile
    assert env_of(worker)["YTMAKER_APP_DIR"] == "/app"
    pull = yaml.safe_load((ROOT / "prefect.yaml").read_text(encoding="utf-8"))["pull"]
    assert pull == [
        {"prefect.deployments.steps.set_working_directory": {"directory": "{{ $YTMAKER_APP_DIR }}"}}
    ]
    entry = worker["command"][-1]
    script = (ROOT / entry).read_text(encoding="utf-8")
    assert "prefect deploy --all --no-prompt" in script and "worker start --pool" in script
    ignored = (ROOT / ".dockerignore").read_text(encoding="utf-8").split()
    assert ".env" in ignored and ".venv" in ignored  # no secrets or host venv in the image


def test_prefect_yaml_deployments(compose: dict) -> None:
    config = yaml.safe_load((ROOT / "prefect.yaml").read_text(encoding="utf-8"))
    assert config["build"] is None and config["push"] is None
    deployments = {d["name"]: d for d in config["deployments"]}
    assert {name: d["entrypoint"] for name, d in deployments.items()} == {
        "video-generation": "flows/video.py:generate_video",
        "batch-processing": "flows/batch.py:batch_processing",
        "quota-sync": "flows/quota.py:quota_sync",
        "new-video": "flows/new_video.py:new_video",
        "new-batch": "flows/new_batch.py:new_batch",
        "worker-lost": "flows/worker_lost.py:worker_lost",
    }
    assert {d["work_pool"]["name"] for d in deployments.values()} == {"ytmaker-pool"}
    assert deployments["quota-sync"]["schedules"] == [
        {"cron": "0 * * * *", "timezone": "Asia/Taipei", "active": True}
    ]


def test_the_metrics_exporter_reads_what_the_worker_writes(compose: dict) -> None:
    """Same database and Prefect API as the worker, the port it serves published."""
    services = compose["services"]
    exporter, worker = env_of(services["metrics"]), env_of(services["worker"])
    for name in ("DATABASE_URL", "PREFECT_API_URL", "YTMAKER_DATA_DIR"):
        assert exporter[name] == worker[name], name
    command = services["metrics"]["command"]
    assert command[:3] == ["ytmaker", "metrics", "serve"]
    port = command[command.index("--port") + 1]
    assert command[command.index("--host") + 1] == "0.0.0.0"
    assert any(interpolate(str(p)).endswith(f":{port}") for p in services["metrics"]["ports"])
    assert services["metrics"]["image"] == services["worker"]["image"]
    assert Settings(YTMAKER_LOG_FORMAT=worker["YTMAKER_LOG_FORMAT"]).log_format == "json"
