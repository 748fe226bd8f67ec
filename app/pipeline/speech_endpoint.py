"""A voice from any OpenAI-compatible speech API — `POST {address}/audio/speech` with a model,
a voice and the text, answering with the audio (OpenAI itself, or a local Kokoro server).

The answer is converted by ffmpeg to 24 kHz mono PCM whatever format the server chose (and a
WAV streamed with no length in its header reads the same). Word times come from forced
alignment (`app.pipeline.alignment`) against each word said alone by the built-in voice, so a
sentence costs one request."""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from tenacity import retry, retry_if_exception_type, stop_after_attempt, wait_exponential_jitter

from app.domain.idea import Voice
from app.pipeline.errors import RenderError
from app.pipeline.media import run_ffmpeg

RATE = 24_000
NATURAL_WPM = 165  # speed 1.0 — the API's own pace; the rate setting scales it
TIMEOUT = 60.0
PLACE = "Settings › Footage and voices"


@dataclass(frozen=True, slots=True)
class SpeechEndpoint:
    url: str = ""  # e.g. https://api.openai.com/v1; empty: none set
    model: str = "tts-1"
    voice: str = "alloy"  # one voice, or one per row voice: "female=nova, male=onyx"
    key: str = field(default="", repr=False)  # a secret: never in a repr or a log

    def voice_for(self, voice: Voice) -> str:
        """The endpoint's voice for a row's voice: its own in ``female=…, male=…``, else
        the neutral one, else the first named."""
        pairs = [part.split("=", 1) for part in re.split(r"[,;]", self.voice) if part.strip()]
        named = {k.strip().lower(): v.strip() for k, v in (p for p in pairs if len(p) == 2)}
        if not named:
            return self.voice.strip() or "alloy"
        return named.get(voice.value) or named.get("neutral") or next(iter(named.values()))


class _Busy(Exception):
    """Over its rate limit or briefly down: asked again."""


class Endpoint:
    name = "endpoint"

    def __init__(self, endpoint: SpeechEndpoint) -> None:
        if not endpoint.url:
            raise RenderError(f"no speech endpoint is set — add its address in {PLACE}")
        self.endpoint = endpoint

    def voice_name(self, voice: Voice, text: str) -> str:
        return self.endpoint.voice_for(voice)

    def synthesize(
        self, text: str, voice_name: str, rate_wpm: int, out: Path, pitch: int = 50
    ) -> None:
        answer = out.with_name(out.name + ".answer")
        try:
            answer.write_bytes(self._ask(text, voice_name, rate_wpm))
            run_ffmpeg(["-i", str(answer), "-ar", str(RATE), "-ac", "1", "-c:a", "pcm_s16le",
                        "-f", "wav", str(out)])  # fmt: skip
        except RenderError as exc:
            if "ffmpeg" in str(exc) or "damaged" in str(exc):
                raise RenderError(
                    f"the speech endpoint's answer is not audio ffmpeg reads — check its "
                    f"address and model in {PLACE}"
                ) from None
            raise
        finally:
            answer.unlink(missing_ok=True)

    def _ask(self, text: str, voice_name: str, rate_wpm: int) -> bytes:
        endpoint = self.endpoint
        body = json.dumps({
            "model": endpoint.model,
            "input": text,
            "voice": voice_name,
            "response_format": "wav",
            "speed": round(min(max(rate_wpm / NATURAL_WPM, 0.25), 4.0), 3),
        }).encode()  # fmt: skip
        headers = {"Content-Type": "application/json", "Accept": "audio/*"}
        if endpoint.key:
            headers["Authorization"] = f"Bearer {endpoint.key}"
        url = endpoint.url.rstrip("/") + "/audio/speech"

        @retry(
            retry=retry_if_exception_type(_Busy),
            stop=stop_after_attempt(3),
            wait=wait_exponential_jitter(initial=1, max=8),
            reraise=True,
        )
        def call() -> bytes:
            request = urllib.request.Request(url, data=body, headers=headers, method="POST")
            try:
                with urllib.request.urlopen(request, timeout=TIMEOUT) as response:
                    return bytes(response.read())
            except urllib.error.HTTPError as exc:
                if exc.code == 429 or exc.code >= 500:
                    raise _Busy(f"answered {exc.code}") from exc
                raise RenderError(_refusal(exc)) from None
            except (urllib.error.URLError, TimeoutError, ConnectionError) as exc:
                raise _Busy(f"could not be reached ({getattr(exc, 'reason', exc)})") from exc

        try:
            audio = call()
        except _Busy as exc:
            raise RenderError(
                f"the speech endpoint {exc} — check that it is running, then retry"
            ) from None
        if not audio:
            raise RenderError("the speech endpoint answered with no audio")
        return audio


def _refusal(exc: urllib.error.HTTPError) -> str:
    """One line for a refused request, with the server's own reason when it gave one."""
    try:
        detail = json.loads(exc.read() or b"{}")
        said = detail.get("error", {}).get("message") if isinstance(detail, dict) else None
        if not said and isinstance(detail, dict):
            said = detail.get("detail") if isinstance(detail.get("detail"), str) else None
    except (ValueError, AttributeError, OSError):
        said = None
    reason = f": {str(said)[:160]}" if said else ""
    if exc.code in (401, 403):
        return f"the speech endpoint refused the API key{reason} — check it in {PLACE}"
    if exc.code == 404:
        return f"the speech endpoint has no /audio/speech (404) — check its address in {PLACE}"
    return (
        f"the speech endpoint refused the request (HTTP {exc.code}){reason} — check its "
        f"model and voice in {PLACE}"
    )
