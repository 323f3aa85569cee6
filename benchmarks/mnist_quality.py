"""Sample quality of the default `minigan train` run against PyTorch running the same recipe.

    python -m benchmarks.mnist_quality                  # seeds 0 and 1, minigan and PyTorch
    python -m benchmarks.mnist_quality --seeds 0 --iters 500 --no-torch
    python -m benchmarks.mnist_quality --device cuda      # both frameworks on the GPU
    python -m benchmarks.mnist_quality --loss non-saturating  # another --loss for both
    python -m benchmarks.mnist_quality --r1-batch 128 --iters 2000  # the penalty on the whole batch
    python -m benchmarks.mnist_quality --ema 0.999            # the default before sampling from G itself
    python -m benchmarks.mnist_quality --r1 0 --iters 1000 --ema 0.999  # the default before the R1 penalty

For each seed: `minigan train --seed S` (every other setting its default: DCGAN-28, the embedded 5,000
MNIST digits, 1500 iterations, the relativistic average loss, the R1 penalty weighted 10 on 32 reals of
each batch with layer norm in D, batch 128, Adam 2e-4, betas (0.5, 0.999), D on one joint batch of real
and fake, samples from G itself) in its own process, and the same architecture,
data, number of iterations and recipe written in PyTorch (pip install torch==2.13.0; used here only); the PyTorch loop
reads the recipe's switches (d_batch, ema, feature_matching, mmd, loss, r1, d_norm, r1_batch) from the minigan run's
config.json; it knows the non-saturating loss and the two relativistic ones. Both
are scored by minigan's shipped MNIST classifier on 5,000 samples drawn from the generator (or its EMA,
with --ema) in eval mode:
the share of each class (target: every class >= 5%), KL(class histogram || uniform)
(target <= 0.10) and the Frechet distance of the classifier's penultimate features to the real digits
(target: no worse than PyTorch's), with the real-versus-real floor for reference, and a table of
every run's share of each digit with the shares averaged over the seeds.
Writes benchmarks/results/mnist_quality.md.
"""
import argparse
import json
import os
import platform
import shlex
import shutil
import subprocess
import sys
import tempfile
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
SCORED = 5000
NZ = 100  # W2's noise size (workloads.w2)
DEFAULT_OUTPUT = os.path.join(HERE, "results", "mnist_quality.md")


def run_minigan(seed, iters, workdir, device="cpu", loss=None, r1=None, r1_batch=None, ema=None):
    out = os.path.join(workdir, f"minigan-{seed}")
    command = ["minigan", "train", "--seed", str(seed), "--out", out, "--device", device]
    command += ["--iters", str(iters)] if iters else []
    command += ["--loss", loss] if loss else []
    command += ["--r1", repr(r1)] if r1 is not None else []
    command += ["--r1-batch", str(r1_batch)] if r1_batch else []
    command += ["--ema", repr(ema)] if ema is not None else []
    start = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
    seconds = time.perf_counter() - start
    with open(os.path.join(out, "metrics.json"), encoding="utf-8") as f:
        metrics = json.load(f)
    with open(os.path.join(out, "config.json"), encoding="utf-8") as f:
        config = json.load(f)
    return {"framework": "minigan", "seed": seed, "seconds": seconds, "iters": config["iters"], "config": config,
            **metrics}


def scored_noise(seed, n=64):
    """The first ``n`` noise vectors that scoring draws for ``seed`` (minigan.gan.evaluation.draw, which
    run_torch samples through too), so that both frameworks' pictures show the samples of the same z."""
    from minigan.gan.evaluation import draw
    return draw(lambda z, labels: z, NZ, n, seed)


def picture_minigan(run_dir, seed, path):
    """A grid of the minigan run's first 64 scored samples (from what it samples: G or its EMA; eval
    mode) at ``path``."""
    from minigan import io
    from minigan.gan import run
    trainer, _ = run.load_run(run_dir)
    io.save_image_grid(path, trainer.sample(scored_noise(seed)))


def torch_losses(torch, loss):
    """(D's loss of (real, fake) logits, G's loss of (fake, real) logits) for minigan's loss ``loss``
    (minigan.gan.losses), written in PyTorch."""
    from minigan.gan.losses import ALIASES
    loss = ALIASES.get(loss, loss)
    softplus = torch.nn.functional.softplus
    if loss == "relativistic":
        return (lambda r, f: softplus(f.mean() - r).mean() + softplus(f - r.mean()).mean(),
                lambda f, r: softplus(r.mean() - f).mean() + softplus(r - f.mean()).mean())
    if loss == "relativistic-pairing":
        return (lambda r, f: softplus(f - r).mean(), lambda f, r: softplus(r - f).mean())
    if loss == "non-saturating":
        bce = torch.nn.functional.binary_cross_entropy_with_logits
        return (lambda r, f: bce(r, torch.ones_like(r)) + bce(f, torch.zeros_like(f)),
                lambda f, r: bce(f, torch.ones_like(f)))
    raise SystemExit(f"benchmarks.mnist_quality: the PyTorch loop has no {loss!r} loss "
                     "(non-saturating, relativistic or relativistic-pairing)")


def run_torch(seed, iters, d_batch="separate", ema_decay=0.0, feature_matching=0.0, mmd=0.0, loss="non-saturating",
              r1=0.0, d_norm="batch", r1_batch=None, device="cpu", picture=None):
    """W2 in PyTorch: pytorch/examples' DCGAN initialisation, per-epoch shuffling, eval-mode sampling.
    ``d_batch``, ``ema_decay``, ``feature_matching``, ``mmd``, ``loss``, ``r1``, ``d_norm`` and ``r1_batch``
    (the penalty on the first r1_batch reals; None: all) follow
    minigan's Trainer, EMA (the same warm-up of the decay, batch-norm buffers copied rather than
    averaged), losses.feature_matching and losses.mmd (torch_mmd; both on the input of D's last layer,
    weighted, added to G's loss), the loss of that name (torch_losses), regularisers.r1_penalty
    (torch_r1, on D's own pass over the real batch) and models.per_sample_norm (layer_normalised).
    ``picture``: a PNG path for a grid of the first 64 scored samples, to set beside the minigan run's
    own."""
    import copy

    import torch

    from benchmarks.workloads import build, w2
    from minigan import io
    from minigan.data import get_dataset
    from minigan.gan.evaluation import draw
    from minigan.gan.losses import get_loss
    from minigan.metrics import mnist_metrics

    torch.manual_seed(seed)
    spec = w2()
    G, D = build(torch.nn, spec.generator), build(torch.nn, spec.discriminator)
    if d_norm == "layer":
        D = layer_normalised(torch, D)

    def dcgan_init(m):
        if isinstance(m, (torch.nn.Conv2d, torch.nn.ConvTranspose2d)):
            torch.nn.init.normal_(m.weight, 0.0, 0.02)
            torch.nn.init.zeros_(m.bias)
        elif isinstance(m, (torch.nn.BatchNorm1d, torch.nn.BatchNorm2d)):
            torch.nn.init.normal_(m.weight, 1.0, 0.02)
            torch.nn.init.zeros_(m.bias)

    G.apply(dcgan_init)
    D.apply(dcgan_init)
    G.to(device)
    D.to(device)
    ema = copy.deepcopy(G) if ema_decay else None
    opt_g = torch.optim.Adam(G.parameters(), lr=2e-4, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(D.parameters(), lr=2e-4, betas=(0.5, 0.999))
    d_loss_of, g_loss_of = torch_losses(torch, loss)
    needs_real = feature_matching or mmd or get_loss(loss).g_needs_real_logits  # G's step scores a real batch

    def scored(x):
        """D's logits and the input of its last layer (the features feature matching compares)."""
        h = D[:-1](x)
        return D[-1](h), h.flatten(1)

    data = torch.from_numpy(get_dataset("mnist").data).to(device)
    order = np.random.default_rng(seed)
    perm, pos, batch, updates = order.permutation(len(data)), 0, 128, 0
    start = time.perf_counter()
    for _ in range(iters):
        if pos + batch > len(data):
            perm, pos = order.permutation(len(data)), 0
        real = data[torch.from_numpy(perm[pos:pos + batch]).to(device)]
        pos += batch
        fake = G(torch.randn(batch, NZ, device=device))
        if d_batch == "joint":
            real_logits, fake_logits = D(torch.cat([real, fake.detach()])).split(batch)
        else:
            real_logits, fake_logits = D(real), D(fake.detach())
        d_loss = d_loss_of(real_logits, fake_logits)
        if r1:
            d_loss = d_loss + torch_r1(torch, D, real[:r1_batch], r1)
        opt_d.zero_grad()
        d_loss.backward()
        opt_d.step()
        # As minigan: only D's batch norm makes the fakes' logits depend on the real half of the batch.
        if d_batch == "joint" and d_norm == "batch":
            logits, h = scored(torch.cat([real, fake]))
            real_out, out, real_h, fake_h = logits[:batch], logits[batch:], h[:batch], h[batch:]
        else:
            out, fake_h = scored(fake)
            real_out, real_h = scored(real) if needs_real else (None, None)
        g_loss = g_loss_of(out, real_out)
        if feature_matching:
            g_loss = g_loss + feature_matching * (real_h.mean(0) - fake_h.mean(0)).pow(2).mean()
        if mmd:
            g_loss = g_loss + mmd * torch_mmd(real_h, fake_h)
        opt_g.zero_grad()
        g_loss.backward()
        opt_g.step()
        if ema is not None:
            updates += 1
            decay = min(ema_decay, (1 + updates) / (10 + updates))
            with torch.no_grad():
                for shadow, p in zip(ema.parameters(), G.parameters()):
                    shadow.mul_(decay).add_(p, alpha=1 - decay)
                for shadow, b in zip(ema.buffers(), G.buffers()):
                    shadow.copy_(b)
    if device != "cpu":
        torch.cuda.synchronize()
    seconds = time.perf_counter() - start
    G = ema if ema is not None else G
    G.eval()
    with torch.no_grad():  # the noise minigan's own scoring draws for this seed
        samples = draw(lambda z, labels: G(torch.from_numpy(z).to(device)).cpu().numpy(), NZ, SCORED, seed)
    if picture:
        io.save_image_grid(picture, samples[:64])  # the samples of scored_noise(seed)
    framework = f"torch {torch.__version__}" + (f" ({device})" if device != "cpu" else "")
    return {"framework": framework, "seed": seed, "seconds": seconds, "iters": iters, **mnist_metrics(samples)}


def layer_normalised(torch, D):
    """D (a torch.nn.Sequential) with each BatchNorm2d replaced by GroupNorm(1, C): minigan's
    ``--d-norm layer`` (models.per_sample_norm), which the gradient penalties need."""
    layers = [torch.nn.GroupNorm(1, m.num_features) if isinstance(m, torch.nn.BatchNorm2d) else m for m in D]
    return torch.nn.Sequential(*layers)


def torch_r1(torch, critic, real, gamma):
    """minigan's regularisers.r1_penalty in PyTorch: gamma / 2 * E ||grad_x critic(x)||^2 at the real
    batch, through a pass of its own, kept in the graph (double backward)."""
    x = real.detach().requires_grad_(True)
    (grad,) = torch.autograd.grad(critic(x).sum(), x, create_graph=True)
    return grad.flatten(1).pow(2).sum(1).mean() * (0.5 * float(gamma))


def torch_mmd(real_h, fake_h):
    """minigan.gan.losses.mmd written in PyTorch: the squared MMD between two batches of features under
    Gaussian kernels at MMD_SCALES times the width mmd_bandwidth gives (held constant)."""
    import torch

    from minigan.gan.losses import MMD_SCALES, mmd_bandwidth

    def squared(a, b):
        return (a * a).sum(1, keepdim=True) + (b * b).sum(1, keepdim=True).T - 2 * a @ b.T
    d = [squared(real_h, real_h), squared(fake_h, fake_h), squared(real_h, fake_h)]
    m = mmd_bandwidth(*(t.detach().cpu().numpy() for t in d))  # minigan's width rule, on NumPy copies
    total = 0.0
    for scale in MMD_SCALES:
        k = [torch.exp(t * (-1.0 / (scale * m))).mean() for t in d]
        total = total + k[0] + k[1] - 2 * k[2]
    return total / len(MMD_SCALES)


def switches(config):
    """(d_batch, ema, feature_matching, mmd, loss, r1, d_norm, r1_batch): the run's switches beyond the
    DCGAN numbers, from its config.json."""
    return (config.get("d_batch", "separate"), config.get("ema", 0.0), config.get("feature_matching", 0.0),
            config.get("mmd", 0.0), config.get("loss", "non-saturating"), config.get("r1", 0.0),
            config.get("d_norm", "batch"), config.get("r1_batch"))


def recipe(rows):
    """Those switches in words, for the report's header."""
    d_batch, ema, matching, mmd, loss, r1, d_norm, r1_batch = switches(
        next((r["config"] for r in rows if "config" in r), {}))
    return (f"the {loss} loss, "
            + (f"the R1 penalty weighted {r1:g}" + (f" on {r1_batch} reals of each batch" if r1_batch else "") + ", "
               if r1 else "")
            + ("layer norm in D in place of batch norm, " if d_norm == "layer" else "")
            + f"D on {'one joint batch of real and fake' if d_batch == 'joint' else 'separate real and fake batches'}, "
            + (f"feature matching weighted {matching:g} in G's loss, " if matching else "")
            + (f"the MMD of D's features weighted {mmd:g} in G's loss, " if mmd else "")
            + (f"samples from an EMA of G (decay {ema})" if ema else "samples from G itself"))


def reproduce(args):
    """The command that makes the same table (``--keep`` only decides where the run folders go)."""
    flags = ["--seeds", *map(str, args.seeds)] + (["--iters", str(args.iters)] if args.iters else [])
    flags += ["--loss", args.loss] if args.loss else []
    flags += ["--r1", f"{args.r1:g}"] if args.r1 is not None else []
    flags += ["--r1-batch", str(args.r1_batch)] if args.r1_batch else []
    flags += ["--ema", f"{args.ema:g}"] if args.ema is not None else []
    flags += ["--no-torch"] if args.no_torch else []
    flags += ["--device", args.device] if args.device != "cpu" else []
    if os.path.abspath(args.output) != os.path.abspath(DEFAULT_OUTPUT):
        flags += ["--output", os.path.relpath(args.output)]
    return shlex.join(["python", "-m", "benchmarks.mnist_quality", *flags])


def report(rows, command, device="cpu"):
    from minigan import backend
    where = f"; both frameworks on {device} ({', '.join(backend.cuda_device_names())})" if device != "cpu" else ""
    lines = ["# MNIST quality of `minigan train` beside PyTorch running the same recipe", "",
             "Scored by minigan's shipped MNIST classifier on 5,000 eval-mode samples. Targets: every class "
             ">= 5% of samples, KL(class histogram || uniform) <= 0.10, Frechet distance no worse than PyTorch's "
             "with the same architecture (W2), data (the embedded 5,000 digits), iterations and recipe (batch 128, "
             f"Adam 2e-4, betas (0.5, 0.999), {recipe(rows)}). Confident share: samples the classifier gives "
             f"one class a probability >= 0.9 ({100 * rows[0]['confident_share_real']:.1f}% of held-out real digits).",
             f"Machine: {platform.machine()}, {os.cpu_count()} logical CPUs, Python {platform.python_version()}"
             + where + ". "
             "Seconds: minigan's whole command (start-up, pictures, scoring included); PyTorch's training loop only.",
             f"Reproduce: `{command}`.", "",
             "| framework | seed | iters | min class share | KL to uniform | Frechet | real-vs-real floor "
             "| confident share | seconds |",
             "| --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    # A run's min class share gets two decimals: 5,000 samples resolve 0.02%, and 4.96% must not read
    # as the 5% target.
    for r in rows:
        lines.append(f"| {r['framework']} | {r['seed']} | {r['iters']} | {100 * r['min_class_share']:.2f}% | "
                     f"{r['kl_uniform']:.3f} | {r['frechet_distance']:.1f} | {r['frechet_floor_real_vs_real']:.2f} | "
                     f"{100 * r['confident_share']:.1f}% | {r['seconds']:.0f} |")
    lines += ["", "| framework | runs | mean min class share | mean KL | mean Frechet | mean confident share |",
              "| --- | --- | --- | --- | --- | --- |"]
    frameworks = {f: [r for r in rows if r["framework"] == f] for f in dict.fromkeys(r["framework"] for r in rows)}
    for framework, mine in frameworks.items():
        mean = {k: sum(r[k] for r in mine) / len(mine)
                for k in ("min_class_share", "kl_uniform", "frechet_distance", "confident_share")}
        lines.append(f"| {framework} | {len(mine)} | {100 * mean['min_class_share']:.1f}% | {mean['kl_uniform']:.3f} | "
                     f"{mean['frechet_distance']:.1f} | {100 * mean['confident_share']:.1f}% |")
    return "\n".join(lines + class_share_table(frameworks)) + "\n"


def class_share_table(frameworks):
    """Each run's share of every digit, and per framework the digits' shares averaged over its runs:
    the smallest of those averages is the rarest-class figure for the seeds taken together, beside the
    per-run figure above (a digit short on one seed may be plentiful on the next)."""
    lines = ["", "Share of each digit, as the classifier calls them (the embedded digits are 10% each; the mean "
             "row: each digit's share averaged over the runs above it, its smallest value in bold):", "",
             "| framework | seed | " + " | ".join(map(str, range(10))) + " |",
             "| --- | --- | " + " | ".join(["---"] * 10) + " |"]
    for framework, mine in frameworks.items():
        for r in mine:
            cells = [f"{100 * s:.1f}%" for s in r["class_share"]]
            lines.append(f"| {framework} | {r['seed']} | " + " | ".join(cells) + " |")
        if len(mine) > 1:
            mean = np.mean([r["class_share"] for r in mine], axis=0)
            cells = [f"**{100 * s:.2f}%**" if k == mean.argmin() else f"{100 * s:.1f}%" for k, s in enumerate(mean)]
            lines.append(f"| {framework} | mean of {len(mine)} | " + " | ".join(cells) + " |")
    return lines


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1])
    parser.add_argument("--iters", type=int, default=None, help="default: the default run's")
    parser.add_argument("--loss", help="minigan train's --loss for both frameworks (default: the default run's)")
    parser.add_argument("--r1", type=float, help="minigan train's --r1 (the R1 penalty's weight) for both frameworks")
    parser.add_argument("--r1-batch", type=int, help="minigan train's --r1-batch for both frameworks")
    parser.add_argument("--ema", type=float, help="minigan train's --ema (0: sample G itself) for both frameworks")
    parser.add_argument("--no-torch", action="store_true", help="score minigan alone")
    parser.add_argument("--device", default="cpu", choices=["cpu", "cuda"], help="where both frameworks train")
    parser.add_argument("--output", default=DEFAULT_OUTPUT)
    parser.add_argument("--keep", metavar="DIR", help="write minigan's run folders under DIR and keep them, "
                                                      "with grids of both frameworks' first 64 scored samples "
                                                      "as minigan-SEED.png and torch-SEED.png "
                                                      "(default: a temporary folder, removed at the end)")
    args = parser.parse_args(argv)
    if shutil.which("minigan") is None:
        sys.exit("the minigan command is not installed: pip install -e '.[cli]'")
    workdir = args.keep or tempfile.mkdtemp(prefix="minigan-mnist-")
    rows = []
    for seed in args.seeds:
        rows.append(run_minigan(seed, args.iters, workdir, args.device, args.loss, args.r1, args.r1_batch, args.ema))
        if args.keep:
            picture_minigan(os.path.join(workdir, f"minigan-{seed}"), seed, os.path.join(workdir, f"minigan-{seed}.png"))
        if not args.no_torch:
            config = rows[-1]["config"]
            picture = os.path.join(workdir, f"torch-{seed}.png") if args.keep else None
            rows.append(run_torch(seed, config["iters"], *switches(config), device=args.device, picture=picture))
        for r in rows[-1 if args.no_torch else -2:]:
            print(f"{r['framework']} seed {seed}: min class {100 * r['min_class_share']:.2f}%, "
                  f"KL {r['kl_uniform']:.3f}, Frechet {r['frechet_distance']:.1f}, "
                  f"confident {100 * r['confident_share']:.1f}%, {r['seconds']:.0f} s", flush=True)
    os.makedirs(os.path.dirname(args.output), exist_ok=True)
    with open(args.output, "w", encoding="utf-8") as f:
        f.write(report(rows, reproduce(args), args.device))
    if not args.keep:
        shutil.rmtree(workdir, ignore_errors=True)
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
