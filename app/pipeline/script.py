"""Script: the row's narration split into sentences, or one written by an LLM when configured.

Any OpenAI-compatible chat API works (OpenAI, a local Ollama at http://localhost:11434/v1 …).
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from dataclasses import dataclass

from tenacity import retry, retry_if_exception_type, stop_after_attempt, wait_exponential_jitter

from app.domain.idea import Idea
from app.domain.sentences import split_sentences
from app.pipeline.errors import RenderError

WORDS_PER_SECOND = 2.5


@dataclass(frozen=True, slots=True)
class LLMSettings:
    endpoint: str  # base URL, e.g. http://localhost:11434/v1
    model: str
    api_key: str = ""
    timeout: float = 120.0


class _Transient(Exception):
    pass


def prompt_for(idea: Idea) -> str:
    words = round(idea.duration_seconds * WORDS_PER_SECOND)
    return (
        f"Write the narration for a short faceless video titled “{idea.idea_title}”.\n"
        f"About: {idea.description or idea.idea_title}\n"
        f"Audience: {idea.target_audience or 'a general audience'}. Tone: {idea.tone or 'friendly'}.\n"  # noqa: E501
        f"Length: about {words} words. Plain sentences only: no headings, lists, stage "
        "directions or emoji."
    )


def generate_script(idea: Idea, llm: LLMSettings) -> str:
    body = json.dumps(
        {
            "model": llm.model,
            "messages": [
                {"role": "system", "content": "You write narration scripts for explainer videos."},
                {"role": "user", "content": prompt_for(idea)},
            ],
            "temperature": 0.7,
        }
    ).encode()
    headers = {"Content-Type": "application/json"}
    if llm.api_key:
        headers["Authorization"] = f"Bearer {llm.api_key}"
    url = llm.endpoint.rstrip("/") + "/chat/completions"

    @retry(
        retry=retry_if_exception_type(_Transient),
        stop=stop_after_attempt(3),
        wait=wait_exponential_jitter(initial=1, max=10),
        reraise=True,
    )
    def call() -> str:
        request = urllib.request.Request(url, data=body, headers=headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=llm.timeout) as response:
                payload = json.loads(response.read())
        except urllib.error.HTTPError as exc:
            if exc.code == 429 or exc.code >= 500:
                raise _Transient(f"HTTP {exc.code}") from exc
            raise RenderError(
                f"the script generator refused the request (HTTP {exc.code}) — check its "
                "address, model name and API key in Settings"
            ) from exc
        except (urllib.error.URLError, TimeoutError, ConnectionError) as exc:
            raise _Transient(str(exc)) from exc
        except ValueError as exc:
            raise RenderError("the script generator did not answer with JSON") from exc
        try:
            return str(payload["choices"][0]["message"]["content"]).strip()
        except (KeyError, IndexError, TypeError) as exc:
            raise RenderError("the script generator's answer had no message in it") from exc

    try:
        return call()
    except _Transient as exc:
        raise RenderError(
            f"the script generator at {llm.endpoint} could not be reached ({exc}) — "
            "check that it is running, then retry"
        ) from exc


def prepare_script(idea: Idea, llm: LLMSettings | None) -> list[str]:
    text = idea.script_content.strip()
    if not text:
        if llm is None:
            raise RenderError(
                "the row has no script and no script generator is configured — write the "
                "narration in the script column, or set an LLM endpoint in Settings"
            )
        text = generate_script(idea, llm)
    sentences = split_sentences(text)
    if not sentences:
        raise RenderError("the script has no words to speak — write the narration")
    return sentences
