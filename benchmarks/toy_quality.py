"""Mode coverage of `minigan train --model toy` with its defaults, over several seeds.

    python -m benchmarks.toy_quality                    # ring8 and grid25, seeds 0-4
    python -m benchmarks.toy_quality --sets ring8 --seeds 0 1

Each run is the plain command a user types (`minigan train --model toy --dataset SET --seed S`), in its
own process, so its wall time includes start-up, data, sample pictures and the final scoring. Writes
benchmarks/results/toy_quality.md with one row per run and the averages next to the targets
(ring8: >= 7.5 of 8 modes and >= 90% high quality; grid25: >= 24 of 25 modes and >= 80%).
"""
import argparse
import concurrent.futures
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time

TARGETS = {"ring8": (7.5, 0.90), "grid25": (24.0, 0.80)}
HERE = os.path.dirname(os.path.abspath(__file__))


def run_command(command):
    """Run ``command``; return (wall seconds, CPU seconds of the process and its threads or None)."""
    start = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL)
    if hasattr(os, "wait4"):  # POSIX: the child's own resource usage, even with several jobs at once
        _, status, usage = os.wait4(process.pid, 0)
        process.returncode = os.waitstatus_to_exitcode(status)
        cpu = usage.ru_utime + usage.ru_stime
    else:
        process.wait()
        cpu = None
    if process.returncode != 0:
        raise subprocess.CalledProcessError(process.returncode, command)
    return time.perf_counter() - start, cpu


def run_one(dataset, seed, workdir):
    out = os.path.join(workdir, f"{dataset}-{seed}")
    command = ["minigan", "train", "--model", "toy", "--dataset", dataset, "--seed", str(seed), "--out", out]
    seconds, cpu = run_command(command)
    with open(os.path.join(out, "metrics.json"), encoding="utf-8") as f:
        metrics = json.load(f)
    with open(os.path.join(out, "config.json"), encoding="utf-8") as f:
        config = json.load(f)
    return {"dataset": dataset, "seed": seed, "seconds": seconds, "cpu": cpu, "command": " ".join(command[:-2]),
            "modes": metrics["modes_captured"], "num_modes": metrics["num_modes"],
            "high_quality": metrics["high_quality"], "config": config}


def report(rows, jobs):
    config = rows[0]["config"]
    load = " ".join(f"{x:.1f}" for x in os.getloadavg()) if hasattr(os, "getloadavg") else "unknown"
    settings = ", ".join(f"{k} {config[k]}" for k in ("loss", "iters", "batch_size", "lr", "betas", "r1", "ema"))
    lines = ["# Toy-set quality of `minigan train --model toy`", "",
             "Protocol (VEEGAN, PacGAN): 2,500 samples; a sample is high quality within 3 standard deviations "
             "(0.06) of its nearest mode; a mode is captured when it is the nearest mode of a high-quality sample.",
             f"Defaults used: {settings}.",
             f"Machine: {platform.machine()}, {os.cpu_count()} logical CPUs, Python {platform.python_version()}, "
             f"load average {load} when the runs ended, {jobs} run(s) at a time, OPENBLAS_NUM_THREADS "
             f"{os.environ.get('OPENBLAS_NUM_THREADS', 'unset')}; wall time per run includes start-up, pictures and "
             "scoring; CPU seconds are the run's own (all its threads).",
             "Reproduce: `python -m benchmarks.toy_quality` (each row is the command shown plus `--out DIR`).", "",
             "| set | seed | modes | high quality | wall s | CPU s | command |",
             "| --- | --- | --- | --- | --- | --- | --- |"]
    for r in rows:
        cpu = "-" if r["cpu"] is None else f"{r['cpu']:.0f}"
        lines.append(f"| {r['dataset']} | {r['seed']} | {r['modes']} / {r['num_modes']} | "
                     f"{100 * r['high_quality']:.1f}% | {r['seconds']:.0f} | {cpu} | `{r['command']}` |")
    lines += ["", "| set | runs | mean modes | mean high quality | target | met |",
              "| --- | --- | --- | --- | --- | --- |"]
    for dataset in dict.fromkeys(r["dataset"] for r in rows):
        mine = [r for r in rows if r["dataset"] == dataset]
        modes = sum(r["modes"] for r in mine) / len(mine)
        quality = sum(r["high_quality"] for r in mine) / len(mine)
        want_modes, want_quality = TARGETS[dataset]
        met = "yes" if modes >= want_modes and quality >= want_quality else "no"
        lines.append(f"| {dataset} | {len(mine)} | {modes:.2f} | {100 * quality:.1f}% | >= {want_modes:g} modes, "
                     f">= {100 * want_quality:.0f}% | {met} |")
    return "\n".join(lines) + "\n"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sets", nargs="+", default=list(TARGETS), choices=list(TARGETS))
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2, 3, 4])
    parser.add_argument("--jobs", type=int, default=1, help="runs at once (timings are then pessimistic)")
    parser.add_argument("--output", default=os.path.join(HERE, "results", "toy_quality.md"))
    args = parser.parse_args(argv)
    if shutil.which("minigan") is None:
        sys.exit("the minigan command is not installed: pip install -e '.[cli]'")
    workdir = tempfile.mkdtemp(prefix="minigan-toy-")
    jobs = [(dataset, seed) for dataset in args.sets for seed in args.seeds]
    with concurrent.futures.ThreadPoolExecutor(max_workers=args.jobs) as pool:
        futures = [pool.submit(run_one, dataset, seed, workdir) for dataset, seed in jobs]
        rows = []
        for future in futures:
            r = future.result()
            rows.append(r)
            print(f"{r['dataset']} seed {r['seed']}: {r['modes']}/{r['num_modes']} modes, "
                  f"{100 * r['high_quality']:.1f}% high quality, {r['seconds']:.0f} s", flush=True)
    os.makedirs(os.path.dirname(args.output), exist_ok=True)
    with open(args.output, "w", encoding="utf-8") as f:
        f.write(report(rows, args.jobs))
    shutil.rmtree(workdir, ignore_errors=True)
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
