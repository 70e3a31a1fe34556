"""Typed errors: each carries a code, whether a retry may help, and details for error_info.

    YTMakerError                  the message says what to do; `to_info()` is safe to store
    ├── ConfigError               a setting (names it: YTMAKER_DATA_DIR, GEMINI_API_KEY...)
    ├── InputError                a project's field (`field=`), refused before anything is paid
    │   └── ProjectNotFound
    ├── ScriptValidationError     the script breaks a rule (segment or total length...)
    ├── ProviderError             a service would not make an asset
    │   └── ServiceError          a real service's failure (providers/errors: <PROVIDER>_<KIND>)
    ├── MediaError                FFmpeg, the font, a duration off by more than 2 %
    ├── StorageError              the disk (DISK_FULL, NOT_WRITABLE)
    └── StageTimeout              a stage ran past its limit (deadline.py: <STAGE>_TIMEOUT)
"""

from __future__ import annotations

from typing import Any


class YTMakerError(Exception):
    """Base error. `message` is meant for the user and says what to do."""

    code = "YTMAKER_ERROR"
    retryable = False

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        retryable: bool | None = None,
        **details: Any,
    ) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        if retryable is not None:
            self.retryable = retryable
        self.details = details

    def to_info(self) -> dict[str, Any]:
        """The error as stored in error_info and sent in progress messages."""
        return {
            "code": self.code,
            "message": self.message,
            "retryable": self.retryable,
            **self.details,
        }


class ConfigError(YTMakerError):
    code = "CONFIG_INVALID"


class InputError(YTMakerError):
    """Bad user input: content, names, ids."""

    code = "INPUT_INVALID"


class ProjectNotFound(InputError):
    code = "PROJECT_NOT_FOUND"


class ScriptValidationError(YTMakerError):
    code = "SCRIPT_INVALID"


class ProviderError(YTMakerError):
    code = "PROVIDER_ERROR"


class MediaError(YTMakerError):
    """FFmpeg or Pillow failed; details hold the tail of FFmpeg's stderr."""

    code = "MEDIA_ERROR"


class StorageError(YTMakerError):
    code = "STORAGE_ERROR"


def is_retryable(exc: BaseException) -> bool:
    """Whether trying again may help: a typed error says so; timeouts and network errors may."""
    if isinstance(exc, YTMakerError):
        return exc.retryable
    return isinstance(exc, (TimeoutError, ConnectionError))


def retry_after(exc: BaseException) -> float:
    """Seconds the provider asked us to wait (Retry-After), or 0."""
    if isinstance(exc, YTMakerError):
        return float(exc.details.get("retry_after") or 0)
    return 0.0
