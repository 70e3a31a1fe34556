"""Keys kept in Prefect Secret blocks: a setting `prefect-secret:NAME` is read from block NAME.

So a deployment's environment names the block, never the key itself; the key is fetched when
the settings are read, inside the worker's process.
"""

from __future__ import annotations

PREFIX = "prefect-secret:"


def is_reference(value: object) -> bool:
    return isinstance(value, str) and value.strip().startswith(PREFIX)


def resolve(value: object) -> object:
    """The block's value for a `prefect-secret:NAME` reference; any other value unchanged."""
    if not is_reference(value):
        return value
    name = str(value).strip()[len(PREFIX) :].strip()
    if not name:
        raise ValueError(f"name the Secret block after {PREFIX!r}, e.g. {PREFIX}gemini-api-key")
    from prefect.blocks.system import Secret

    try:
        # _sync=True: the block, not a coroutine, even when settings are first read in async
        # code (Prefect's async_dispatch); its type hints know neither the flag nor that
        secret = Secret.load(name, _sync=True).get()  # type: ignore[call-arg, union-attr]
    except Exception as exc:  # noqa: BLE001 - any failure becomes one actionable message
        reason = " ".join(str(exc).split())[:200] or type(exc).__name__
        raise ValueError(
            f"Prefect Secret block {name!r} could not be read ({reason}); create it in the "
            f"Prefect UI (Blocks > Secret) or with `prefect block create secret`"
        ) from None
    if not isinstance(secret, str) or not secret.strip():
        raise ValueError(f"Prefect Secret block {name!r} holds no text key")
    return secret.strip()
