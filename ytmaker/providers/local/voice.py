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
from ytmaker.media.karaoke import WordMark, write_marks

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
_EVENT_END_OF_LIST = 0
_EVENT_WORD = 1


class _Event(ctypes.Structure):
    """espeak_EVENT (speak_lib.h): a WORD event gives the word's 1-based character position
    and length in the text, and where it starts in the audio (ms, and as a sample number)."""

    _fields_ = [
        ("type", ctypes.c_int),
        ("unique_identifier", ctypes.c_uint),
        ("text_position", ctypes.c_int),
        ("length", ctypes.c_int),
        ("audio_position", ctypes.c_int),
        ("sample", ctypes.c_int),
        ("user_data", ctypes.c_void_p),
        ("id", ctypes.c_char * 8),
    ]


_SynthCallback = ctypes.CFUNCTYPE(
    ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.POINTER(_Event)
)


class _Espeak:
    """The process-wide libespeak-ng: global C state, so one lock and one initialisation."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.lib: ctypes.CDLL | None = None
        self.sample_rate = 0
        self._chunks: list[np.ndarray] = []
        self._words: list[tuple[int, int, int]] = []  # (text position, length, sample)
        self._callback = _SynthCallback(self._collect)  # kept alive: C holds a pointer to it

    def _collect(self, wav: Any, count: int, events: Any) -> int:
        if count > 0 and wav:
            self._chunks.append(np.ctypeslib.as_array(wav, shape=(count,)).copy())
        index = 0
        while events and events[index].type != _EVENT_END_OF_LIST:
            event = events[index]
            if event.type == _EVENT_WORD:
                self._words.append((event.text_position, event.length, event.sample))
            index += 1
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
        samples, rate, _ = self.speak_words(voice, text)
        return samples, rate

    def speak_words(self, voice: str, text: str) -> tuple[np.ndarray, int, list[WordMark]]:
        """Int16 mono samples for `text`, their sample rate, and where each word starts."""
        with self.lock:
            lib = self._load()
            if lib.espeak_SetVoiceByName(voice.encode()) != _EE_OK:
                raise ProviderError(
                    f"espeak-ng has no voice {voice!r}.", code="LOCAL_VOICE_MISSING", voice=voice
                )
            lib.espeak_SetParameter(_ESPEAK_RATE, RATE_WPM[voice], 0)
            self._chunks, self._words = [], []
            data = text.encode("utf-8")
            result = lib.espeak_Synth(
                data, len(data) + 1, 0, _POS_CHARACTER, 0, _ESPEAK_CHARS_UTF8, None, None
            )
            lib.espeak_Synchronize()
            chunks, self._chunks = self._chunks, []
            words, self._words = self._words, []
        if result != _EE_OK or not chunks:
            raise ProviderError(
                "espeak-ng produced no audio for the text.",
                code="LOCAL_VOICE_FAILED",
                result=result,
                chars=len(text),
            )
        marks = [
            WordMark(position - 1, length, sample / self.sample_rate)
            for position, length, sample in words
            if position >= 1
        ]
        return np.concatenate(chunks), self.sample_rate, marks


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
    """Implements Voice offline: 16-bit mono WAV, `pause` seconds of silence appended, and
    beside it `<name>.words.json`: where each word starts (word-by-word captions use it)."""

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
        spoken = text.strip()
        speech, rate, marks = _ENGINE.speak_words(voice_for(language), spoken)
        silence = np.zeros(round(self.pause * rate), dtype=np.int16)
        samples = np.concatenate([speech, silence])
        # the marks first: the WAV is the file that says the piece is made
        write_marks(Path(out_path), spoken, marks, "espeak-ng", len(samples))
        write_wav(Path(out_path), samples, rate)
        return len(samples) / rate
