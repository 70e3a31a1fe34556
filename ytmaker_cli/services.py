"""The services behind the video: YouTube channel access and quota used."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from ytmaker.terminal import json_line, literal
from ytmaker_cli.app import app, context, fail, screen, youtube_app


@youtube_app.command("auth")
def youtube_auth(
    no_browser: Annotated[bool, typer.Option(help="Print the URL instead of opening it.")] = False,
) -> None:
    """Authorise the channel once (installed-app OAuth); stores a refreshable token."""
    from ytmaker.providers.youtube import run_oauth_flow

    settings = context().settings
    if not settings.youtube_client_secrets_file or not settings.youtube_token_file:
        fail("Set YOUTUBE_CLIENT_SECRETS_FILE (from Google Cloud console) and YOUTUBE_TOKEN_FILE.")
    run_oauth_flow(
        settings.youtube_client_secrets_file,
        settings.youtube_token_file,
        open_browser=not no_browser,
    )
    screen.out.print(literal(f"Token stored in {settings.youtube_token_file}"))


@app.command("quota")
def quota_command(
    sync: Annotated[
        bool, typer.Option("--sync", help="Read every service now and store the readings.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Quota used per service: the last hourly sync (Redis, else the database), or read now."""
    from ytmaker import quota

    ctx = context()
    if sync:
        readings = [r.to_dict() for r in quota.read_all(ctx)]
        quota.store(ctx, [quota.QuotaReading(**r) for r in readings])
    else:
        stored = quota.from_redis(ctx)
        if not stored:
            stored = {
                s.service: {
                    "service": s.service,
                    "used": s.used,
                    "limit": s.quota_limit,
                    "percent": s.percent,
                    "unit": s.unit,
                    "source": s.source,
                    "period": (s.details or {}).get("period", ""),
                    "error": (s.details or {}).get("error"),
                    "taken_at": s.taken_at.isoformat(timespec="seconds"),
                }
                for s in quota.latest_snapshots(ctx.repo)
            }
        readings = list(stored.values()) or [r.to_dict() for r in quota.read_all(ctx)]
    if as_json:
        print(json_line(readings))
        return
    threshold = ctx.settings.quota_warn_percent
    table = Table("service", "used", "limit", "% used", "period", "source", "read at")
    for r in readings:
        percent = r.get("percent")
        shown = "" if percent is None else f"{percent:.1f}%"
        over = percent is not None and percent > threshold
        table.add_row(
            literal(r["service"]),
            literal(f"{r['used']:g} {r.get('unit', '')}"),
            "" if r.get("limit") is None else f"{r['limit']:g}",
            literal(shown, style="bold red" if over else ""),
            literal(r.get("period") or ""),
            literal(f"error: {r['error']}" if r.get("error") else r.get("source", "")),
            literal(r.get("taken_at", "")),
        )
    screen.out.print(table)


@app.command("providers")
def providers_command(
    as_json: Annotated[bool, typer.Option("--json", help="One JSON line.")] = False,
) -> None:
    """Per stage, the provider a run would use now and the setting that made it so."""
    from ytmaker.config import get_settings
    from ytmaker.errors import YTMakerError
    from ytmaker.providers import registry
    from ytmaker.voices import DEFAULTS, VOICES

    try:
        settings = get_settings()
    except YTMakerError as exc:
        fail(exc.message)
        raise  # unreachable
    rows = registry.explain(settings)
    if as_json:
        voices = [{"name": v.name, "language": v.language, "label": v.label} for v in VOICES]
        print(
            json_line({"stages": rows, "edge_voices": voices, "edge_defaults": DEFAULTS}),
            flush=True,
        )
        return
    table = Table("stage", "provider", "setting", "why", "detail")
    for row in rows:
        table.add_row(
            literal(row["stage"]),
            literal(row["provider"] or "error", style="" if row["provider"] else "bold red"),
            literal(row["setting"]),
            literal(row["why"]),
            literal(row["detail"]),
        )
    screen.out.print(table)
    names = ", ".join(v.name for v in VOICES)
    screen.out.print(literal(f"Edge voices for a project's --voice: {names}"))
