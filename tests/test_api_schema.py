"""Requests generated from the API's own OpenAPI document (Schemathesis, on Hypothesis):
however malformed, none gets a 500, and every answer matches what the document promises."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import closing
from itertools import product
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from app import ops
from app.api.app import create_app
from app.api.context import Context
from app.api.security import RateLimit
from app.ops.jobs import JobRequest
from app.paths import DEMO_SHEET, AppPaths
from app.services import Services
from app.sources.intake import SourceSpec

EXAMPLES = 20  # per operation and mode (valid, malformed): about 1,500 requests
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Any, str]]:
    data = tmp_path_factory.mktemp("api-data")
    with closing(Services(AppPaths.resolve(Path(data)), front_end="api")) as workspace:
        created = ops.jobs.create_job(
            workspace, JobRequest.of(SourceSpec(str(DEMO_SHEET)), title="Something to find")
        )
        ops.jobs.job_action(workspace, created.job_id, "pause")
        app = create_app(Context(workspace), limit=RateLimit(per_minute=10**9))
        yield app, workspace.settings.api_token()


def test_no_request_gets_a_500_or_an_answer_the_document_does_not_promise(
    api: tuple[Any, str],
) -> None:
    app, token = api
    schema = schemathesis.openapi.from_asgi(
        "/openapi.json", app, headers={"Host": "127.0.0.1:8765"}
    ).exclude(path="/api/v1/events")  # an endless stream: tested on its own
    headers = {"Authorization": f"Bearer {token}", "Host": "127.0.0.1:8765"}
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) > 30

    for operation, mode in product(operations, (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)):

        @given(case=operation.as_strategy(generation_mode=mode))
        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            derandomize=True,
            database=None,
        )
        def check(case: Any) -> None:
            case.call_and_validate(headers=headers, checks=CHECKS)

        try:
            check()
        except Unsatisfiable:  # nothing to get wrong (no parameters, no body)
            assert mode == GenerationMode.NEGATIVE
