"""YouTube Data API v3 through google-api-python-client: resumable upload + custom thumbnail."""

from __future__ import annotations

import json
import os
import tempfile
import time
import unicodedata
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ytmaker.deadline import cap, check
from ytmaker.providers.base import Published, PublishRequest
from ytmaker.providers.errors import ServiceError, chain
from ytmaker.providers.errors.googleapi import from_http_error
from ytmaker.providers.errors.http import from_transport_error, is_transport_error
from ytmaker.redaction import redact

SCOPES = ["https://www.googleapis.com/auth/youtube.upload"]
CHUNK_UNIT = 256 * 1024
DEFAULT_CHUNK_SIZE = CHUNK_UNIT * 40  # 10 MiB
# Quota (revision of 2026-06-01): videos.insert has its own bucket of 100 calls a day at 1 unit
# each; thumbnails.set costs 50 of the 10,000 units a day shared by all other methods.
QUOTA_COSTS = {"videos.insert": 1, "thumbnails.set": 50}
DAILY_QUOTA = {"videos.insert": 100, "shared_units": 10_000}
TITLE_MAX = 100
DESCRIPTION_MAX_BYTES = 5000
TAGS_MAX_CHARS = 500

ProgressCallback = Callable[[int, int], None]
SessionCallback = Callable[[str], None]


def watch_url(video_id: str) -> str:
    return f"https://www.youtube.com/watch?v={video_id}"


class YouTubePublisher:
    """Implements Publisher: `videos.insert` (resumable, chunked) then `thumbnails.set`.

    A connection dropped mid-upload is resumed inside the call (at most `max_resumes` times):
    the library asks the session for its `Range` and continues from there, never re-sending
    confirmed bytes. Any other failure raises ServiceError; `session_uri` (and `on_session`)
    exposes the upload session so a later attempt can pass it back as `resume_uri`.
    """

    name = "youtube"

    metered_service = "youtube"

    def __init__(
        self,
        client_secrets_file: str | Path | None,
        token_file: str | Path | None,
        api_endpoint: str | None = None,
        chunk_size: int = DEFAULT_CHUNK_SIZE,
        on_progress: ProgressCallback | None = None,
        *,
        on_session: SessionCallback | None = None,
        on_call: Callable[[str], None] | None = None,
        credentials: Any = None,
        token_uri: str | None = None,
        max_resumes: int = 3,
        resume_delay: float = 1.0,
        http_timeout: float = 120.0,
    ) -> None:
        if chunk_size <= 0 or chunk_size % CHUNK_UNIT:
            raise ValueError("chunk_size must be a positive multiple of 256 KiB")
        self.client_secrets_file = Path(client_secrets_file) if client_secrets_file else None
        self.token_file = Path(token_file) if token_file else None
        self.api_endpoint = api_endpoint.rstrip("/") + "/" if api_endpoint else None
        self.chunk_size = chunk_size
        self.on_progress = on_progress
        self.on_session = on_session
        self.on_call = on_call  # told of each metered API call (quota accounting)
        self.max_resumes = max_resumes
        self.resume_delay = resume_delay
        self.http_timeout = http_timeout
        self._credentials = credentials
        self.token_uri = token_uri  # google-auth always loads Google's; tests point it locally
        self.session_uri: str | None = None
        self.last_video_id: str | None = None

    def __repr__(self) -> str:
        return f"YouTubePublisher(token_file={str(self.token_file)!r})"

    # ------------------------------------------------------------ credentials and service

    def _secrets(self) -> list[str | None]:
        creds = self._credentials
        if creds is None:
            return []
        return [
            getattr(creds, "token", None),
            getattr(creds, "refresh_token", None),
            getattr(creds, "client_secret", None),
        ]

    def credentials(self):
        """OAuth credentials: given ones, or the stored token (refreshed and saved if expired)."""
        if self._credentials is None:
            self._credentials = self._load_token()
        creds = self._credentials
        if not creds.valid and getattr(creds, "refresh_token", None):
            self._refresh(creds)
        return creds

    def _load_token(self):
        from google.oauth2.credentials import Credentials

        if self.token_file is None or not self.token_file.is_file():
            raise ServiceError(
                "YouTube is not authorised yet: no stored token at "
                f"{self.token_file}. Run the YouTube OAuth flow (run_oauth_flow with the client "
                "secrets file) to create YOUTUBE_TOKEN_FILE.",
                provider="youtube",
                kind="INVALID_KEY",
                reason="missing_token",
            )
        try:
            creds = Credentials.from_authorized_user_file(str(self.token_file), SCOPES)
            if self.token_uri:
                expiry = creds.expiry
                creds = creds.with_token_uri(self.token_uri)  # (the copy loses the expiry)
                creds.expiry = expiry
            return creds
        except (ValueError, KeyError, json.JSONDecodeError) as exc:
            raise ServiceError(
                f"The stored YouTube token {self.token_file} is unreadable ({type(exc).__name__});"
                " run the YouTube OAuth flow again.",
                provider="youtube",
                kind="INVALID_KEY",
                reason="bad_token_file",
            ) from None

    def _refresh(self, creds: Any) -> None:
        from google.auth import exceptions as auth_exceptions
        from google.auth.transport.requests import Request

        try:
            creds.refresh(Request())
        except auth_exceptions.RefreshError as exc:
            said = exc.args[0] if exc.args else exc
            err = ServiceError(
                "The stored YouTube token could not be refreshed (revoked or expired): run the "
                f"YouTube OAuth flow again to renew YOUTUBE_TOKEN_FILE. ({said})",
                provider="youtube",
                kind="INVALID_KEY",
                reason="refresh_failed",
                secrets=self._secrets(),
            )
            raise chain(err, exc, self._secrets()) from err.__cause__
        except auth_exceptions.TransportError as exc:
            err = from_transport_error("youtube", exc, secrets=self._secrets(), step="refresh")
            raise err from err.__cause__
        if self.token_file is not None:
            save_token(creds, self.token_file)

    def service(self):
        """The youtube v3 service, built offline from the bundled discovery document."""
        import google_auth_httplib2
        import httplib2
        from googleapiclient.discovery import build_from_document
        from googleapiclient.discovery_cache import get_static_doc

        doc = json.loads(get_static_doc("youtube", "v3"))
        if self.api_endpoint:
            doc["rootUrl"] = self.api_endpoint
            doc.pop("mtlsRootUrl", None)
        http = httplib2.Http(timeout=cap(self.http_timeout))
        http.redirect_codes = http.redirect_codes - {308}  # 308 = "resume incomplete" here
        authed = google_auth_httplib2.AuthorizedHttp(self.credentials(), http=http)
        return build_from_document(doc, http=authed)

    # ------------------------------------------------------------ publishing

    def publish(
        self,
        video: Path,
        thumbnail: Path | None,
        request: PublishRequest,
        *,
        resume_uri: str | None = None,
    ) -> Published:
        """`thumbnail` None: no custom thumbnail is set (a Short cannot have one)."""
        files = [(Path(video), "video")] + ([(Path(thumbnail), "thumbnail")] if thumbnail else [])
        for path, what in files:
            if not path.is_file():
                raise ServiceError(
                    f"The {what} file {path} does not exist.",
                    provider="youtube",
                    kind="BAD_REQUEST",
                    reason=f"no_{what}",
                )
        service = self._call(self.service)
        video_id = self.upload_video(service, Path(video), request, resume_uri=resume_uri)
        if thumbnail is None:
            return Published(video_id=video_id, video_url=watch_url(video_id))
        try:
            self.set_thumbnail(video_id, Path(thumbnail), service=service)
        except ServiceError as exc:
            # The video exists: say so, and do not let a task retry upload it a second time
            # (retry only set_thumbnail(video_id, ...) when `thumbnail_retryable`).
            exc.details.update(
                video_id=video_id,
                video_url=watch_url(video_id),
                uploaded=True,
                thumbnail_retryable=exc.retryable,
            )
            exc.retryable = False
            exc.message = (
                f"{exc.message} The video itself was uploaded as {watch_url(video_id)}; only "
                "the thumbnail is missing."
            )
            exc.args = (exc.message,)
            raise
        return Published(video_id=video_id, video_url=watch_url(video_id))

    def upload_video(
        self, service: Any, video: Path, request: PublishRequest, *, resume_uri: str | None = None
    ) -> str:
        from googleapiclient.http import MediaFileUpload

        media = MediaFileUpload(
            str(video), mimetype=_video_type(video), chunksize=self.chunk_size, resumable=True
        )
        insert = service.videos().insert(
            part="snippet,status",
            body=video_body(request),
            media_body=media,
            notifySubscribers=request.privacy == "public" and not request.publish_at,
        )
        if resume_uri:
            # Continue a session persisted by an earlier attempt: the library first asks the
            # session for its Range (Content-Range: bytes */TOTAL) and goes on from there.
            insert.resumable_uri = resume_uri
            insert._in_error_state = True
        self.session_uri = resume_uri
        if not resume_uri:
            self._metered("videos.insert")  # a resumed session was counted when it began
        total = media.size()
        resumes = 0
        response = None
        while response is None:
            check()  # between chunks: the session is saved, a retry goes on from here
            try:
                status, response = insert.next_chunk()
            except Exception as exc:
                self._note_session(insert)
                if is_transport_error(exc) and insert.resumable_uri and resumes < self.max_resumes:
                    resumes += 1
                    time.sleep(self.resume_delay * resumes)
                    continue
                err = self._map(exc, session_uri=insert.resumable_uri, resumes=resumes)
                raise err from err.__cause__
            self._note_session(insert)
            if status is not None and self.on_progress:
                self.on_progress(status.resumable_progress, total)
        video_id = response.get("id") if isinstance(response, dict) else None
        if not video_id:
            raise ServiceError(
                "YouTube finished the upload but returned no video id.",
                provider="youtube",
                kind="INVALID_RESPONSE",
                reason="no_video_id",
                retryable=False,
                session_uri=insert.resumable_uri,
            )
        if self.on_progress:
            self.on_progress(total, total)
        self.last_video_id = video_id
        return video_id

    def set_thumbnail(self, video_id: str, thumbnail: Path, *, service: Any = None) -> dict:
        from googleapiclient.http import MediaFileUpload

        service = service or self._call(self.service)
        mime = "image/png" if Path(thumbnail).suffix.lower() == ".png" else "image/jpeg"
        media = MediaFileUpload(str(thumbnail), mimetype=mime, resumable=False)
        self._metered("thumbnails.set")
        return self._call(service.thumbnails().set(videoId=video_id, media_body=media).execute)

    # ------------------------------------------------------------ helpers

    def _metered(self, method: str) -> None:
        """Every request costs quota, a refused one too: count it before it is sent."""
        if self.on_call:
            self.on_call(method)

    def _note_session(self, insert: Any) -> None:
        uri = getattr(insert, "resumable_uri", None)
        if uri and uri != self.session_uri:
            self.session_uri = uri
            if self.on_session:
                self.on_session(uri)

    def _call(self, fn: Callable[[], Any]) -> Any:
        try:
            return fn()
        except ServiceError:
            raise
        except Exception as exc:
            err = self._map(exc)
            raise err from err.__cause__

    def _map(self, exc: BaseException, **details: Any) -> BaseException:
        from google.auth import exceptions as auth_exceptions
        from googleapiclient.errors import HttpError

        secrets = self._secrets()
        details = {k: v for k, v in details.items() if v is not None}
        if isinstance(exc, ServiceError):
            return exc
        if isinstance(exc, HttpError):
            return from_http_error(exc, secrets=secrets, **details)
        if isinstance(exc, auth_exceptions.RefreshError):
            err = ServiceError(
                "YouTube rejected the credentials and they could not be refreshed: run the "
                "YouTube OAuth flow again to renew YOUTUBE_TOKEN_FILE. "
                f"({redact(str(exc), secrets)})",
                provider="youtube",
                kind="INVALID_KEY",
                reason="refresh_failed",
                secrets=secrets,
                **details,
            )
            return chain(err, exc, secrets)
        if is_transport_error(exc) or isinstance(exc, auth_exceptions.TransportError):
            return from_transport_error("youtube", exc, secrets=secrets, **details)
        return exc


def _video_type(path: Path) -> str:
    return {
        ".mp4": "video/mp4",
        ".mov": "video/quicktime",
        ".webm": "video/webm",
        ".mkv": "video/x-matroska",
    }.get(path.suffix.lower(), "application/octet-stream")


def video_body(request: PublishRequest) -> dict[str, Any]:
    """The videos.insert resource: snippet + status, cleaned to YouTube's limits."""
    status: dict[str, Any] = {
        "privacyStatus": request.privacy,
        "selfDeclaredMadeForKids": request.made_for_kids,
        "containsSyntheticMedia": request.synthetic_media,
        "embeddable": True,
    }
    if request.publish_at:
        status["publishAt"] = request.publish_at
        status["privacyStatus"] = "private"  # a scheduled video must be private until then
    return {
        "snippet": {
            "title": clean_title(request.title),
            "description": clean_description(request.description),
            "tags": clean_tags(request.tags),
            "categoryId": str(request.category_id),
            "defaultLanguage": request.language,
            "defaultAudioLanguage": request.language,
        },
        "status": status,
    }


def _printable(text: str, keep: str = "") -> str:
    """Without '<', '>' (YouTube refuses them) and control characters (no viewer wants them)."""
    return "".join(
        c for c in text if c in keep or (c not in "<>" and unicodedata.category(c) != "Cc")
    )


def clean_title(title: str) -> str:
    """YouTube refuses '<' and '>' and titles over 100 characters (invalidTitle)."""
    text = " ".join(_printable(title.replace("\n", " ").replace("\t", " ")).split())
    return text[:TITLE_MAX] or "Untitled"


def clean_description(description: str) -> str:
    text = _printable(description, keep="\n")
    data = text.encode("utf-8")[:DESCRIPTION_MAX_BYTES]
    return data.decode("utf-8", "ignore")


def clean_tags(tags: list[str]) -> list[str]:
    """Tags without '<>' or commas, within YouTube's 500-character total (quoted if spaced)."""
    out: list[str] = []
    used = 0
    for tag in tags:
        tag = " ".join(_printable(tag.replace(",", " ").replace("\t", " ")).split())
        if not tag or tag in out:
            continue
        cost = len(tag) + (2 if " " in tag else 0) + (1 if out else 0)
        if used + cost > TAGS_MAX_CHARS:
            break
        out.append(tag)
        used += cost
    return out


def save_token(creds: Any, token_file: Path) -> None:
    """Store refreshable credentials (JSON) readable by the owner only."""
    # Not atomic_output: that publishes files as 0644, and a token must never be readable by
    # others, not even for a moment. Same pattern: a temporary file beside it, then a rename.
    token_file = Path(token_file)
    token_file.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(
        dir=token_file.parent, prefix=f".{token_file.stem}.", suffix=".json"
    )  # mkstemp creates it 0600
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(creds.to_json())
        os.replace(tmp_name, token_file)
    finally:
        Path(tmp_name).unlink(missing_ok=True)


def run_oauth_flow(
    client_secrets_file: str | Path,
    token_file: str | Path,
    *,
    scopes: list[str] | None = None,
    port: int = 0,
    open_browser: bool = True,
) -> Any:
    """Authorise the channel once with the installed-app loopback flow; store a refresh token.

    (Google blocked the copy-paste out-of-band flow; `access_type=offline` + `prompt=consent`
    make Google return a refresh token every time.)
    """
    from google_auth_oauthlib.flow import InstalledAppFlow

    flow = InstalledAppFlow.from_client_secrets_file(str(client_secrets_file), scopes or SCOPES)
    creds = flow.run_local_server(
        host="localhost",
        port=port,
        open_browser=open_browser,
        access_type="offline",
        prompt="consent",
        authorization_prompt_message="Open this URL to authorise YTMaker Flow: {url}",
        success_message="YTMaker Flow is authorised; you can close this tab.",
    )
    if not creds.refresh_token:
        raise ServiceError(
            "Google returned no refresh token; revoke the app's access at "
            "https://myaccount.google.com/permissions and run the OAuth flow again.",
            provider="youtube",
            kind="INVALID_KEY",
            reason="no_refresh_token",
        )
    save_token(creds, Path(token_file))
    return creds
