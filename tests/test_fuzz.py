"""Schemathesis against the app's own OpenAPI schema: no 500s, and responses match the schema.

The app is built at collection time (schemathesis needs the schema to generate test cases);
`pytest.from_fixture` does not work with the pytest this project runs.
"""

from __future__ import annotations

import schemathesis
from hypothesis import HealthCheck, settings as hypothesis_settings

from rag.api import create_app
from rag.config import Settings
from rag.index import build_index
from rag.service import QAService

EXAMPLES_PER_OPERATION = 60  # fixed seed (derandomize) so CI is repeatable


def _app():
    settings = Settings.from_env()
    build_index(settings)
    return create_app(settings, QAService.open(settings))


schema = schemathesis.openapi.from_asgi("/openapi.json", _app())


@schema.parametrize()
@hypothesis_settings(max_examples=EXAMPLES_PER_OPERATION, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
def test_every_operation_honours_its_schema(case):
    case.call_and_validate()
