"""D-ID talks through httpx: upload the narration, create a talk, poll it, fetch the MP4."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import httpx

from ytmaker.deadline import cap
from ytmaker.files import atomic_output
from ytmaker.providers import bounded
from ytmaker.providers.base import AvatarRole
from ytmaker.providers.bounded import MB, AnswerTooLarge
from ytmaker.providers.did_talks import TalkLedger
from ytmaker.providers.errors import ServiceError
from ytmaker.providers.errors.http import (
    from_httpx_response,
    from_transport_error,
    invalid_response,
)

AUDIO_TYPES = {".wav": "audio/wav", ".mp3": "audio/mpeg", ".m4a": "audio/mp4"}
MAX_ANSWER_BYTES = 4 * MB  # the API's JSON answers are a few hundred bytes
MAX_VIDEO_BYTES = 500 * MB  # a presenter clip is ~1 MB a second


def _require_video(path: Path, secrets: list[str], talk_id: str) -> None:
    """The downloaded result is a video with frames (D-ID once delivered a text page as .mp4)."""
    from ytmaker.errors import MediaError
    from ytmaker.media.probe import probe

    try:
        info = probe(path)
    except MediaError:
        info = None
    if info is None or info.video is None or info.duration <= 0:
        raise invalid_response(
            "did", "the result is not a video (no video stream)", secrets=secrets,
            talk_id=talk_id)  # fmt: skip


class DIDAvatar:
    """Implements AvatarMaker with D-ID talks (`script.type = audio`)."""

    name = "d-id"
    metered_service = None

    def __init__(
        self,
        api_key: str,
        base_url: str = "https://api.d-id.com",
        *,
        presenter_image_url: str,
        poll_interval: float = 2.0,
        timeout: float = 180.0,
        http_timeout: float = 60.0,
    ) -> None:
        if not api_key:
            raise ServiceError(
                "No D-ID API key: set DID_API_KEY (or use the local avatar).",
                provider="did",
                kind="INVALID_KEY",
                reason="missing_key",
            )
        if not presenter_image_url:
            raise ValueError("presenter_image_url is required (a public URL of a face image)")
        self.api_key = api_key
        self.base_url = base_url.rstrip("/")
        self.presenter_image_url = presenter_image_url
        self.poll_interval = poll_interval
        self.timeout = timeout
        self.http_timeout = http_timeout

    def __repr__(self) -> str:
        return f"DIDAvatar(base_url={self.base_url!r})"

    # ------------------------------------------------------------ public

    def make(self, audio_path: Path, role: AvatarRole, out_path: Path) -> Path:
        audio_path = Path(audio_path)
        if not audio_path.is_file():
            raise ServiceError(
                f"The narration audio {audio_path} does not exist.",
                provider="did",
                kind="BAD_REQUEST",
                reason="missing_audio",
            )
        ledger = TalkLedger(Path(out_path), audio_path)
        with self._client() as client:
            talk_id, result_url = self._resume(client, ledger, role)
            if result_url is None:
                talk_id = self._create_talk(client, audio_path)
                ledger.save(talk_id)  # before polling: a resumed run polls this talk
                result_url = self._settled(ledger, client, talk_id, role)
        self._download(result_url, Path(out_path), talk_id)
        ledger.clear()
        return Path(out_path)

    def _resume(
        self, client: httpx.Client, ledger: TalkLedger, role: str
    ) -> tuple[str, str | None]:
        """The talk an earlier, interrupted run created for this clip, polled to its end; a
        talk D-ID no longer knows is forgotten (a new one is made)."""
        talk_id = ledger.pending()
        if talk_id is None:
            return "", None
        try:
            return talk_id, self._settled(ledger, client, talk_id, role)
        except ServiceError as exc:
            if exc.details.get("status") != 404:
                raise
            ledger.clear()
            return "", None

    def _settled(self, ledger: TalkLedger, client: httpx.Client, talk_id: str, role: str) -> str:
        """The talk polled to its end; a talk D-ID refused or failed is forgotten (a run
        again makes a new one), one still rendering is kept."""
        try:
            return self._wait(client, talk_id, role)
        except ServiceError as exc:
            if exc.details.get("talk_status") in ("error", "rejected"):
                ledger.clear()
            raise

    def _create_talk(self, client: httpx.Client, audio_path: Path) -> str:
        audio_url = self._upload_audio(client, audio_path)
        talk = self._request(
            client,
            "POST",
            "/talks",
            json={
                "source_url": self.presenter_image_url,
                "script": {"type": "audio", "audio_url": audio_url},
                "config": {"stitch": True, "result_format": "mp4"},
            },
        )
        talk_id = talk.get("id")
        if not talk_id:
            raise invalid_response("did", "the new talk has no id", secrets=[self.api_key])
        return str(talk_id)

    def get_quota(self) -> dict[str, Any]:
        """{"remaining": credits left, "total": credits granted} from `GET /credits`."""
        with self._client() as client:
            data = self._request(client, "GET", "/credits")
        try:
            return {"remaining": data["remaining"], "total": data["total"]}
        except KeyError as exc:
            raise invalid_response(
                "did", f"/credits has no {exc}", secrets=[self.api_key]
            ) from None

    # ------------------------------------------------------------ steps

    def _client(self) -> httpx.Client:
        return bounded.client(
            MAX_ANSWER_BYTES,
            base_url=self.base_url,
            headers={"Authorization": f"Basic {self.api_key}", "accept": "application/json"},
            timeout=httpx.Timeout(cap(self.http_timeout), connect=15.0),
        )

    def _request(self, client: httpx.Client, method: str, path: str, **kwargs: Any) -> dict:
        secrets = [self.api_key]
        try:
            response = client.request(method, path, **kwargs)
        except httpx.TransportError as exc:
            err = from_transport_error("did", exc, secrets=secrets, path=path)
            raise err from err.__cause__
        except AnswerTooLarge as exc:
            raise invalid_response("did", f"{path}: {exc}", secrets=secrets) from None
        if response.status_code >= 400:
            raise from_httpx_response("did", response, secrets=secrets, path=path)
        try:
            data = bounded.loads(response.content)
        except (ValueError, RecursionError) as exc:
            why = str(exc) if isinstance(exc, bounded.TooDeep) else "not JSON"
            raise invalid_response("did", f"{path} did not answer JSON ({why})",
                                   secrets=secrets) from None  # fmt: skip
        if not isinstance(data, dict):
            raise invalid_response("did", f"{path} answered {type(data).__name__}", secrets=secrets)
        return data

    def _upload_audio(self, client: httpx.Client, audio_path: Path) -> str:
        mime = AUDIO_TYPES.get(audio_path.suffix.lower(), "application/octet-stream")
        with audio_path.open("rb") as handle:
            data = self._request(
                client, "POST", "/audios", files={"audio": (audio_path.name, handle, mime)}
            )
        url = data.get("url")
        if not url:
            raise invalid_response(
                "did", "the audio upload returned no url", secrets=[self.api_key]
            )
        return str(url)

    def _wait(self, client: httpx.Client, talk_id: str, role: str) -> str:
        """Poll `GET /talks/{id}` until done; bounded by `timeout` seconds."""
        deadline = time.monotonic() + cap(self.timeout)
        status = "created"
        while True:
            talk = self._request(client, "GET", f"/talks/{talk_id}")
            status = str(talk.get("status") or "")
            if status == "done":
                url = talk.get("result_url")
                if not url:
                    raise invalid_response(
                        "did",
                        "a done talk has no result_url",
                        secrets=[self.api_key],
                        talk_id=talk_id,
                    )
                return str(url)
            if status in ("error", "rejected"):
                error = talk.get("error") or {}
                kind = error.get("kind") if isinstance(error, dict) else None
                said = error.get("description") if isinstance(error, dict) else str(error)
                verdict = "rejected" if status == "rejected" else "failed to render"
                raise ServiceError(
                    f"D-ID {verdict} the {role} presenter video ({kind or status}: "
                    f"{said or 'no reason given'}); check the presenter image and the narration, "
                    "then run again.",
                    provider="did",
                    kind="REJECTED" if status == "rejected" else "FAILED",
                    retryable=False,
                    status=200,
                    reason=kind or status,
                    secrets=[self.api_key],
                    talk_id=talk_id,
                    talk_status=status,
                )
            if time.monotonic() + self.poll_interval > deadline:
                raise ServiceError(
                    f"D-ID did not finish the {role} presenter video within {self.timeout:g} s "
                    f"(last status {status!r}).",
                    provider="did",
                    kind="TIMEOUT",
                    reason="render_timeout",
                    secrets=[self.api_key],
                    talk_id=talk_id,
                    talk_status=status,
                )
            time.sleep(self.poll_interval)

    def _download(self, url: str, out_path: Path, talk_id: str) -> None:
        """Stream the result (a presigned URL: no Authorization header) into `out_path`."""
        secrets = [self.api_key]
        try:
            with (
                httpx.Client(timeout=httpx.Timeout(cap(self.http_timeout), connect=15.0)) as client,
                client.stream("GET", url) as response,
            ):
                if response.status_code != 200:
                    response.read()
                    raise from_httpx_response(
                        "did", response, secrets=secrets, talk_id=talk_id, step="download"
                    )
                with atomic_output(out_path) as tmp:
                    size = 0
                    with tmp.open("wb") as handle:
                        for chunk in response.iter_bytes(1 << 16):
                            handle.write(chunk)
                            size += len(chunk)
                            if size > MAX_VIDEO_BYTES:
                                raise invalid_response(
                                    "did", f"the result video is over {MAX_VIDEO_BYTES // MB} MB",
                                    secrets=secrets, talk_id=talk_id)  # fmt: skip
                    if size == 0:
                        raise invalid_response(
                            "did", "the result video is empty", secrets=secrets, talk_id=talk_id
                        )
                    _require_video(tmp, secrets, talk_id)
        except httpx.TransportError as exc:
            err = from_transport_error(
                "did", exc, secrets=secrets, talk_id=talk_id, step="download"
            )
            raise err from err.__cause__
