"""Settings from the environment and `.env`; read through get_settings(), never at import time."""

from __future__ import annotations

import hashlib
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import (
    AliasChoices,
    Field,
    SecretStr,
    ValidationError,
    ValidationInfo,
    field_validator,
)
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict
from pydantic_settings.exceptions import SettingsError

from ytmaker import logs, redaction, secret_refs
from ytmaker.errors import ConfigError
from ytmaker.script import ScriptRules

# A provider's name from ytmaker/providers/registry.py (auto, local, or one of the stage's).
ProviderChoice = str


def _env(name: str, **kwargs: Any) -> Any:  # pydantic Field factory
    return Field(validation_alias=AliasChoices(name), **kwargs)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore", populate_by_name=False)

    data_dir: Path = _env("YTMAKER_DATA_DIR", default=Path("data"))
    database_url: str | None = _env("DATABASE_URL", default=None, repr=False)
    redis_url: str | None = _env("REDIS_URL", default=None, repr=False)
    # Progress of two installations sharing one Redis (two checkouts, staging and production):
    # each message names its installation and readers skip the others' (installation_id below);
    # a prefix also gives the channels their own names: `{prefix}progress:{id}`.
    installation: str | None = _env("YTMAKER_INSTALLATION_ID", default=None, max_length=64)
    progress_prefix: str = _env("YTMAKER_PROGRESS_PREFIX", default="", max_length=64)

    segment_min_seconds: float = _env("YTMAKER_SEGMENT_MIN_SECONDS", default=5.0, gt=0)
    segment_max_seconds: float = _env("YTMAKER_SEGMENT_MAX_SECONDS", default=20.0, gt=0)
    total_min_seconds: float = _env("YTMAKER_TOTAL_MIN_SECONDS", default=180.0, ge=0)
    total_max_seconds: float = _env("YTMAKER_TOTAL_MAX_SECONDS", default=600.0, gt=0)
    # Shorts (ytmaker/formats.py): their own script rules; YouTube caps a Short at 180 s.
    shorts_segment_min_seconds: float = _env(
        "YTMAKER_SHORTS_SEGMENT_MIN_SECONDS", default=2.0, gt=0
    )
    shorts_segment_max_seconds: float = _env(
        "YTMAKER_SHORTS_SEGMENT_MAX_SECONDS", default=10.0, gt=0
    )
    shorts_total_min_seconds: float = _env("YTMAKER_SHORTS_TOTAL_MIN_SECONDS", default=15.0, ge=0)
    shorts_total_max_seconds: float = _env(
        "YTMAKER_SHORTS_TOTAL_MAX_SECONDS", default=180.0, gt=0, le=180
    )
    # `#Shorts` at the end of a Short's description (YouTube needs no flag; an option only).
    shorts_hashtag: bool = _env("YTMAKER_SHORTS_HASHTAG", default=False)

    script_provider: ProviderChoice = _env("YTMAKER_SCRIPT_PROVIDER", default="auto")
    voice_provider: ProviderChoice = _env("YTMAKER_VOICE_PROVIDER", default="auto")
    image_provider: ProviderChoice = _env("YTMAKER_IMAGE_PROVIDER", default="auto")
    avatar_provider: ProviderChoice = _env("YTMAKER_AVATAR_PROVIDER", default="auto")
    publisher: ProviderChoice = _env("YTMAKER_PUBLISHER", default="auto")

    # Any OpenAI-compatible server (OpenAI, DeepSeek, Qwen, Ollama...): scripts; and speech.
    openai_api_key: SecretStr | None = _env("OPENAI_API_KEY", default=None)
    openai_base_url: str | None = _env("OPENAI_BASE_URL", default=None)
    openai_model: str = _env("OPENAI_MODEL", default="gpt-4o-mini")
    openai_tts_api_key: SecretStr | None = _env("OPENAI_TTS_API_KEY", default=None)
    openai_tts_base_url: str | None = _env("OPENAI_TTS_BASE_URL", default=None)
    openai_tts_model: str = _env("OPENAI_TTS_MODEL", default="gpt-4o-mini-tts")
    openai_tts_voice: str = _env("OPENAI_TTS_VOICE", default="alloy")
    # Microsoft Edge's speech service (`edge` voice): its address, for tests and proxies.
    edge_tts_url: str | None = _env("EDGE_TTS_URL", default=None)
    gemini_api_key: SecretStr | None = _env("GEMINI_API_KEY", default=None)
    gemini_base_url: str | None = _env("GEMINI_BASE_URL", default=None)
    gemini_model: str = _env("GEMINI_MODEL", default="gemini-3.8-flash")
    gemini_tts_model: str = _env("GEMINI_TTS_MODEL", default="gemini-3.8-flash-tts")
    stability_api_key: SecretStr | None = _env("STABILITY_API_KEY", default=None)
    stability_base_url: str = _env("STABILITY_BASE_URL", default="https://api.stability.ai")
    pexels_api_key: SecretStr | None = _env("PEXELS_API_KEY", default=None)
    pexels_base_url: str = _env("PEXELS_BASE_URL", default="https://api.pexels.com")
    # Pexels' default quota; shared by every worker through a Prefect rate limit
    pexels_requests_per_hour: int = _env(
        "PEXELS_REQUESTS_PER_HOUR", default=200, ge=1, le=1_000_000
    )
    # pexels: video clips first (photos when a term finds none), or photos only
    visuals: Literal["clips", "photos"] = _env("YTMAKER_VISUALS", default="clips")
    # stock footage authors: listed in the video's description, or not
    credits: Literal["description", "none"] = _env("YTMAKER_CREDITS", default="description")
    # largest own picture or clip a project may bring (`--media`, `media:`)
    media_max_bytes: int = _env("YTMAKER_MEDIA_MAX_BYTES", default=500_000_000, ge=1)
    did_api_key: SecretStr | None = _env("DID_API_KEY", default=None)
    did_base_url: str = _env("DID_BASE_URL", default="https://api.d-id.com")
    did_presenter_image_url: str = _env(
        "DID_PRESENTER_IMAGE_URL",
        default="https://d-id-public-bucket.s3.amazonaws.com/or-roman.jpg",
    )
    youtube_client_secrets_file: Path | None = _env("YOUTUBE_CLIENT_SECRETS_FILE", default=None)
    youtube_token_file: Path | None = _env("YOUTUBE_TOKEN_FILE", default=None)
    youtube_api_endpoint: str | None = _env("YOUTUBE_API_ENDPOINT", default=None)
    youtube_chunk_size: int = _env(
        "YOUTUBE_UPLOAD_CHUNK_SIZE", default=40 * 256 * 1024, ge=256 * 1024, multiple_of=256 * 1024
    )

    image_concurrency: int = _env("YTMAKER_IMAGE_CONCURRENCY", default=4, ge=1, le=32)
    image_failure_tolerance: float = _env(
        "YTMAKER_IMAGE_FAILURE_TOLERANCE", default=0.2, ge=0, le=1
    )
    # A video with placeholder images: held before upload for a person, or published as is.
    on_partial: Literal["hold", "publish"] = _env("YTMAKER_ON_PARTIAL", default="hold")
    # When every video waits for a person (ytmaker/review_modes.py): after the script, before
    # upload, both, or only as above (none); a project's own `review` wins. Seconds a video
    # waits before REVIEW_EXPIRED.
    review: Literal["none", "script", "before_upload", "both"] = _env(
        "YTMAKER_REVIEW", default="none"
    )
    review_timeout: int = _env("YTMAKER_REVIEW_TIMEOUT", default=7 * 24 * 3600, ge=1)
    retries: int = _env("YTMAKER_RETRIES", default=3, ge=0, le=10)
    retry_delays: Annotated[list[float], NoDecode] = _env(
        "YTMAKER_RETRY_DELAYS", default=[2.0, 5.0, 10.0]
    )
    retry_jitter: float = _env("YTMAKER_RETRY_JITTER", default=0.2, ge=0, le=1)
    x264_preset: str = _env("YTMAKER_X264_PRESET", default="veryfast")
    # Time limits in seconds: one attempt at each stage, and one request to a service.
    timeout_script: float = _env("YTMAKER_TIMEOUT_SCRIPT", default=180.0, gt=0)
    timeout_assets: float = _env("YTMAKER_TIMEOUT_ASSETS", default=900.0, gt=0)
    timeout_render: float = _env("YTMAKER_TIMEOUT_RENDER", default=1800.0, gt=0)
    timeout_thumbnail: float = _env("YTMAKER_TIMEOUT_THUMBNAIL", default=30.0, gt=0)
    timeout_upload: float = _env("YTMAKER_TIMEOUT_UPLOAD", default=900.0, gt=0)
    timeout_request: float = _env("YTMAKER_TIMEOUT_REQUEST", default=120.0, gt=0)
    default_privacy: Literal["private", "unlisted", "public"] = _env(
        "YTMAKER_DEFAULT_PRIVACY", default="private"
    )
    # Batches: projects of one batch made at the same time.
    batch_concurrency: int = _env("YTMAKER_BATCH_CONCURRENCY", default=1, ge=1, le=16)
    # flow runs per worker (`prefect worker start --limit`; deployments/common.sh says why 2)
    worker_limit: int = _env("YTMAKER_WORKER_LIMIT", default=2, ge=1, le=16)
    # Quota sync: warn above this share of a quota; daily limits of the counted services
    # (unset: usage is reported without a percentage).
    quota_warn_percent: float = _env("YTMAKER_QUOTA_WARN_PERCENT", default=90.0, gt=0, le=100)
    gemini_daily_limit: int | None = _env("YTMAKER_GEMINI_DAILY_LIMIT", default=None, ge=1)
    openai_daily_limit: int | None = _env("YTMAKER_OPENAI_DAILY_LIMIT", default=None, ge=1)
    stability_daily_limit: int | None = _env("YTMAKER_STABILITY_DAILY_LIMIT", default=None, ge=1)
    # YouTube Data API defaults; a project granted more by Google raises them.
    youtube_daily_units: int = _env("YTMAKER_YOUTUBE_DAILY_UNITS", default=10_000, ge=1)
    youtube_daily_uploads: int = _env("YTMAKER_YOUTUBE_DAILY_UPLOADS", default=100, ge=1)
    # Log lines on stderr: text for a person, or one JSON object a line for a log store.
    log_format: Literal["text", "json"] = _env("YTMAKER_LOG_FORMAT", default="text")

    @field_validator(
        "gemini_api_key",
        "stability_api_key",
        "pexels_api_key",
        "did_api_key",
        "openai_api_key",
        "openai_tts_api_key",
        mode="before",
    )
    @classmethod
    def _from_secret_block(cls, value: object) -> object:
        return secret_refs.resolve(value)

    @field_validator(
        "script_provider", "voice_provider", "image_provider", "avatar_provider", "publisher"
    )
    @classmethod
    def _provider(cls, value: str, info: ValidationInfo) -> str:
        """A provider the stage has (ytmaker/providers/registry.py lists them)."""
        from ytmaker.providers import registry

        stage = next(s for s, (name, _) in registry.STAGES.items() if name == info.field_name)
        return registry.check_name(stage, value)

    @field_validator("edge_tts_url", mode="after")
    @classmethod
    def _edge_url(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        if not value.strip().startswith(("ws://", "wss://")):
            raise ValueError("must be a ws:// or wss:// address")
        return value.strip()

    @field_validator("redis_url", mode="after")
    @classmethod
    def _redis_url(cls, value: str | None) -> str | None:
        """A URL redis-py can use; the message never repeats it (it may hold a password)."""
        if value is None or not value.strip():
            return None
        try:
            from redis.connection import parse_url

            parse_url(value.strip())
        except (ValueError, TypeError):
            raise ValueError(
                "is not a Redis URL: use redis://[:password@]host:port/db, rediss://... "
                "or unix:///path/to/redis.sock"
            ) from None
        return value.strip()

    @field_validator("database_url", mode="after")
    @classmethod
    def _database_url(cls, value: str | None) -> str | None:
        """A URL SQLAlchemy can read; the message never repeats it (it may hold a password)."""
        if value is None or not value.strip():
            return None
        from sqlalchemy.engine import make_url
        from sqlalchemy.exc import ArgumentError

        try:
            make_url(value.strip())
        except (ArgumentError, ValueError):
            raise ValueError(
                "is not a database URL: use sqlite:////absolute/path/ytmaker.db or "
                "postgresql://user:password@host:5432/dbname"
            ) from None
        return value.strip()

    @field_validator("retry_delays", mode="before")
    @classmethod
    def _comma_list(cls, value: object) -> object:
        """Accept `2,5,10` as well as JSON `[2, 5, 10]` from the environment."""
        if isinstance(value, str) and not value.strip().startswith("["):
            return [float(part) for part in value.split(",") if part.strip()]
        return value

    def stage_timeout(self, stage: str) -> tuple[float, str]:
        """A stage's time limit and the setting that raises it."""
        return getattr(self, f"timeout_{stage}"), f"YTMAKER_TIMEOUT_{stage.upper()}"

    @property
    def rules(self) -> ScriptRules:
        return ScriptRules(
            segment_min=self.segment_min_seconds,
            segment_max=self.segment_max_seconds,
            total_min=self.total_min_seconds,
            total_max=self.total_max_seconds,
        )

    @property
    def resolved_database_url(self) -> str:
        return self.database_url or f"sqlite:///{(self.data_dir / 'ytmaker.db').resolve()}"

    @property
    def installation_id(self) -> str:
        """YTMAKER_INSTALLATION_ID, else named after the database (without its password): the
        workers of one installation share it, another checkout or staging has its own."""
        if self.installation:
            return self.installation
        url = self.resolved_database_url
        password = url_password(url)
        if password:
            url = url.replace(f":{password}@", "@", 1)
        return hashlib.sha256(url.encode()).hexdigest()[:12]

    def project_dir(self, project_id: int) -> Path:
        return self.data_dir / "projects" / str(project_id)

    def secret_values(self) -> list[str]:
        """Every secret in these settings: keys, and passwords inside the service URLs."""
        keys = [self.gemini_api_key, self.stability_api_key, self.did_api_key]
        keys += [self.pexels_api_key]
        keys += [self.openai_api_key, self.openai_tts_api_key]
        values = [key.get_secret_value() for key in keys if key is not None]
        values += [part for value in values for part in value.split(":")]  # D-ID's user:secret
        passwords = [url_password(url) for url in (self.redis_url, self.database_url)]
        return values + [password for password in passwords if password]

    @property
    def channel_dir(self) -> Path:
        return self.data_dir / "channel"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The settings, or a ConfigError naming each bad variable and what it must be."""
    try:
        settings = Settings()
    except (ValidationError, SettingsError) as exc:
        raise ConfigError(f"Invalid settings: {_explain(exc)}") from None
    redaction.register(settings.secret_values())
    logs.use(settings.log_format)
    return settings


def _explain(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        return "; ".join(
            f"{'.'.join(str(p) for p in err['loc'])}: {err['msg'].removeprefix('Value error, ')}"
            for err in exc.errors()
        )
    return str(exc).replace('"', "")


def url_password(url: str | None) -> str | None:
    """The password in `scheme://user:password@host/...`, if any."""
    if not url:
        return None
    try:
        return urlsplit(url).password
    except ValueError:
        return None


def reload_settings() -> Settings:
    """Forget cached settings (tests and the CLI change the environment)."""
    get_settings.cache_clear()
    return get_settings()
