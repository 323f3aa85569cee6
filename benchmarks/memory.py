"""Peak memory of a workload: its iterations run in a fresh Python process, which reports its peak RSS.

A process's peak resident set size never goes down, so it must be measured in a process that has
done nothing else: ``peak_rss`` starts ``python -m benchmarks.memory`` for one workload and one
framework, which builds the models, runs the iterations and prints JSON. ``baseline_mb`` is the peak
after the imports and the model set-up, before the first iteration.

On Linux the peak is ``VmHWM`` of /proc/self/status, the high-water mark of this address space.
``getrusage().ru_maxrss`` is not used there: it survives ``exec``, so a child started from a large
parent reports at least the parent's size (the fork copied its page tables).
"""
import argparse
import json
import os
import resource
import subprocess
import sys

# The folder that holds the top-level package (the repository root for ``benchmarks``), for the child's
# import path; relative imports keep this package importable under another name as well.
REPO_ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), *[".."] * len(__package__.split("."))))


def _peak_mb():
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024  # kB
    except OSError:
        pass
    # ru_maxrss is in kilobytes on Linux, bytes on macOS
    scale = 1 if sys.platform == "darwin" else 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * scale / 2 ** 20


def peak_rss(workload, framework, batch, iterations=3, threads=2, timeout=900):
    """Run ``workload`` in a fresh process; returns its report (peak_mb, baseline_mb, ...)."""
    command = [sys.executable, "-m", f"{__package__}.memory", workload, framework, "--batch", str(batch),
               "--iterations", str(iterations), "--threads", str(threads)]
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [REPO_ROOT, os.environ.get("PYTHONPATH")])))
    done = subprocess.run(command, cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=timeout)
    if done.returncode != 0:
        return {"workload": workload, "framework": framework, "error": done.stderr.strip().splitlines()[-1:]}
    return json.loads(done.stdout.strip().splitlines()[-1])


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m benchmarks.memory", description=__doc__)
    parser.add_argument("workload", choices=["W1", "W2", "W2R1", "W3"])
    parser.add_argument("framework", choices=["minigan", "torch"])
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--iterations", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args(argv)

    from minigan.host_memory import keep_freed_memory

    from . import machine, workloads
    machine.set_blas_threads(args.threads)
    keep_freed_memory()  # the minigan command's setting, so the peak is the one a run has
    if args.framework == "torch":
        import torch
        torch.set_num_threads(args.threads)
    w = workloads.make(args.workload, args.framework, args.batch)
    baseline = _peak_mb()
    for _ in range(args.iterations):
        w.step()
    print(json.dumps({"workload": args.workload, "framework": args.framework, "batch": args.batch,
                      "iterations": args.iterations, "baseline_mb": round(baseline, 1),
                      "peak_mb": round(_peak_mb(), 1)}))


if __name__ == "__main__":
    main()
