"""Script: the row's narration split into sentences, or one written by an LLM when configured.

Any OpenAI-compatible chat API works (OpenAI, a local Ollama at http://localhost:11434/v1 …).
"""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass, replace

from tenacity import retry, retry_if_exception_type, stop_after_attempt, wait_exponential_jitter

from app.domain.idea import Idea
from app.domain.sentences import split_sentences
from app.pipeline.errors import RenderError

WORDS_PER_SECOND = 2.5
PHRASE_TIMEOUT = 30.0  # search phrases are a nicety: a slow model is not waited on long


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


def chat(llm: LLMSettings, system: str, user: str, *, attempts: int = 3) -> str:
    """One answer from an OpenAI-compatible chat API; transient failures are retried."""
    body = json.dumps(
        {
            "model": llm.model,
            "messages": [
                {"role": "system", "content": system},
                {"role": "user", "content": user},
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
        stop=stop_after_attempt(attempts),
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
                f"the language model refused the request (HTTP {exc.code}) — check its "
                "address, model name and API key in Settings"
            ) from exc
        except (urllib.error.URLError, TimeoutError, ConnectionError) as exc:
            raise _Transient(str(exc)) from exc
        except ValueError as exc:
            raise RenderError("the language model did not answer with JSON") from exc
        try:
            return str(payload["choices"][0]["message"]["content"]).strip()
        except (KeyError, IndexError, TypeError) as exc:
            raise RenderError("the language model's answer had no message in it") from exc

    try:
        return call()
    except _Transient as exc:
        raise RenderError(
            f"the language model at {llm.endpoint} could not be reached ({exc}) — "
            "check that it is running, then retry"
        ) from exc


SHORT_SHARE = 0.7  # a written script with fewer of the asked-for words is asked for again


def generate_script(idea: Idea, llm: LLMSettings) -> str:
    """A script of about the row's length: a draft far shorter than asked (models write short)
    is asked for once more with its length said, and the longer of the two is kept."""
    system = "You write narration scripts for explainer videos."
    wanted = round(idea.duration_seconds * WORDS_PER_SECOND)
    draft = chat(llm, system, prompt_for(idea))
    got = len(draft.split())
    if got >= wanted * SHORT_SHARE:
        return draft
    again = chat(
        llm,
        system,
        f"{prompt_for(idea)}\n\nA first draft had only {got} words, far too short for a "
        f"{idea.duration_seconds}-second video. Write the whole narration again with about "
        f"{wanted} words: more detail, examples and steps, not padding.",
    )
    return again if len(again.split()) > got else draft


def search_phrases(texts: Sequence[str], llm: LLMSettings) -> list[str | None]:
    """A stock-footage search phrase for each scene's text, proposed by the language model
    (one request for the whole video); None where it proposed nothing usable."""
    numbered = "\n".join(f"{n}. {text}" for n, text in enumerate(texts, start=1))
    answer = chat(
        replace(llm, timeout=min(llm.timeout, PHRASE_TIMEOUT)),
        "You choose stock-footage search phrases for narrated videos.",
        "For each numbered scene below, give a search phrase of two to four words that "
        "would find a video clip showing what the scene is about (concrete, visual things, "
        "no abstract words). Answer with a JSON array of strings only, one per scene, in "
        f"order.\n\n{numbered}",
        attempts=1,
    )
    match = re.search(r"\[.*\]", answer, re.DOTALL)
    try:
        proposed = json.loads(match.group(0)) if match else None
    except ValueError:
        proposed = None
    if not isinstance(proposed, list):
        raise RenderError("the language model did not answer with a list of search phrases")
    phrases: list[str | None] = []
    for n in range(len(texts)):
        item = proposed[n] if n < len(proposed) else None
        phrase = " ".join(item.split()[:6]) if isinstance(item, str) else ""
        phrases.append(phrase or None)
    return phrases


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
