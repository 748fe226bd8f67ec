"""An OpenAI-compatible speech API on loopback, as strict as OpenAI's `POST /v1/audio/speech`:
a bearer key, a JSON body with `model`, `input` (at most 4,096 characters) and `voice`
(required), `response_format` one of mp3/opus/aac/flac/wav/pcm, `speed` 0.25–4.0; errors as
`{"error": {"message", "type", "param", "code"}}`. It speaks with the built-in voice and sends
a WAV the way OpenAI streams one: 24 kHz mono 16-bit, its sizes unknown (0xFFFFFFFF)."""

from __future__ import annotations

import json
import struct
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any

import numpy as np

from tests.loopback import running

KEY = "sk-speech-test-key"
VOICES = {"alloy", "ash", "ballad", "coral", "echo", "fable", "onyx", "nova", "sage", "shimmer"}
FORMATS = {"mp3", "opus", "aac", "flac", "wav", "pcm"}


@dataclass
class Speech:
    url: str
    asked: list[dict[str, Any]] = field(default_factory=list)
    busy: int = 0  # answer this many requests with 429 first


def streamed_wav(samples: np.ndarray, rate: int = 24_000) -> bytes:
    pcm = (np.clip(samples, -1, 1) * 32767).astype("<i2").tobytes()
    header = b"RIFF" + struct.pack("<I", 0xFFFFFFFF) + b"WAVEfmt "
    header += struct.pack("<IHHIIHH", 16, 1, 1, rate, rate * 2, 2, 16)
    return header + b"data" + struct.pack("<I", 0xFFFFFFFF) + pcm


class _Handler(BaseHTTPRequestHandler):
    fake: Speech

    def log_message(self, *_args: Any) -> None:
        pass

    def _error(self, status: int, message: str, kind: str, param: str | None = None) -> None:
        body = json.dumps(
            {"error": {"message": message, "type": kind, "param": param, "code": None}}
        ).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length", 0))
        raw = self.rfile.read(length)
        if self.path != "/v1/audio/speech":
            return self._error(404, f"Invalid URL (POST {self.path})", "invalid_request_error")
        if self.headers.get("Authorization") != f"Bearer {KEY}":
            return self._error(401, "Incorrect API key provided.", "invalid_request_error")
        if self.fake.busy:
            self.fake.busy -= 1
            return self._error(429, "Rate limit reached.", "requests")
        try:
            body = json.loads(raw)
        except ValueError:
            return self._error(400, "We could not parse the JSON body.", "invalid_request_error")
        self.fake.asked.append(body)
        for name in ("model", "input", "voice"):
            if not isinstance(body.get(name), str) or not body[name]:
                return self._error(
                    400, f"Missing required parameter: '{name}'.", "invalid_request_error", name
                )
        if len(body["input"]) > 4096:
            return self._error(400, "input is too long", "invalid_request_error", "input")
        if body["voice"] not in VOICES:
            return self._error(400, "Invalid voice", "invalid_request_error", "voice")
        fmt = body.get("response_format", "mp3")
        speed = body.get("speed", 1.0)
        if fmt not in FORMATS:
            return self._error(400, "Invalid response_format", "invalid_request_error")
        if not isinstance(speed, int | float) or not 0.25 <= speed <= 4.0:
            return self._error(400, "speed must be between 0.25 and 4", "invalid_request_error")
        if fmt != "wav":  # this fake speaks WAV only; the client always asks for it
            return self._error(400, "this fake answers wav only", "invalid_request_error")
        from app.pipeline.speech import Hibari

        audio = streamed_wav(Hibari.say(body["input"], round(165 * speed)))
        self.send_response(200)
        self.send_header("Content-Type", "audio/wav")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        for start in range(0, len(audio), 16_384):
            piece = audio[start : start + 16_384]
            self.wfile.write(f"{len(piece):x}\r\n".encode() + piece + b"\r\n")
        self.wfile.write(b"0\r\n\r\n")
        return None

    protocol_version = "HTTP/1.1"


@contextmanager
def serve() -> Iterator[Speech]:
    with running(_Handler) as server:
        fake = Speech(f"http://127.0.0.1:{server.server_port}/v1")
        _Handler.fake = fake
        yield fake
