"""Shared fixtures: every test that takes ``device`` runs on the CPU and, where a GPU exists, on CUDA."""
import os

import numpy as np
import pytest
from hypothesis import HealthCheck, settings

settings.register_profile("ci", max_examples=25, deadline=None, derandomize=True,
                          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
settings.register_profile("dev", max_examples=60, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


def _cuda_ready():
    import minigan
    return minigan.cuda.is_available()


@pytest.fixture(scope="session", params=["cpu", pytest.param("cuda", marks=pytest.mark.gpu)])
def device(request):
    if request.param == "cuda" and not _cuda_ready():
        pytest.skip("no CUDA GPU here (CuPy, a driver and a device are all needed)")
    return request.param


@pytest.fixture
def rng():
    return np.random.default_rng(0)


def pytest_terminal_summary(terminalreporter):
    import sys
    gradcheck = sys.modules.get("gradcheck")
    if gradcheck is not None and any(gradcheck.CHECKS.values()):
        terminalreporter.write_line(f"numerical gradient checks (float64): {gradcheck.CHECKS['first']} first-order, "
                                    f"{gradcheck.CHECKS['second']} second-order")
