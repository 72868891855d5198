"""Schemathesis against the app's own /openapi.json, in process, signed in as a clerk of a
seller with invoices on the platform and as a tax-bureau officer: no operation answers
5xx, and every answer (status, content type, headers, body) is one the document
describes. Valid (positive) and invalid (negative) requests are generated for every
operation; the run is derandomised, so a failure reproduces."""

from __future__ import annotations

import os
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import FlakyStrategyDefinition, Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from conftest import World, invoice_body

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
USERS = ("seller", "officer")
EXAMPLES = int(os.environ.get("FAPIAO_FUZZ_EXAMPLES", "25"))


@pytest.fixture
def fuzz_world(world: World) -> World:
    for _ in range(3):
        response = world.client.post(
            "/api/v1/invoices", json=invoice_body(), headers=world.as_("seller")
        )
        assert response.status_code == 201
    return world


def fuzz(operation: Any, mode: GenerationMode, world: World) -> None:
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        derandomize=True,
        database=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy(generation_mode=mode))
    def run(case: Any) -> None:
        for user in USERS:
            case.call_and_validate(headers=world.as_(user), checks=CHECKS)

    run()


@pytest.mark.parametrize("backend", ["sqlite"])
@pytest.mark.timeout(900)
def test_every_operation_for_a_clerk_and_an_officer(fuzz_world: World) -> None:
    schema = schemathesis.openapi.from_asgi("/openapi.json", fuzz_world.client.app)
    failures: list[str] = []
    operations = 0
    unstable: list[str] = []
    for result in schema.get_all_operations():
        operation = result.ok()
        operations += 1
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            try:
                fuzz(operation, mode, fuzz_world)
            except Unsatisfiable:
                # No invalid request exists for an operation without parameters or body.
                assert mode is GenerationMode.NEGATIVE
            except FlakyStrategyDefinition:
                # Schemathesis' invalid-data strategy drew differently for the same choices
                # (seen once, at 80 examples, for DELETE /api/v1/webhooks/{webhook_id},
                # which passes all 80 when run alone): a fault of the generator, which
                # depends on what earlier operations left behind, not an answer of the app.
                unstable.append(f"{operation.method.upper()} {operation.path}")
            except Exception as exc:
                label = f"{operation.method.upper()} {operation.path} ({mode.value})"
                failures.append(f"{label}: {exc}")
    assert operations >= 30
    assert len(unstable) <= 2, unstable
    assert not failures, "\n\n".join(failures)
