"""The ``minigan`` command: train a GAN, draw samples from a run, score a run, describe the install.

    minigan train                       # DCGAN on the embedded MNIST digits, about five minutes on a CPU
    minigan train --model toy --dataset ring8
    minigan sample RUN_DIR -n 64 -o digits.png
    minigan eval RUN_DIR
    minigan info

Mistakes a user can fix (a bad name, a missing folder, a checkpoint that does not fit) print one line
saying what was wrong and what to do, and exit with status 2; a run stopped by a NaN loss exits with 1.
"""
import argparse
import os
import platform
import sys

EXIT_BAD_INPUT = 2
EXIT_FAILED = 1


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line (and exit status 2), not the usage block."""

    def error(self, message):
        raise _UsageError(f"{self.prog}: {message} (see {self.prog} --help)")


class _UsageError(Exception):
    pass


def _need_cli_extras():
    """Pillow draws the pictures; say how to install it rather than failing deep inside a run."""
    try:
        import PIL  # noqa: F401
    except ImportError:
        raise _UsageError("minigan: the command needs Pillow to draw pictures: pip install 'minigan[cli]' "
                          "(or pip install pillow tqdm)") from None


def _parser():
    from minigan.gan.losses import ALIASES, LOSSES
    from minigan.gan.models import MODELS

    parser = _Parser(prog="minigan", description="Train generative adversarial networks on NumPy (and CuPy).")
    sub = parser.add_subparsers(dest="command", parser_class=_Parser)

    t = sub.add_parser("train", help="train a GAN (no flags: DCGAN on the embedded MNIST digits)",
                       description="Train a GAN. Every flag has a per-model default; config.json in the run "
                                   "folder records the resolved values.")
    t.add_argument("--model", choices=MODELS, help="network pair (default dcgan)")
    t.add_argument("--dataset", help="mnist, fashion-mnist, ring8, grid25, or a folder of images")
    t.add_argument("--data-dir", help="folder holding the MNIST / Fashion-MNIST IDX files")
    t.add_argument("--download", action="store_true", default=None,
                   help="download full MNIST / Fashion-MNIST (sha256-checked, cached) if not found")
    t.add_argument("--loss", help=f"one of {', '.join(sorted(LOSSES))} (aliases {', '.join(sorted(ALIASES))}); "
                                  "default relativistic for dcgan, non-saturating otherwise")
    t.add_argument("--iters", type=int, help="generator steps (iterations; default 1500 for dcgan)")
    t.add_argument("--batch-size", type=int, help="samples per batch (default 128)")
    t.add_argument("--optimizer", help="adam (default), rmsprop or sgd")
    t.add_argument("--lr", type=float, help="learning rate of both networks (default 2e-4)")
    t.add_argument("--lr-g", type=float, help="learning rate of the generator (default: --lr)")
    t.add_argument("--lr-d", type=float, help="learning rate of the discriminator (default: --lr)")
    t.add_argument("--betas", type=float, nargs=2, metavar=("BETA1", "BETA2"), help="Adam's betas (default 0.5 0.999)")
    t.add_argument("--n-critic", type=int, help="discriminator steps per generator step (default 1)")
    t.add_argument("--d-batch", choices=("separate", "joint"),
                   help="D sees real and fake as separate batches or one joint batch (shared batch-norm "
                        "statistics; default joint for dcgan, separate otherwise)")
    t.add_argument("--d-norm", choices=("batch", "layer"),
                   help="D's normalisation where it has batch norm: batch, or layer (per sample, as gradient "
                        "penalties need; default layer with --r1 or --loss wgan-gp, batch otherwise)")
    t.add_argument("--label-smoothing", type=float, help="real label 1 - s for D (one-sided; default 0)")
    t.add_argument("--label-flip", type=float, help="probability of labelling a real sample fake (default 0)")
    t.add_argument("--instance-noise", type=float, help="std of Gaussian noise on D's inputs, annealed to 0")
    t.add_argument("--instance-noise-iters", type=int,
                   help="iterations over which the instance noise anneals to 0 (default: the whole run)")
    t.add_argument("--r1", type=float, help="R1 penalty weight gamma (default 10 for dcgan, 0.1 for toy, 0 (off) for "
                                            "the other models and with the WGAN losses)")
    t.add_argument("--r1-batch", type=int, metavar="N",
                   help="take the R1 penalty on the first N real samples of each batch only (default 32 for dcgan, "
                        "all otherwise)")
    t.add_argument("--feature-matching", type=float, metavar="WEIGHT",
                   help="weight of feature matching in G's loss (default 0: off)")
    t.add_argument("--mmd", type=float, metavar="WEIGHT",
                   help="weight in G's loss of the MMD between D's features of real and fake (default 0: off)")
    t.add_argument("--ema", type=float, help="EMA decay of G's weights for sampling, e.g. 0.999 (0: off)")
    t.add_argument("--nz", type=int, help="size of the noise vector z")
    t.add_argument("--seed", type=int, help="random seed (default 0)")
    t.add_argument("--device", help="cpu (default), cuda or cuda:N")
    t.add_argument("--out", help="run folder (default runs/<model>-<dataset>)")
    t.add_argument("--sample-every", type=int,
                   help="iterations between sample grids (default 100; 0: only at the end)")
    t.add_argument("--samples", type=int, help="fixed-noise samples per picture (default 64 images or 1000 points)")
    t.add_argument("--checkpoint-every", type=int,
                   help="iterations between checkpoints (default 500 for dcgan; 0: only at the end)")
    t.add_argument("--resume", metavar="RUN_DIR", help="continue the run in RUN_DIR from its checkpoint")

    s = sub.add_parser("sample", help="draw samples from a trained run")
    s.add_argument("run_dir", metavar="RUN_DIR")
    s.add_argument("-n", type=int, default=64, help="number of samples (default 64)")
    s.add_argument("-o", "--output", required=True, metavar="FILE",
                   help="FILE.png (a picture), FILE.npy or FILE.npz (float32 arrays in data space)")
    s.add_argument("--seed", type=int, default=0, help="seed of the noise (default 0)")
    s.add_argument("--label", type=int, help="class to draw (conditional models)")

    e = sub.add_parser("eval", help="score a run's generator and write metrics.json")
    e.add_argument("run_dir", metavar="RUN_DIR")

    sub.add_parser("info", help="versions, devices and available kernels")
    # Listed for --help only: main() hands everything after "bench" to the benchmark's own parser.
    sub.add_parser("bench", help="benchmark kernels and GAN workloads against PyTorch (minigan bench --help)")
    return parser


_TRAIN_FLAGS = ("model", "dataset", "data_dir", "download", "loss", "iters", "batch_size", "optimizer", "lr",
                "lr_g", "lr_d", "betas", "n_critic", "d_batch", "d_norm", "label_smoothing", "label_flip",
                "instance_noise", "instance_noise_iters", "r1", "r1_batch", "feature_matching", "mmd", "ema", "nz",
                "seed", "device", "out", "sample_every", "samples", "checkpoint_every")


def train_flags(argv):
    """The settings that ``minigan train ARGV`` gives, as keyword arguments of ``run.resolve_config``
    (None where a flag is not given); for scripts that build a run the way the command would."""
    return _train_settings(_parser().parse_args(["train", *argv]))


def _train_settings(args):
    return {k: getattr(args, k) for k in _TRAIN_FLAGS}


def _slow_kernels_note(cfg):
    """One line when a CPU run will use the NumPy reference kernels because Numba's did not load."""
    from minigan import kernels
    if cfg.device not in (None, "cpu"):
        return
    kernels.implementations(device="cpu")  # loads the CPU kernel modules, recording why one failed
    error = kernels.load_errors().get("numba_cpu")
    if error:
        print(f"minigan: note: the Numba CPU kernels did not load ({error}), so this run uses the NumPy "
              f"reference kernels and takes about 1.5x as long; pip install numba (part of 'minigan[cli]')",
              flush=True)


def _train(args):
    from minigan.gan import run
    from minigan.gan.trainer import NonFiniteLossError
    _need_cli_extras()
    flags = _train_settings(args)
    if args.resume:
        run_dir = args.resume
        if os.path.isfile(run_dir):  # the checkpoint file itself
            run_dir = os.path.dirname(run_dir) or "."
        if flags["out"] is not None and os.path.abspath(flags["out"]) != os.path.abspath(run_dir):
            raise run.RunError("--resume continues a run in its own folder; leave out --out")
        flags["out"] = None
        out = run_dir

        def announce(cfg, iteration):
            print(f"minigan: resuming {run_dir} at iteration {iteration} of {cfg.iters}", flush=True)
            _slow_kernels_note(cfg)
        start = lambda: run.resume(run_dir, announce=announce, **flags)  # noqa: E731
    else:
        cfg = run.resolve_config(**flags)
        out = cfg.out or run.default_out(cfg)

        def announce(cfg):  # once everything is checked: a bad setting gets its one line alone
            print(f"minigan: training {cfg.model} on {cfg.dataset} with the {cfg.loss} loss for {cfg.iters} "
                  f"iterations (batch {cfg.batch_size}, seed {cfg.seed}) into {cfg.out}", flush=True)
            _slow_kernels_note(cfg)
        start = lambda: run.train(cfg, out, announce=announce)  # noqa: E731
    try:
        trainer = start()
    except NonFiniteLossError as exc:
        checkpoint = os.path.join(out, "checkpoint.npz")
        kept = (f"the last good checkpoint, {checkpoint}, is kept" if os.path.exists(checkpoint)
                else "no checkpoint had been written yet")
        print(f"minigan: training stopped: {exc}; {kept}. Try a lower --lr, another --loss or --seed",
              file=sys.stderr)
        return EXIT_FAILED
    print(f"minigan: done. Samples: {os.path.join(out, 'samples.png')} (animation: "
          f"{os.path.join(out, 'progress.gif')}); losses: {os.path.join(out, 'losses.png')} (what D scores: "
          f"{os.path.join(out, 'scores.png')})")
    metrics = getattr(trainer, "metrics", None)
    if metrics:
        print("minigan: metrics: " + _format_metrics(metrics))
    return 0


def _format_metrics(metrics):
    parts = []
    for k, v in metrics.items():
        if isinstance(v, float):
            parts.append(f"{k} {v:.4g}")
        elif isinstance(v, (int, str)):
            parts.append(f"{k} {v}")
    return ", ".join(parts)


def _sample(args):
    import numpy as np

    from minigan.gan import run
    ext = os.path.splitext(args.output)[1].lower()
    if ext not in (".png", ".npy", ".npz"):
        raise run.RunError(f"-o {args.output}: the file name must end in .png, .npy or .npz")
    if os.path.isdir(args.output):
        raise run.RunError(f"-o {args.output} is a folder; give a file name ending in .png, .npy or .npz")
    if ext == ".png":
        _need_cli_extras()
    try:
        samples, meta = run.sample(args.run_dir, args.n, seed=args.seed, label=args.label)
    except MemoryError:
        raise run.RunError(f"-n {args.n}: not enough memory for that many samples; ask for fewer") from None
    samples = samples.astype(np.float32, copy=False)
    key = "images" if meta["kind"] == "images" else "points"
    try:
        _write_samples(args.output, ext, key, samples, meta)
    except OSError as exc:
        raise run.RunError(f"-o {args.output}: cannot write there ({exc.strerror or exc}); pick another file "
                           "name") from None
    print(f"minigan: wrote {len(samples)} {'images' if key == 'images' else 'points'} to {args.output}")
    return 0


def _write_samples(output, ext, key, samples, meta):
    """``samples`` as ``output``: .npy the array, .npz the array under ``key``, .png a picture."""
    import numpy as np

    from minigan import io
    os.makedirs(os.path.dirname(os.path.abspath(output)), exist_ok=True)
    if ext == ".npy":
        with io.atomic_write(output) as f:
            np.save(f, samples)
    elif ext == ".npz":
        with io.atomic_write(output) as f:
            np.savez(f, **{key: samples})
    elif key == "images":
        io.save_image_grid(output, samples, nrow=int(np.ceil(np.sqrt(len(samples)))))
    else:
        io.plot_points(output, samples, modes=meta.get("modes"), std=meta.get("std"),
                       title=f"{len(samples)} samples")


def _eval(args):
    from minigan.gan import run
    metrics = run.evaluate(args.run_dir)
    print(f"minigan: {_format_metrics(metrics)}")
    print(f"minigan: wrote {os.path.join(args.run_dir, 'metrics.json')}")
    return 0


def _info(args):
    import numpy as np

    import minigan
    from minigan import backend, kernels
    lines = [f"minigan {minigan.__version__}", f"python {platform.python_version()} ({sys.executable})",
             f"numpy {np.__version__}"]
    for name in ("cupy", "numba", "PIL", "tqdm"):
        try:
            module = __import__(name)
            lines.append(f"{'pillow' if name == 'PIL' else name} {getattr(module, '__version__', '?')}")
        except Exception as exc:  # not installed, or a broken install: say which
            lines.append(f"{'pillow' if name == 'PIL' else name}: not available ({type(exc).__name__})")
    lines.append("devices: cpu")
    reason = backend.cuda_unavailable_reason()
    lines.append("cuda: available" if reason is None else f"cuda: not available ({reason})")
    lines += [f"  {name}" for name in backend.cuda_device_names()]
    impls = kernels.implementations()
    lines.append("kernels (primitive, device: implementations):")
    grouped = {}
    for primitive, device, name in impls:
        grouped.setdefault((primitive, device), []).append(name)
    for (primitive, device), names in sorted(grouped.items()):
        lines.append(f"  {primitive}, {device}: {', '.join(names)}")
    for module, error in sorted(kernels.load_errors().items()):
        lines.append(f"  {module} did not load: {error}")
    print("\n".join(lines))
    return 0


def main(argv=None):
    """Entry point of the ``minigan`` command; returns the exit status."""
    from minigan.gan.run import RunError
    from minigan.host_memory import keep_freed_memory
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv[:1] == ["bench"]:  # the benchmark suite parses its own options
        from minigan.benchmarks import main as bench_main
        return bench_main(argv[1:])
    try:
        args = _parser().parse_args(argv)
        if args.command is None:
            raise _UsageError("minigan: give a command: train, sample, eval or info (see minigan --help)")
        handler = {"train": _train, "sample": _sample, "eval": _eval, "info": _info}[args.command]
        keep_freed_memory()  # this process is ours: reuse freed arrays' pages (host_memory.py says why)
        return handler(args)
    except (_UsageError, RunError) as exc:
        message = str(exc)
        print(message if message.startswith("minigan") else f"minigan: error: {message}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print("minigan: interrupted; the last checkpoint was kept (continue with --resume RUN_DIR)", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
