"""Where a minigan iteration spends its time: a cProfile table, and the share spent in GEMM.

cProfile cannot see a matrix product: ``a @ b`` on arrays is an operator, not a function call, so its
time lands in the ``tottime`` of the Python function whose line holds it. To measure the GEMMs, an
instrumented run traces the lines of minigan's own source files (``sys.settrace``) and times every
line that multiplies matrices (``@``, ``.dot(``, ``matmul(``), from the moment the line starts to the
moment the next line of the same function starts. Tracing slows the Python around those lines, not
the BLAS call inside them, so the GEMM seconds it reports are close to the real ones.
"""
import cProfile
import io
import linecache
import os
import pstats
import re
import statistics
import sys
import time

import minigan

_MINIGAN_DIRS = tuple(os.path.dirname(os.path.abspath(m.__file__)) for m in (minigan,))
_GEMM = re.compile(r"[\w)\]]\s*@\s*[\w(]|\.dot\(|\bmatmul\(")


def _is_minigan(filename):
    path = os.path.abspath(filename)
    return path.startswith(_MINIGAN_DIRS) or f"{os.sep}kernels{os.sep}" in path


class GemmTracer:
    """A ``sys.settrace`` hook that adds up the wall time of GEMM lines in minigan's source."""

    def __init__(self):
        self.seconds = 0.0
        self.calls = 0
        self.by_line = {}  # "file:line" -> [calls, seconds]
        self._gemm_line = {}  # (filename, lineno) -> bool
        self._open = {}  # id(frame) -> (start time, key)

    def _is_gemm(self, code, lineno):
        key = (code.co_filename, lineno)
        hit = self._gemm_line.get(key)
        if hit is None:
            text = linecache.getline(code.co_filename, lineno).split("#", 1)[0]
            hit = self._gemm_line[key] = bool(_GEMM.search(text)) and not text.lstrip().startswith("@")
        return hit

    def _close(self, frame, now):
        started = self._open.pop(id(frame), None)
        if started is not None:
            elapsed = now - started[0]
            self.seconds += elapsed
            self.calls += 1
            entry = self.by_line.setdefault(started[1], [0, 0.0])
            entry[0] += 1
            entry[1] += elapsed

    def _local(self, frame, event, arg):
        now = time.perf_counter()
        if event in ("line", "return"):
            self._close(frame, now)
        if event == "line" and self._is_gemm(frame.f_code, frame.f_lineno):
            code = frame.f_code
            key = f"{os.path.relpath(code.co_filename, os.path.dirname(_MINIGAN_DIRS[0]))}:{frame.f_lineno}"
            self._open[id(frame)] = (time.perf_counter(), key)
        return self._local

    def __call__(self, frame, event, arg):
        if event == "call" and _is_minigan(frame.f_code.co_filename):
            return self._local
        return None

    def __enter__(self):
        sys.settrace(self)
        return self

    def __exit__(self, *exc):
        sys.settrace(None)


def gemm_share(step, iterations=3):
    """The share of an iteration spent in GEMM lines, and the seconds both ways.

    Untraced and traced iterations alternate, so both see the same load. The share is taken within
    each traced iteration (its GEMM seconds over its own wall time, which tracing inflates a little on
    the Python side, so the share is slightly understated); the seconds are that share of the median
    untraced iteration.
    """
    untraced, shares, lines = [], [], {}
    for _ in range(iterations):
        t0 = time.perf_counter()
        step()
        untraced.append(time.perf_counter() - t0)
        with GemmTracer() as tracer:
            t0 = time.perf_counter()
            step()
            traced = time.perf_counter() - t0
        shares.append(tracer.seconds / traced)
        for key, (calls, seconds) in tracer.by_line.items():
            entry = lines.setdefault(key, [0, 0.0])
            entry[0] += calls
            entry[1] += seconds
    iteration, share = statistics.median(untraced), statistics.median(shares)
    return {
        "iteration_s": iteration,
        "gemm_share": share,
        "gemm_s": share * iteration,
        "other_s": (1 - share) * iteration,
        "gemm_calls_per_iteration": tracer.calls,
        "gemm_by_line": {k: {"calls": c // iterations, "seconds": s / iterations}
                         for k, (c, s) in sorted(lines.items(), key=lambda kv: -kv[1][1])},
    }


def cprofile(step, top=25):
    """cProfile of one ``step()``: the ``top`` entries by tottime, as rows and as pstats text."""
    profiler = cProfile.Profile()
    profiler.enable()
    step()
    profiler.disable()
    stats = pstats.Stats(profiler)
    rows = []
    for (filename, lineno, name), (cc, nc, tottime, cumtime, _) in stats.stats.items():
        where = name if filename == "~" else f"{_short(filename)}:{lineno}({name})"
        rows.append({"function": where, "calls": nc, "tottime_s": tottime, "cumtime_s": cumtime})
    rows.sort(key=lambda r: -r["tottime_s"])
    text = io.StringIO()
    pstats.Stats(profiler, stream=text).sort_stats("tottime").print_stats(top)
    return {"total_s": stats.total_tt, "top": rows[:top], "text": text.getvalue()}


def _short(filename):
    """A path relative to the repository (or site-packages) root, for readable tables."""
    for marker in (f"{os.sep}minigan{os.sep}", f"{os.sep}kernels{os.sep}", f"{os.sep}numpy{os.sep}",
                   f"{os.sep}benchmarks{os.sep}"):
        if marker in filename:
            return marker.strip(os.sep) + os.sep + filename.split(marker, 1)[1]
    return os.path.basename(filename)
