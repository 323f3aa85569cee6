"""The Numba CUDA simulator tests need NUMBA_ENABLE_CUDASIM=1 set before Numba is first imported, so
they run in a process of their own: tests/test_cudasim.py starts ``python -m pytest tests/cudasim``
with the variable set. In any other run this folder is left alone (collecting it there would import
Numba's real CUDA target and test nothing)."""
import os

if os.environ.get("NUMBA_ENABLE_CUDASIM") != "1":
    collect_ignore_glob = ["test_*.py"]
