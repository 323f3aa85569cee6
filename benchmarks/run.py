"""The benchmark run: kernels, workloads (against PyTorch where installed), memory, profile, report.

``python -m benchmarks`` from the repository root, or ``main(argv)`` (what ``minigan bench`` calls).
"""
import argparse
import datetime
import os
import shlex
import sys
import time

from minigan.host_memory import keep_freed_memory

from . import kernel_bench, machine, memory, profiling, report, workloads
from .timing import GPU_PAUSE_S, interleaved, switch_pause

HERE = os.path.dirname(os.path.abspath(__file__))
# Inside a source checkout (run from its root) results go to benchmarks/results/, next to this file;
# anywhere else, as when the installed package runs as ``minigan bench``, to the current folder.
IN_CHECKOUT = os.path.isfile(os.path.join(os.path.dirname(HERE), "pyproject.toml"))
RESULTS = (os.path.join(HERE, "results") if IN_CHECKOUT and os.path.samefile(os.getcwd(), os.path.dirname(HERE))
           else os.path.abspath("minigan-bench-results"))
PROG = "minigan bench" if __package__ == "minigan.benchmarks" else "python -m benchmarks"

# Per workload: (samples, interleaving rounds) of a full run. A round times a block of
# samples / rounds iterations of each framework, after a pause and one untimed iteration.
FULL = {"W1": (50, 5), "W2": (15, 5), "W2R1": (15, 5), "W3": (4, 4)}
QUICK_BATCH = {"W1": 16, "W2": 16, "W2R1": 16, "W3": 2}


def _parser():
    p = argparse.ArgumentParser(
        prog=PROG,
        description="Time minigan's kernels and the W1/W2/W2R1/W3 GAN workloads (against PyTorch where it is "
                    "installed), measure peak memory and profile W2; write JSON and markdown results.")
    p.add_argument("--workloads", default="W1,W2,W2R1,W3",
                   help="comma-separated workloads to run end to end (default: W1,W2,W2R1,W3; empty: none)")
    p.add_argument("--kernels-only", action="store_true", help="only the kernel benchmarks")
    p.add_argument("--no-kernels", action="store_true", help="skip the kernel benchmarks")
    p.add_argument("--repeats", type=int, help="timed samples per candidate (default: per workload, 10 for kernels)")
    p.add_argument("--quick", action="store_true",
                   help="tiny sizes and 2 samples: a smoke test of the harness, not a measurement")
    p.add_argument("--batch", type=int, help="batch size of the workloads (default 128; --quick: tiny)")
    p.add_argument("--threads", type=int, default=2,
                   help="threads for NumPy's BLAS, PyTorch and Numba alike (default 2)")
    p.add_argument("--device", default="cpu", choices=["cpu", "cuda"],
                   help="where minigan and PyTorch run (default cpu); on cuda every timed sample waits for "
                        "the GPU, and peak RSS and the profile are skipped (they measure the CPU)")
    p.add_argument("--no-torch", action="store_true", help="do not compare with PyTorch even if installed")
    p.add_argument("--no-memory", action="store_true", help="skip the peak-RSS runs")
    p.add_argument("--no-profile", action="store_true", help="skip the profile and GEMM share of W2")
    p.add_argument("--out", default=RESULTS, help=f"results folder (default {RESULTS})")
    return p


def _import_torch(args, log):
    if args.no_torch:
        return None
    try:
        import torch
    except ImportError:
        log("PyTorch is not installed: minigan only (pip install torch==2.13.0 to compare)")
        return None
    torch.set_num_threads(args.threads)
    return torch


def set_threads(n, log):
    """n threads for NumPy's BLAS and for Numba (where it is installed); ``log`` says if BLAS would not."""
    if not machine.set_blas_threads(n):
        log(f"could not set NumPy's BLAS threads (BLAS: {machine.blas_name()}); it uses its default")
    try:
        import numba
        numba.set_num_threads(min(n, numba.config.NUMBA_NUM_THREADS))
    except ImportError:
        pass


def run_workloads(names, args, torch, log):
    rows = []
    for name in names:
        batch = args.batch or (QUICK_BATCH[name] if args.quick else 128)
        samples, rounds = (2, 1) if args.quick else FULL[name]
        if args.repeats:
            samples, rounds = args.repeats, min(rounds, args.repeats)
        spec = workloads.SPECS[name]()
        log(f"{name} {spec.title}: batch {batch}, {samples} samples in {rounds} rounds")
        candidates = {"minigan": workloads.MiniganWorkload(spec, batch, device=args.device).step}
        if torch is not None:
            candidates["torch"] = workloads.TorchWorkload(spec, batch, device=args.device).step
        timings = interleaved(candidates, repeats=samples, rounds=rounds, pause=_pause(args))
        row = {"workload": name, "title": spec.title, "batch": batch, **timings}
        if "torch" in timings:
            row["ratio"] = timings["minigan"]["median_s"] / timings["torch"]["median_s"]
        rows.append(row)
        line = f"  minigan {timings['minigan']['median_s'] * 1e3:.1f} ms"
        if torch is not None:
            line += f", torch {timings['torch']['median_s'] * 1e3:.1f} ms, ratio {row['ratio']:.2f}"
        log(line)
    return rows


def _pause(args):
    """The sleep before each timed block (benchmarks.timing.switch_pause); short in a smoke test."""
    return GPU_PAUSE_S if args.quick else switch_pause(args.device)


def run_memory(names, args, torch, log):
    rows = []
    for name in names:
        batch = args.batch or (QUICK_BATCH[name] if args.quick else 128)
        for framework in ["minigan"] + (["torch"] if torch is not None else []):
            log(f"peak RSS: {name} {framework}")
            rows.append(memory.peak_rss(name, framework, batch, iterations=2 if args.quick else 3,
                                        threads=args.threads))
    return rows


def run_profile(name, args, log):
    batch = args.batch or (QUICK_BATCH[name] if args.quick else 128)
    log(f"profile: {name} minigan, batch {batch}")
    w = workloads.make(name, "minigan", batch)
    w.step()
    gemm = profiling.gemm_share(w.step, iterations=1 if args.quick else 5)
    return {"workload": name, "batch": batch, "gemm": gemm, "cprofile": profiling.cprofile(w.step)}


def main(argv=None):
    """Run the benchmarks ``argv`` asks for (see ``--help``); returns 0, and writes the results."""
    args = _parser().parse_args(argv)
    names = [] if args.kernels_only else [w.strip().upper() for w in args.workloads.split(",") if w.strip()]
    unknown = [w for w in names if w not in workloads.SPECS]
    if unknown:
        _parser().error(f"unknown workloads {unknown}; choose from {sorted(workloads.SPECS)}")

    def log(message):
        print(message, file=sys.stderr, flush=True)

    start = time.time()
    set_threads(args.threads, log)
    keep_freed_memory()  # as the minigan command does; PyTorch's CPU allocator calls the same malloc
    torch = _import_torch(args, log)
    if args.device == "cuda":
        import minigan
        if not minigan.cuda.is_available():
            _parser().error(f"--device cuda: {minigan.cuda.unavailable_reason()}")
        if torch is not None and not torch.cuda.is_available():
            log("this PyTorch has no CUDA: minigan only on cuda")
            torch = None
    result = {
        "meta": {"timestamp": datetime.datetime.now().strftime("%Y-%m-%dT%H:%M:%S"),
                 "command": PROG + " " + shlex.join(sys.argv[1:] if argv is None else argv),
                 "quick": args.quick, "threads": args.threads},
        "machine": machine.info(torch, args.device),
    }
    if not args.no_kernels:
        cfg = (kernel_bench.Settings("quick", args.repeats or 2, 1, _pause(args), args.device) if args.quick else
               kernel_bench.Settings("full", args.repeats or 10, min(2, args.repeats or 2), _pause(args),
                                     args.device))
        result["kernels"] = kernel_bench.run(cfg, torch=torch, log=log)
    if names:
        result["workloads"] = run_workloads(names, args, torch, log)
        if not args.no_memory and args.device == "cpu":
            result["memory"] = run_memory(names, args, torch, log)
        if not args.no_profile and args.device == "cpu":
            result["profile"] = run_profile("W2" if "W2" in names else names[0], args, log)
    result["meta"]["duration_s"] = time.time() - start
    result["meta"]["load_average_end"] = machine.load_average()
    for path in report.write(result, args.out):
        log(f"wrote {path}")
    print(report.markdown(result))
    return 0
