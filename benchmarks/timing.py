"""Timing: medians of repeated runs after warm-up, with competing candidates interleaved.

On a shared machine the load changes from second to second. Timing candidate A for a minute and
then candidate B would put that drift into the comparison; running them in turn, in rounds
(A-block B-block A-block ...), gives both the same conditions, and the ratio of their medians is then
a fair comparison even when the absolute numbers are noisy.

Switching between libraries has a trap on a small machine: after a GEMM, OpenBLAS's worker threads
keep spinning for up to 2^28 cycles (about 0.1 s) waiting for more work, and PyTorch's OpenMP workers
do the same after a parallel region. On 2 cores, a library that starts right after the other one
finds a core taken by a spinning thread, and its first parallel op can stall for tens of
milliseconds (measured here: a 20 us torch batch norm took 30 ms right after a NumPy GEMM). So each
block starts with a pause (sleeping, so the spinning threads give up and go to sleep) and one
untimed call, and only then are calls timed.
"""
import gc
import math
import statistics
import time

# Longer than OpenBLAS's default spin timeout (2^28 cycles at 2 to 3 GHz), with some margin.
SWITCH_PAUSE_S = 0.25
# On the GPU no CPU thread pool spins, and a longer sleep would let the GPU's clocks drop.
GPU_PAUSE_S = 0.02


def switch_pause(device):
    """The pause before each timed block on ``device`` ("cpu" or "cuda")."""
    return GPU_PAUSE_S if device == "cuda" else SWITCH_PAUSE_S


def summary(samples):
    """Median, min, max and spread (interquartile range / median) of a list of seconds."""
    ordered = sorted(samples)
    q = statistics.quantiles(ordered, n=4) if len(ordered) >= 2 else [ordered[0]] * 3
    median = statistics.median(ordered)
    return {
        "median_s": median,
        "min_s": ordered[0],
        "max_s": ordered[-1],
        "iqr_over_median": (q[2] - q[0]) / median if median > 0 else 0.0,
        "repeats": len(ordered),
    }


def interleaved(candidates, repeats, rounds=None, block=1, pause=SWITCH_PAUSE_S):
    """Time each callable of ``candidates`` (name -> fn) in rounds; ``repeats`` samples each.

    In each round every candidate runs one block: a ``pause``, one untimed call (warm-up after the
    switch), then ``ceil(repeats / rounds)`` samples, each the mean of ``block`` consecutive calls
    (a block makes calls too short for one clock reading measurable). The order of candidates is
    reversed every other round, so none always runs right after the same other one.
    Returns name -> ``summary`` of its samples.
    """
    names = list(candidates)
    rounds = max(1, min(repeats, rounds or repeats))
    per_round = math.ceil(repeats / rounds)
    samples = {name: [] for name in names}
    for r in range(rounds):
        for name in (names if r % 2 == 0 else names[::-1]):
            fn = candidates[name]
            gc.collect()
            if pause:
                time.sleep(pause)
            fn()
            for _ in range(per_round):
                t0 = time.perf_counter()
                for _ in range(block):
                    fn()
                samples[name].append((time.perf_counter() - t0) / block)
    return {name: summary(s) for name, s in samples.items()}


def auto_block(fn, target_s=0.002, cap=1000):
    """How many calls of ``fn`` make a sample of about ``target_s`` seconds (``fn`` is called twice)."""
    fn()
    t0 = time.perf_counter()
    fn()
    elapsed = time.perf_counter() - t0
    if elapsed <= 0:
        return cap
    return max(1, min(cap, int(target_s / elapsed)))
