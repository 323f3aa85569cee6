"""Runs tests/cudasim in a pytest process of its own with NUMBA_ENABLE_CUDASIM=1.

Numba reads the variable once, when it is first imported, so the simulator cannot be switched on
inside this process (which may already have imported Numba for its CPU kernels). One test here stands
for the whole simulator suite: it passes when that run passes, and shows its output when it fails.
"""
import importlib.util
import os
import pathlib
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent


def test_numba_cuda_kernels_in_the_simulator():
    if importlib.util.find_spec("numba") is None:
        pytest.skip("Numba is not installed: pip install 'minigan[test]'")
    env = dict(os.environ, NUMBA_ENABLE_CUDASIM="1")
    result = subprocess.run(
        [sys.executable, "-m", "pytest", str(ROOT / "tests" / "cudasim"), "-q", "-p", "no:cacheprovider"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    output = result.stdout + result.stderr
    assert result.returncode == 0, f"simulator tests failed (exit {result.returncode}):\n{output}"
    summary = output.strip().splitlines()[-1]
    if " passed" not in summary:
        pytest.skip(f"simulator tests did not run: {summary}")
