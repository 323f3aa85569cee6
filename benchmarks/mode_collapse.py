"""Mode collapse made visible on ring8: a plain GAN next to the toy defaults (R1 0.1 + EMA 0.999).

    OPENBLAS_NUM_THREADS=1 python -m benchmarks.mode_collapse --jobs 2   # seeds 0-5, pictures of seed 0
    python -m benchmarks.mode_collapse --seeds 0 1 --picture-seed 1 --iters 2000
    python -m benchmarks.mode_collapse --plain-loss minimax              # the original minimax game instead

Both settings are `minigan train --model toy --dataset ring8 --seed S` run through the library
(minigan.gan.run), with the same seed and iterations. The plain GAN is the toy defaults with R1 and
the EMA turned off and everything else kept (the non-saturating loss of Goodfellow et al. (2014), MLPs,
Adam 1e-3 with betas 0.5/0.999, batch 256, 8000 iterations), so that the fix is the only difference
between the two. With the original minimax loss (`--plain-loss minimax`) the plain GAN fails more
often, but mostly by never settling on the modes rather than by leaving some empty. The fix is the toy
defaults unchanged. Each run
is scored the way `minigan eval` scores it: 2,500 samples, the VEEGAN/PacGAN protocol of
minigan.metrics.mode_metrics. Writes into --out (benchmarks/results/mode-collapse): ring8.png (plain
left, fix right, for --picture-seed), ring8-plain-over-time.png (the plain run's fixed-noise samples
as it trains) and ring8.md (one row per seed and setting, and the command). With --jobs 2 two runs
share the CPU: give each one BLAS thread (OPENBLAS_NUM_THREADS=1), as the committed figures were made.
"""
import argparse
import concurrent.futures
import os
import platform
import shutil
import sys
import tempfile
import time

import numpy as np

from minigan import plots
from minigan.gan import run
from minigan.gan.callbacks import SAMPLE_NAME
from minigan.gan.evaluation import POINT_SAMPLES, draw
from minigan.metrics import mode_metrics

HERE = os.path.dirname(os.path.abspath(__file__))
DATASET = "ring8"
TOY = run.MODEL_DEFAULTS["toy"]
FIX = {}  # the toy defaults as they are
NO_FIX = {"r1": 0.0, "ema": 0.0}
PANEL = 560
SNAPSHOT = 280
SNAPSHOTS = 6


def settings(plain_loss):
    """(name, flags, description) of the two settings compared, plain first."""
    plain = dict(NO_FIX, loss=plain_loss)
    return [("plain", plain, f"plain GAN: {plain_loss} loss, no R1, no EMA"),
            ("fix", FIX, f"toy defaults: non-saturating loss, R1 {TOY['r1']:g} + EMA {TOY['ema']:g}")]


def train_one(name, flags, seed, iters, workdir):
    """Train one setting for one seed; its scores, the 2,500 scored samples and the run folder."""
    cfg = run.resolve_config(model="toy", dataset=DATASET, seed=seed, iters=iters, **flags)
    out = os.path.join(workdir, f"{name}-{seed}")
    start = time.perf_counter()
    trainer = run.train(cfg, out, progress=False)
    seconds = time.perf_counter() - start
    meta = run.load_data(cfg).meta
    # The same draw as the run's metrics.json (and `minigan eval`): noise seeded by the run's seed.
    samples = draw(lambda z, y: trainer.sample(z, y), trainer.nz, POINT_SAMPLES, seed)
    scores = mode_metrics(samples, meta["modes"], meta["std"])
    return {"setting": name, "seed": seed, "seconds": seconds, "samples": samples, "out": out,
            "modes": scores["modes_captured"], "num_modes": scores["num_modes"],
            "high_quality": scores["high_quality"], "mode_counts": scores["mode_counts"],
            "config": cfg.to_dict(), "meta": {"modes": meta["modes"], "std": meta["std"]}}


def with_header(picture, lines):
    """``picture`` under a white strip holding ``lines`` of text, centred."""
    Image, ImageDraw, _ = plots.pillow()
    font = plots.load_font(15)
    line_height = 22
    framed = Image.new("RGB", (picture.width, picture.height + line_height * len(lines) + 8), plots.BACKGROUND)
    framed.paste(picture, (0, line_height * len(lines) + 8))
    pen = ImageDraw.Draw(framed)
    for i, line in enumerate(lines):
        pen.text((picture.width / 2, 6 + line_height * i), line, font=font, fill=plots.INK, anchor="mt")
    return framed


def side_by_side(pictures, gap=12):
    """Pillow pictures of equal height in one row, on white, ``gap`` pixels apart."""
    Image, _, _ = plots.pillow()
    width = sum(p.width for p in pictures) + gap * (len(pictures) - 1)
    row = Image.new("RGB", (width, max(p.height for p in pictures)), plots.BACKGROUND)
    x = 0
    for picture in pictures:
        row.paste(picture, (x, 0))
        x += picture.width + gap
    return row


def comparison_picture(rows, descriptions):
    """The two settings' 2,500 samples over the ring's modes, plain left, fix right."""
    panels = []
    for r in rows:
        title = (f"seed {r['seed']}: {r['modes']} of {r['num_modes']} modes, "
                 f"{100 * r['high_quality']:.1f}% high quality")
        panel = plots.draw_points(r["samples"], r["meta"]["modes"], r["meta"]["std"], title=title,
                                  size=(PANEL, PANEL), mode_labels=[str(c) for c in r["mode_counts"]])
        panels.append(with_header(panel, [descriptions[r["setting"]]]))
    return side_by_side(panels)


def over_time_picture(run_dir, description):
    """Up to SNAPSHOTS of the run's fixed-noise sample pictures (samples/iter_*.png), evenly spread."""
    Image, _, _ = plots.pillow()
    folder = os.path.join(run_dir, "samples")
    iterations = sorted(int(name[5:12]) for name in os.listdir(folder) if name.startswith("iter_"))
    chosen = sorted({iterations[int(round(i))] for i in np.linspace(0, len(iterations) - 1, SNAPSHOTS)})
    pictures = []
    for it in chosen:
        with Image.open(os.path.join(folder, SAMPLE_NAME.format(it))) as picture:
            pictures.append(picture.convert("RGB").resize((SNAPSHOT, SNAPSHOT), Image.LANCZOS))
    return with_header(side_by_side(pictures, gap=4), [f"{description}: 1,000 fixed-noise samples as it trains"])


def report(rows, descriptions, args, command):
    plain = [r for r in rows if r["setting"] == "plain"]
    fixed = [r for r in rows if r["setting"] == "fix"]
    missed = sum(r["modes"] < r["num_modes"] for r in plain)
    config = rows[0]["config"]
    load = " ".join(f"{x:.1f}" for x in os.getloadavg()) if hasattr(os, "getloadavg") else "unknown"
    shared = ", ".join(f"{k} {config[k]}" for k in ("iters", "batch_size", "lr", "betas"))
    lines = [f"# Mode collapse on {DATASET}: a plain GAN next to the toy defaults", "",
             f"Both settings are `minigan train --model toy --dataset {DATASET}` with the same seed and {shared}.",
             f"- plain: {descriptions['plain']} (`--loss {plain[0]['config']['loss']} --r1 0 --ema 0`).",
             f"- fix: {descriptions['fix']} (no flags).", "",
             "Scores: 2,500 samples (VEEGAN/PacGAN protocol, minigan.metrics.mode_metrics): a sample is high quality "
             "within 3 standard deviations (0.06) of its nearest mode; a mode is captured when it is the nearest mode "
             "of a high-quality sample. The last column counts the high-quality samples at each mode, so a mode held "
             "by a handful of samples shows.",
             f"Machine: {platform.machine()}, {os.cpu_count()} logical CPUs, Python {platform.python_version()}, load "
             f"average {load} when the runs ended, {args.jobs} run(s) at a time, OPENBLAS_NUM_THREADS "
             f"{os.environ.get('OPENBLAS_NUM_THREADS', 'unset')}; seconds are the wall time of "
             "training, sample pictures and the run's own scoring.",
             f"Reproduce: `{command}`.", "",
             "| seed | setting | modes | high quality | high-quality samples per mode | seconds |",
             "| --- | --- | --- | --- | --- | --- |"]
    for r in rows:
        counts = " ".join(str(c) for c in r["mode_counts"])
        lines.append(f"| {r['seed']} | {r['setting']} | {r['modes']} / {r['num_modes']} | "
                     f"{100 * r['high_quality']:.1f}% | {counts} | {r['seconds']:.0f} |")
    lines += ["", "| setting | seeds | mean modes | mean high quality | seeds missing a mode |",
              "| --- | --- | --- | --- | --- |"]
    for name, mine in (("plain", plain), ("fix", fixed)):
        modes = sum(r["modes"] for r in mine) / len(mine)
        quality = sum(r["high_quality"] for r in mine) / len(mine)
        short = sum(r["modes"] < r["num_modes"] for r in mine)
        lines.append(f"| {name} | {len(mine)} | {modes:.2f} | {100 * quality:.1f}% | {short} of {len(mine)} |")
    lines += ["", f"The plain GAN missed at least one mode on {missed} of {len(plain)} seeds. "
              f"Pictures (seed {args.picture_seed}): {DATASET}.png (plain left, fix right) and "
              f"{DATASET}-plain-over-time.png."]
    return "\n".join(lines) + "\n"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2, 3, 4, 5])
    parser.add_argument("--picture-seed", type=int, default=None,
                        help="seed drawn in the pictures (default: the first)")
    parser.add_argument("--iters", type=int, default=None, help="iterations of both settings (default: the toy's 8000)")
    parser.add_argument("--plain-loss", default="non-saturating",
                        help="the plain GAN's loss (default: non-saturating, the toy's own)")
    parser.add_argument("--jobs", type=int, default=1, help="runs at once, in separate processes (timings are then "
                        "pessimistic)")
    parser.add_argument("--out", default=os.path.join(HERE, "results", "mode-collapse"))
    args = parser.parse_args(argv)
    args.picture_seed = args.seeds[0] if args.picture_seed is None else args.picture_seed
    if args.picture_seed not in args.seeds:
        parser.error(f"--picture-seed {args.picture_seed} is not one of --seeds {args.seeds}")
    compared = settings(run.canonical_loss(args.plain_loss))
    descriptions = {name: text for name, _, text in compared}
    workdir = tempfile.mkdtemp(prefix="minigan-collapse-")
    jobs = [(name, flags, seed, args.iters, workdir) for seed in args.seeds for name, flags, _ in compared]
    try:
        if args.jobs > 1:
            with concurrent.futures.ProcessPoolExecutor(max_workers=args.jobs) as pool:
                futures = [pool.submit(train_one, *job) for job in jobs]
                rows = [f.result() for f in futures]
        else:
            rows = [train_one(*job) for job in jobs]
        for r in rows:
            print(f"seed {r['seed']} {r['setting']}: {r['modes']}/{r['num_modes']} modes, "
                  f"{100 * r['high_quality']:.1f}% high quality, {r['seconds']:.0f} s", flush=True)
        os.makedirs(args.out, exist_ok=True)
        pair = [r for r in rows if r["seed"] == args.picture_seed]
        comparison_picture(pair, descriptions).save(os.path.join(args.out, f"{DATASET}.png"))
        over_time_picture(pair[0]["out"], f"{descriptions['plain']}, seed {args.picture_seed}").save(
            os.path.join(args.out, f"{DATASET}-plain-over-time.png"))
        given = sys.argv[1:] if argv is None else argv
        threads = os.environ.get("OPENBLAS_NUM_THREADS")
        prefix = [f"OPENBLAS_NUM_THREADS={threads}"] if threads else []
        command = " ".join(prefix + ["python -m benchmarks.mode_collapse", *given])
        with open(os.path.join(args.out, f"{DATASET}.md"), "w", encoding="utf-8") as f:
            f.write(report(rows, descriptions, args, command))
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    print(f"wrote {DATASET}.png, {DATASET}-plain-over-time.png and {DATASET}.md in {args.out}")


if __name__ == "__main__":
    main()
