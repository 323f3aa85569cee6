"""Results as JSON (everything) and a markdown report (the tables), timestamped and as ``latest``."""
import json
import os


def _ms(seconds):
    return "-" if seconds is None else f"{seconds * 1e3:,.3g}" if seconds < 1e-2 else f"{seconds * 1e3:,.1f}"


def _ratio(x):
    return "-" if x is None else f"{x:.2f}x"


def machine_lines(m):
    return [
        "| | |", "|---|---|",
        f"| CPU | {m['cpu']} ({m['cores']} cores; {', '.join(m['cpu_flags'])}) |",
        f"| load average (1, 5, 15 min) at start | {m['load_average_1_5_15']} |",
        f"| Python | {m['python']} ({m['platform']}) |",
        f"| NumPy | {m['numpy']}, BLAS {m['blas']} (core {m['blas_core']}), {m['blas_threads']} threads |",
        f"| Numba | {m['numba'] or 'not installed'} |",
        f"| PyTorch | {m['torch'] or 'not installed'}" + (f", {m['torch_threads']} threads |" if m["torch"] else " |"),
    ] + ([f"| GPU | {'; '.join(m['gpus'])} |",
          f"| CUDA | runtime {m['cuda_runtime']}, driver {m['cuda_driver']}; CuPy {m['cupy']}; "
          f"PyTorch built for CUDA {m['torch_cuda']} |"] if m.get("device") == "cuda" else [])


def workload_lines(rows):
    lines = ["| workload | batch | minigan median | PyTorch median | ratio (minigan / PyTorch) | samples | "
             "spread (IQR / median) minigan, PyTorch |", "|---|---|---|---|---|---|---|"]
    for r in rows:
        mg, pt = r["minigan"], r.get("torch")
        spread = f"{mg['iqr_over_median']:.0%}" + (f", {pt['iqr_over_median']:.0%}" if pt else "")
        lines.append(f"| {r['workload']} {r['title']} | {r['batch']} | {_ms(mg['median_s'])} ms | "
                     f"{_ms(pt['median_s']) + ' ms' if pt else '-'} | {_ratio(r.get('ratio'))} | {mg['repeats']} | "
                     f"{spread} |")
    return lines


def memory_lines(rows):
    lines = ["| workload | framework | batch | peak RSS | after set-up, before the first iteration |",
             "|---|---|---|---|---|"]
    for r in rows:
        if "error" in r:
            lines.append(f"| {r['workload']} | {r['framework']} | - | failed: {r['error']} | |")
        else:
            lines.append(f"| {r['workload']} | {r['framework']} | {r['batch']} | {r['peak_mb']:.0f} MB | "
                         f"{r['baseline_mb']:.0f} MB |")
    return lines


def kernel_lines(rows):
    lines = ["| operation | case | implementation | median | vs reference | GFLOP/s |", "|---|---|---|---|---|---|"]
    for r in rows:
        gflops = f"{r['gflops']:.0f}" if r.get("gflops") else ""
        lines.append(f"| {r['group']} | {r['case']} | {r['impl']} | {_ms(r['median_s'])} ms | "
                     f"{_ratio(r['speedup_vs_reference'])} | {gflops} |")
    return lines


def profile_lines(profile):
    g = profile["gemm"]
    lines = [f"One {profile['workload']} iteration of minigan, batch {profile['batch']}: median "
             f"{_ms(g['iteration_s'])} ms untraced; GEMM **{g['gemm_share']:.0%}** of it "
             f"({_ms(g['gemm_s'])} ms, {g['gemm_calls_per_iteration']} matrix products), everything else "
             f"{_ms(g['other_s'])} ms. Seconds per GEMM line, in traced iterations:", "",
             "| GEMM line | calls | ms per iteration |", "|---|---|---|"]
    for where, e in g["gemm_by_line"].items():
        lines.append(f"| {where} | {e['calls']} | {_ms(e['seconds'])} |")
    lines += ["", f"cProfile of one iteration ({_ms(profile['cprofile']['total_s'])} ms under the profiler), "
              "top entries by tottime (a GEMM's time shows in the tottime of the function that holds its `@`):",
              "", "| function | calls | tottime ms | cumtime ms |", "|---|---|---|---|"]
    for r in profile["cprofile"]["top"]:
        lines.append(f"| `{r['function']}` | {r['calls']} | {_ms(r['tottime_s'])} | {_ms(r['cumtime_s'])} |")
    return lines


def markdown(result):
    meta, m = result["meta"], result["machine"]
    lines = [f"# minigan benchmarks, {meta['timestamp']}", "",
             f"Command: `{meta['command']}` ({meta['duration_s']:.0f} s; load average at the end "
             f"{meta['load_average_end']}). Medians; minigan and PyTorch ran interleaved in the same process "
             "(see benchmarks/README.md).", "", "## Machine", ""] + machine_lines(m)
    if result.get("workloads"):
        lines += ["", f"## Workloads on {m.get('device', 'cpu')} (one D step + one G step, float32, Adam)", ""
                  ] + workload_lines(result["workloads"])
    if result.get("memory"):
        lines += ["", "## Peak memory (each run in a fresh process)", ""] + memory_lines(result["memory"])
    if result.get("profile"):
        lines += ["", "## Where the time goes", ""] + profile_lines(result["profile"])
    if result.get("kernels"):
        lines += ["", f"## Kernels on {m.get('device', 'cpu')} (same inputs for every implementation)", ""
                  ] + kernel_lines(result["kernels"])
    return "\n".join(lines) + "\n"


def write(result, out_dir):
    """Write ``<stamp>.json``, ``<stamp>.md``, ``latest.json`` and ``latest.md``; returns the paths."""
    os.makedirs(out_dir, exist_ok=True)
    stamp = result["meta"]["timestamp"].replace(":", "").replace("-", "")
    text_json = json.dumps(result, indent=1, default=float)
    text_md = markdown(result)
    paths = []
    for name, text in ((f"{stamp}.json", text_json), (f"{stamp}.md", text_md),
                       ("latest.json", text_json), ("latest.md", text_md)):
        path = os.path.join(out_dir, name)
        with open(path + ".tmp", "w") as f:
            f.write(text)
        os.replace(path + ".tmp", path)
        paths.append(path)
    return paths
