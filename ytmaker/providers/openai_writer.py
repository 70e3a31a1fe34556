"""A script writer for any OpenAI-compatible Chat Completions server (OpenAI, DeepSeek, Qwen,
Moonshot, Groq, Ollama, LM Studio, vLLM...) through the official `openai` SDK.

The prompt and the response schema are every LLM writer's (ytmaker.prompts, ytmaker.script).
The answer is asked for as strict JSON schema output; a server that refuses `response_format`
(a 400 naming it, as several local servers answer) is asked again in JSON mode, then as plain
text from which the JSON object is taken. The mode that worked is kept for the writer's run.
Whatever the mode, the answer is checked by the same schema and script rules.
"""

from __future__ import annotations

import copy
import json
import logging
import re
import threading
from typing import Any

from pydantic import ValidationError

from ytmaker import prompts
from ytmaker.errors import ScriptValidationError
from ytmaker.providers import openai_api
from ytmaker.providers.errors import ServiceError
from ytmaker.providers.errors.http import invalid_response
from ytmaker.script import Script, ScriptRules, WireScript, from_wire, schema_error, validate_script

log = logging.getLogger(__name__)
MODES = ("json_schema", "json_object", "text")
WHO = "OpenAI-compatible server"
SYSTEM = (
    "You write the narration scripts of YouTube videos. Reply with one JSON object and nothing "
    "else: no markdown, no comments."
)
REPLY_MAX_CHARS = 400_000  # far above any script: more is runaway output, not a script
OBJECTS_TRIED = 50  # `{` positions tried when the JSON object is inside plain text


def strict_schema(model: type[WireScript] = WireScript) -> dict[str, Any]:
    """WireScript's JSON schema as strict structured output takes it: every property required
    and no others (OpenAI refuses optional properties in strict mode), no defaults."""
    schema = copy.deepcopy(model.model_json_schema())

    def tighten(node: Any) -> None:
        if isinstance(node, dict):
            node.pop("default", None)
            if node.get("type") == "object" and "properties" in node:
                node["required"] = list(node["properties"])
                node["additionalProperties"] = False
            for value in node.values():
                tighten(value)
        elif isinstance(node, list):
            for value in node:
                tighten(value)

    tighten(schema)
    return schema


def response_format(mode: str) -> dict[str, Any]:
    if mode == "json_schema":
        schema = {"name": "video_script", "strict": True, "schema": strict_schema()}
        return {"response_format": {"type": "json_schema", "json_schema": schema}}
    if mode == "json_object":
        return {"response_format": {"type": "json_object"}}
    return {}


class OpenAIScriptWriter:
    """Implements ScriptWriter over Chat Completions."""

    name = "openai"
    metered_service = "openai"

    def __init__(
        self,
        api_key: str | None,
        model: str,
        base_url: str | None = None,
        prompt_template: str | None = None,
        *,
        temperature: float = 0.7,
        timeout: float = 120.0,
    ) -> None:
        self.api_key, self.model, self.base_url = api_key, model, base_url
        self.prompt_template = prompt_template
        self.temperature, self.timeout = temperature, timeout
        self.mode = 0  # index in MODES: lowered once for good when the server refuses one
        self._usage = threading.local()

    def __repr__(self) -> str:  # never show the key
        return f"OpenAIScriptWriter(model={self.model!r}, base_url={self.base_url!r})"

    @property
    def variant(self) -> dict[str, str]:
        """What besides the name decides the script (part of its fingerprint)."""
        return {"model": self.model}

    def usage(self) -> dict[str, float]:
        """Calls and tokens of this thread's last write(), for quota accounting."""
        return dict(getattr(self._usage, "counted", {}))

    def prompt(self, content: str, language: str, rules: ScriptRules) -> str:
        return prompts.script_prompt(self.prompt_template, content, language, rules)

    def write(
        self, content: str, language: str, rules: ScriptRules, *, title: str | None = None
    ) -> Script:
        """The LLM writes its own title (`title`, the project's name, is not needed)."""
        self._usage.counted = {"chat.completions": 0.0, "tokens": 0.0}
        prompt = self.prompt(content, language, rules)
        client = openai_api.client(self.api_key, self.base_url, self.timeout)
        try:
            choice = self._answer(client, prompt, len(content))
        finally:
            client.close()
        return validate_script(parse_reply(_text_of(choice), language), rules)

    def _answer(self, client: Any, prompt: str, chars: int) -> Any:
        """The first choice; a reply cut at the output limit is asked for once more."""
        for attempt in (1, 2):
            choice = self._complete(client, prompt, chars)
            if getattr(choice, "finish_reason", None) != "length":
                return choice
            log.warning("The %s reply was cut at its output limit (attempt %d)", WHO, attempt)
        raise ServiceError(
            f"The model OPENAI_MODEL={self.model} stopped writing at its output limit twice "
            "(finish_reason length): choose a model with a larger output limit in "
            "OPENAI_MODEL, or give the project shorter content.",
            provider="openai",
            kind="OUTPUT_TRUNCATED",
            reason="length",
            retryable=False,
            model=self.model,
            secrets=[self.api_key],
        )

    def _complete(self, client: Any, prompt: str, chars: int) -> Any:
        """One answered request, in the best output mode the server takes."""
        while True:
            mode = MODES[self.mode]
            try:
                response = openai_api.call(
                    client.chat.completions.create,
                    provider="openai",
                    secrets=[self.api_key],
                    model=self.model,
                    chars=chars,
                    messages=messages(prompt, mode),
                    temperature=self.temperature,
                    **response_format(mode),
                )
            except openai_api.FormatRefused:
                self.mode += 1
                log.info("The server refused %s output; asking in %s mode", mode, MODES[self.mode])
                continue
            self._count(response)
            choices = getattr(response, "choices", None) or []
            if not choices:
                raise invalid_response(
                    "openai", "the answer has no choices", secrets=[self.api_key]
                )
            return choices[0]

    def _count(self, response: Any) -> None:
        counted = self._usage.counted
        counted["chat.completions"] += 1
        usage = getattr(response, "usage", None)
        tokens = getattr(usage, "total_tokens", None) if usage is not None else None
        if tokens is None and usage is not None:
            tokens = (usage.prompt_tokens or 0) + (usage.completion_tokens or 0)
        counted["tokens"] += float(tokens or 0)


def messages(prompt: str, mode: str) -> list[dict[str, str]]:
    """The system line asks for JSON (JSON mode requires the word); outside schema mode it
    carries the schema itself, the only way the server learns the shape."""
    system = SYSTEM
    if mode != "json_schema":
        shape = json.dumps(strict_schema(), ensure_ascii=False)
        system += f" The object follows this JSON schema: {shape}"
    return [{"role": "system", "content": system}, {"role": "user", "content": prompt}]


def _text_of(choice: Any) -> str:
    message = getattr(choice, "message", None)
    refusal = getattr(message, "refusal", None)
    if refusal:
        raise ServiceError(
            f"The model refused to write the script ({str(refusal)[:200]}): reword the content "
            "and run again.",
            provider="openai",
            kind="CONTENT_FILTERED",
            status=200,
            reason="refusal",
        )
    if getattr(choice, "finish_reason", None) == "content_filter":
        raise ServiceError(
            "The server's content filter stopped the script: reword the content and run again.",
            provider="openai",
            kind="CONTENT_FILTERED",
            status=200,
            reason="content_filter",
        )
    return str(getattr(message, "content", None) or "")


# --- the reply ------------------------------------------------------------------------------

_THINKING = re.compile(r"<think>.*?</think>", flags=re.S)  # reasoning models' notes
_FENCE = re.compile(r"```(?:json)?\s*(.*?)\s*```", flags=re.S)


def parse_reply(text: str, language: str) -> Script:
    """The model's text → Script; ScriptValidationError says what is wrong with it."""
    data = extract_object(text)
    try:
        wire = WireScript.model_validate(data)
    except ValidationError as exc:
        raise schema_error(exc, WHO, "openai") from None
    return from_wire(wire, language)


def extract_object(text: str) -> dict[str, Any]:
    """The JSON object in the reply: the whole reply, a fenced block, or the first object in
    plain text (after a reasoning model's <think> notes)."""
    cleaned = _THINKING.sub("", text or "").strip()
    if not cleaned:
        raise _reply_error("回傳了空白內容 (no script text)", "empty_response")
    if len(cleaned) > REPLY_MAX_CHARS:
        raise _reply_error(f"回覆過長 ({len(cleaned):,} characters)", "too_long")
    fenced = _FENCE.search(cleaned)
    candidates = [fenced.group(1)] if fenced else []
    for candidate in [*candidates, cleaned]:
        found = _first_object(candidate)
        if found is not None:
            return found
    raise _reply_error("回傳的腳本不是有效的 JSON (no JSON object in the reply)", "invalid_json")


def _first_object(text: str) -> dict[str, Any] | None:
    decoder = json.JSONDecoder()
    starts = [m.start() for m in re.finditer(r"\{", text)][:OBJECTS_TRIED]
    for start in starts:
        try:
            value, _ = decoder.raw_decode(text, start)
        except (ValueError, RecursionError):
            continue
        if isinstance(value, dict):
            return value
    return None


def _reply_error(what: str, reason: str) -> ScriptValidationError:
    return ScriptValidationError(
        f"{WHO} {what}; run the script step again.",
        field="response",
        retryable=True,  # another draw of the model may well be valid
        provider="openai",
        reason=reason,
    )
