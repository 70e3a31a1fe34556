"""Every provider by name: its stage, what it needs, where `auto` ranks it, how it is built.

A provider is one module plus one `Entry` in `ENTRIES`. Each stage is chosen by one setting
(`YTMAKER_SCRIPT_PROVIDER=auto|local|gemini|openai`, ...):

- `local`: the stage's offline provider;
- a name: that provider, or a ConfigError naming what it still needs;
- `auto` (the default): the first provider of the stage, in `auto` order, whose settings are
  given (a configured service), else the offline one; a provider with no `auto` rank (the free
  Edge voice, reached over the internet) is used only when named.

`choose` answers "which and why" without building anything: `ytmaker providers` and the run's
summary print the same answer.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ytmaker.errors import ConfigError
from ytmaker.markup import text

if TYPE_CHECKING:
    from ytmaker.config import Settings

# stage -> (the settings field that picks it, its environment variable)
STAGES: dict[str, tuple[str, str]] = {
    "script": ("script_provider", "YTMAKER_SCRIPT_PROVIDER"),
    "voice": ("voice_provider", "YTMAKER_VOICE_PROVIDER"),
    "images": ("image_provider", "YTMAKER_IMAGE_PROVIDER"),
    "avatar": ("avatar_provider", "YTMAKER_AVATAR_PROVIDER"),
    "publisher": ("publisher", "YTMAKER_PUBLISHER"),
}


@dataclass(frozen=True)
class Entry:
    """One provider of one stage."""

    name: str  # what the stage's setting names it by
    stage: str
    build: Callable[..., Any]  # (settings, **the stage's options) -> the provider
    needs: str = ""  # the settings it needs, as a user reads them ("" for none)
    ready: Callable[[Settings], bool] = lambda _settings: True  # are they given?
    auto: int | None = None  # rank in `auto` (lower first); None: only when named
    local: bool = False  # the offline provider of its stage
    detail: Callable[[Settings], str] = lambda _settings: ""  # model, address: never a key
    cost: str = ""


@dataclass(frozen=True)
class Choice:
    """Which provider a stage uses and the setting that made it so."""

    stage: str
    entry: Entry
    setting: str  # `YTMAKER_VOICE_PROVIDER=auto`
    why: str

    @property
    def name(self) -> str:
        return self.entry.name

    def row(self, settings: Settings) -> dict[str, str]:
        """What `ytmaker providers --json` prints for the stage."""
        return {
            "stage": self.stage,
            "provider": self.entry.name,
            "setting": self.setting,
            "why": self.why,
            "detail": self.entry.detail(settings),
            "cost": self.entry.cost,
        }


ENTRIES: list[Entry] = []


def register(entry: Entry) -> Entry:
    if entry.stage not in STAGES:
        raise ValueError(f"unknown stage {entry.stage!r}")
    if any(e.stage == entry.stage and e.name == entry.name for e in ENTRIES):
        raise ValueError(f"{entry.stage} provider {entry.name!r} is registered twice")
    ENTRIES.append(entry)
    return entry


def entries(stage: str) -> list[Entry]:
    """The stage's providers: the offline one first, then in `auto` order, then the rest."""
    found = [e for e in ENTRIES if e.stage == stage]
    return sorted(found, key=lambda e: (not e.local, e.auto is None, e.auto or 0))


def names(stage: str) -> list[str]:
    """What the stage's setting accepts."""
    return ["auto", "local", *(e.name for e in entries(stage) if not e.local)]


def check_name(stage: str, value: str) -> str:
    """`value` if the stage has such a provider; a ValueError listing the choices if not."""
    value = value.strip().lower()
    if value not in names(stage):
        raise ValueError(f"{value!r} cannot do the {stage} stage; use {', '.join(names(stage))}")
    return value


def _local(stage: str) -> Entry:
    return next(e for e in entries(stage) if e.local)


def choose(settings: Settings, stage: str) -> Choice:
    """The stage's provider from its setting; a ConfigError when a named one lacks settings."""
    field, variable = STAGES[stage]
    value = str(getattr(settings, field))
    setting = f"{variable}={value}"
    if value == "local":
        return Choice(stage, _local(stage), setting, "offline, as the setting asks")
    if value == "auto":
        ranked = [e for e in entries(stage) if e.auto is not None]
        for entry in ranked:
            if entry.ready(settings):
                return Choice(stage, entry, setting, f"auto: {entry.needs} is set")
        missing = "; ".join(e.needs for e in ranked)
        why = "auto: no service configured" + (f" (none of: {missing})" if missing else "")
        return Choice(stage, _local(stage), setting, why)
    named = next((e for e in entries(stage) if e.name == value), None)
    if named is None:
        raise ConfigError(f"{variable}: {value!r} cannot do this stage; use {_listed(stage)}.")
    if not named.ready(settings):
        raise ConfigError(f"{variable}={value} needs {named.needs}.", field=variable)
    return Choice(stage, named, setting, "named by the setting")


def _listed(stage: str) -> str:
    choices = names(stage)
    return ", ".join(choices[:-1]) + " or " + choices[-1]


def build(settings: Settings, stage: str, **options: Any) -> Any:
    return choose(settings, stage).entry.build(settings, **options)


def explain(settings: Settings, overrides: Mapping[str, Choice] | None = None) -> list[dict]:
    """Per stage: what would be used and why; a stage whose setting is wrong says so."""
    rows: list[dict] = []
    for stage, (_, variable) in STAGES.items():
        try:
            choice = (overrides or {}).get(stage) or choose(settings, stage)
        except ConfigError as exc:
            value = getattr(settings, STAGES[stage][0])
            rows.append(
                {
                    "stage": stage,
                    "provider": None,
                    "setting": f"{variable}={value}",
                    "why": exc.message,
                    "detail": "",
                    "cost": "",
                }
            )
            continue
        rows.append(choice.row(settings))
    return rows


def markdown(rows: list[dict]) -> str:
    """The table of `explain` for an artifact."""
    lines = ["| stage | provider | setting | why | detail |", "|---|---|---|---|---|"]
    for row in rows:
        cells = [row["stage"], row["provider"] or "(none)", row["setting"], row["why"]]
        cells.append(row.get("detail") or "")
        lines.append("| " + " | ".join(text(c) for c in cells) + " |")
    return "\n".join(lines)
