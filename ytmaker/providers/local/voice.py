"""Offline speech: libespeak-ng from the espeakng-loader wheel, driven through ctypes."""

from __future__ import annotations

import ctypes
import threading
import wave
from pathlib import Path
from typing import Any

import numpy as np

from ytmaker.errors import ProviderError
from ytmaker.files import atomic_output

VOICES = {"zh": "cmn", "en": "en"}
RATE_WPM = {"cmn": 175, "en": 160}  # espeak's words-per-minute setting per voice

# Measured speaking rates at RATE_WPM, pauses between sentences included and the trailing
# `pause` excluded: four realistic paragraphs per language (Taiwan night markets, bubble tea,
# Alishan sunrise, cycling round the island; 46-51 Han characters or 29-33 words each) were
# synthesised, and sum(ytmaker.language.count_units) / sum(WAV seconds) taken.
# Paragraphs ranged 3.58-3.78 chars/s (zh) and 2.80-3.18 words/s (en).
CHARS_PER_SECOND_ZH = 3.68
WORDS_PER_SECOND_EN = 2.97

_AUDIO_OUTPUT_SYNCHRONOUS = 2
_POS_CHARACTER = 1
_ESPEAK_CHARS_UTF8 = 1
_ESPEAK_RATE = 1
_EE_OK = 0
_SynthCallback = ctypes.CFUNCTYPE(
    ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.c_void_p
)


class _Espeak:
    """The process-wide libespeak-ng: global C state, so one lock and one initialisation."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.lib: ctypes.CDLL | None = None
        self.sample_rate = 0
        self._chunks: list[np.ndarray] = []
        self._callback = _SynthCallback(self._collect)  # kept alive: C holds a pointer to it

    def _collect(self, wav: Any, count: int, _events: Any) -> int:
        if count > 0 and wav:
            self._chunks.append(np.ctypeslib.as_array(wav, shape=(count,)).copy())
        return 0  # 0 = keep synthesising

    def _load(self) -> ctypes.CDLL:
        if self.lib is not None:
            return self.lib
        try:
            import espeakng_loader

            lib = ctypes.CDLL(espeakng_loader.get_library_path())
            data_path = espeakng_loader.get_data_path().encode()
        except (ImportError, OSError) as exc:
            raise ProviderError(
                f"Cannot load libespeak-ng: {exc}. Reinstall espeakng-loader.",
                code="LOCAL_VOICE_UNAVAILABLE",
            ) from exc
        _declare(lib)
        rate = lib.espeak_Initialize(_AUDIO_OUTPUT_SYNCHRONOUS, 0, data_path, 0)
        if rate <= 0:
            raise ProviderError(
                "libespeak-ng failed to initialise; reinstall espeakng-loader.",
                code="LOCAL_VOICE_UNAVAILABLE",
                result=rate,
            )
        lib.espeak_SetSynthCallback(self._callback)
        self.lib, self.sample_rate = lib, rate
        return lib

    def speak(self, voice: str, text: str) -> tuple[np.ndarray, int]:
        """Int16 mono samples for `text` and their sample rate."""
        with self.lock:
            lib = self._load()
            if lib.espeak_SetVoiceByName(voice.encode()) != _EE_OK:
                raise ProviderError(
                    f"espeak-ng has no voice {voice!r}.", code="LOCAL_VOICE_MISSING", voice=voice
                )
            lib.espeak_SetParameter(_ESPEAK_RATE, RATE_WPM[voice], 0)
            self._chunks = []
            data = text.encode("utf-8")
            result = lib.espeak_Synth(
                data, len(data) + 1, 0, _POS_CHARACTER, 0, _ESPEAK_CHARS_UTF8, None, None
            )
            lib.espeak_Synchronize()
            chunks, self._chunks = self._chunks, []
        if result != _EE_OK or not chunks:
            raise ProviderError(
                "espeak-ng produced no audio for the text.",
                code="LOCAL_VOICE_FAILED",
                result=result,
                chars=len(text),
            )
        return np.concatenate(chunks), self.sample_rate


def _declare(lib: ctypes.CDLL) -> None:
    """C signatures, so ctypes passes size_t and pointers correctly on 64-bit systems."""
    lib.espeak_Initialize.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_char_p, ctypes.c_int]
    lib.espeak_SetVoiceByName.argtypes = [ctypes.c_char_p]
    lib.espeak_SetParameter.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int]
    lib.espeak_SetSynthCallback.argtypes = [_SynthCallback]
    lib.espeak_SetSynthCallback.restype = None
    lib.espeak_Synth.argtypes = [
        ctypes.c_char_p,
        ctypes.c_size_t,
        ctypes.c_uint,
        ctypes.c_int,
        ctypes.c_uint,
        ctypes.c_uint,
        ctypes.c_void_p,
        ctypes.c_void_p,
    ]


_ENGINE = _Espeak()


def voice_for(language: str) -> str:
    """The espeak-ng voice for a language code: Mandarin for any zh-*, English for en-*."""
    code = language.strip().lower()
    for prefix, voice in VOICES.items():
        if code.startswith(prefix):
            return voice
    raise ProviderError(
        f"The local voice cannot speak {language!r}; use zh-TW or en.",
        code="LOCAL_VOICE_LANGUAGE",
        language=language,
    )


def write_wav(path: Path, samples: np.ndarray, sample_rate: int) -> None:
    with atomic_output(path) as tmp, wave.open(str(tmp), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(sample_rate)
        wav.writeframes(samples.astype("<i2").tobytes())


class EspeakVoice:
    """Implements Voice offline: 16-bit mono WAV, `pause` seconds of silence appended."""

    name = "espeak-ng"
    metered_service = None

    def __init__(self, pause: float = 0.4) -> None:
        if pause < 0:
            raise ValueError("pause must be >= 0 seconds")
        self.pause = pause

    def synthesize(self, text: str, language: str, out_path: Path) -> float:
        if not text or not text.strip():
            raise ProviderError(
                "There is no text to speak; the narration is empty.",
                code="LOCAL_VOICE_EMPTY_TEXT",
                language=language,
            )
        speech, rate = _ENGINE.speak(voice_for(language), text.strip())
        silence = np.zeros(round(self.pause * rate), dtype=np.int16)
        samples = np.concatenate([speech, silence])
        write_wav(Path(out_path), samples, rate)
        return len(samples) / rate
