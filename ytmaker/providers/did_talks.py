"""The D-ID talk a clip is being made from, kept next to the clip until it is downloaded.

A talk is paid when it is created. Its id is written before the first poll, so a run killed
while D-ID renders (a lost worker, a crash) polls the same talk when it resumes instead of
paying for a second one. The record names the narration it lip-syncs (a digest): a talk for
other audio is never reused.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from ytmaker.files import atomic_output


class TalkLedger:
    """`.{clip}.talk.json` beside the clip: {"talk_id", "audio"}."""

    def __init__(self, out_path: Path, audio_path: Path) -> None:
        self.path = out_path.parent / f".{out_path.name}.talk.json"
        self.audio = hashlib.sha256(audio_path.read_bytes()).hexdigest()

    def pending(self) -> str | None:
        """The talk created for this clip and this audio and not yet downloaded, if any."""
        try:
            record = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        if not isinstance(record, dict) or record.get("audio") != self.audio:
            return None
        talk_id = record.get("talk_id")
        return str(talk_id) if talk_id else None

    def save(self, talk_id: str) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with atomic_output(self.path) as tmp:
            tmp.write_text(json.dumps({"talk_id": talk_id, "audio": self.audio}), "utf-8")

    def clear(self) -> None:
        self.path.unlink(missing_ok=True)
