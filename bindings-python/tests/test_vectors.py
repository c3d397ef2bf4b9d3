"""Every shared conformance vector (tests/vectors and $IPROOV_VECTORS_DIR) through the binding:
operation vectors through build/parse, flow vectors through the flow driver."""

from __future__ import annotations

import pytest

from vectors import Vector, load_vectors, run_vector

VECTORS = list(load_vectors())
OPERATION_VECTORS = [v for v in VECTORS if not v.is_flow]
FLOW_VECTORS = [v for v in VECTORS if v.is_flow]


def test_vectors_were_found() -> None:
    assert len(OPERATION_VECTORS) >= 150
    assert len(FLOW_VECTORS) >= 40


@pytest.mark.parametrize("vector", OPERATION_VECTORS, ids=[v.name for v in OPERATION_VECTORS])
def test_vector(vector: Vector) -> None:
    run_vector(vector)


@pytest.mark.parametrize("vector", FLOW_VECTORS, ids=[v.name for v in FLOW_VECTORS])
def test_flow_vector(vector: Vector) -> None:
    run_vector(vector)
