"""What D's joint batch costs: iterations of the default `minigan train` run, timed side by side.

    python -m benchmarks.joint_batch                      # 6 rounds of 5 iterations each way, 2 threads
    python -m benchmarks.joint_batch --g-terms            # and the default with G's extra loss terms
    python -m benchmarks.joint_batch --reference-kernels  # and the default on NumPy's reference kernels
    python -m benchmarks.joint_batch --rounds 2 --block 1 --batch 8    # a smoke test
    python -m benchmarks.joint_batch --device cuda        # on the GPU (each sample waits for it)
    python -m benchmarks.joint_batch --loss relativistic  # with the default run's own loss

Three trainers of the default DCGAN-28 recipe on the embedded digits, built once each and stepped in
turn (``benchmarks.timing.interleaved``: rounds, alternating order, a pause at each switch):

- ``separate``: D sees the real and the fake batch in two calls (pytorch/examples' DCGAN);
- ``joint, concatenated at D's input``: one call of D on the 2N samples joined at the input, as the
  trainer did before ``forward_joint``; D is wrapped so that the trainer does not find that method;
- ``joint, forward_joint``: the default; the halves meet at D's first batch norm, so the G step has no
  backward pass for the real half through the layers below it (``minigan.gan.models.joint_logits``).

With ``--g-terms``, two more: the default with feature matching, and with the MMD of D's features,
each weighted 100 in G's loss (``--feature-matching 100``, ``--mmd 100``), the G step then also
taking D's top hidden features of both halves. With ``--reference-kernels`` (CPU only), one more: the
default with every primitive pinned to its NumPy reference (``kernels.prefer``), which is what
``minigan train`` runs on when Numba is not installed.

Every trainer uses the non-saturating loss unless ``--loss`` says otherwise. That is where the joint
batch costs most: G's loss needs no real batch, so with separate batches the G step scores the fakes
alone. The default run's relativistic loss scores the real batch in G's step whichever way D sees it.

Each sample is one iteration (D step, G step, EMA update) through ``Trainer.train`` with no callbacks.
Prints a markdown table of medians and ratios to the default; nothing is written.
"""
import argparse
import sys

import minigan
from minigan import kernels, nn
from minigan.gan import run

from benchmarks import machine, timing


DEFAULT = "joint, forward_joint (default)"
REFERENCE = "default, NumPy reference kernels"


class ConcatAtInput(nn.Module):
    """D without ``forward_joint``: the trainer then joins the real and fake halves at D's input."""

    def __init__(self, discriminator):
        super().__init__()
        self.inner = discriminator

    def forward(self, x):
        return self.inner(x)


def trainers(batch, device="cpu", g_terms=False, loss="non-saturating"):
    """name -> a Trainer of the default dcgan recipe, each from the same initial weights."""
    made, data = {}, None
    ways = [("separate", {"d_batch": "separate"}, False),
            ("joint, concatenated at D's input", {"d_batch": "joint"}, True),
            (DEFAULT, {"d_batch": "joint"}, False)]
    if g_terms:
        ways += [("default + feature matching 100", {"feature_matching": 100.0}, False),
                 ("default + MMD 100", {"mmd": 100.0}, False)]
    for name, settings, concat_at_input in ways:
        cfg = run.resolve_config(batch_size=batch, out="unused", device=device, loss=loss, **settings)
        data = data or run.load_data(cfg)
        trainer = run.build(cfg, data)
        if concat_at_input:
            trainer.D = ConcatAtInput(trainer.D)
        made[name] = trainer
    return made


def step(trainer):
    """One more iteration: ``train`` runs up to ``config.iters``, so raise that by one."""
    trainer.config.iters = trainer.iteration + 1
    trainer.train()
    minigan.cuda.synchronize()


def pinned_to_reference(fn):
    """``fn`` run with every CPU primitive pinned to its reference implementation, then unpinned."""
    def run():
        primitives = sorted({p for p, _, _ in kernels.implementations(device="cpu")})
        for p in primitives:
            kernels.prefer(p, "reference")
        try:
            fn()
        finally:
            for p in primitives:
                kernels.prefer(p, None)
    return run


def main(argv=None):
    p = argparse.ArgumentParser(prog="python -m benchmarks.joint_batch", description=__doc__.split("\n")[0])
    p.add_argument("--rounds", type=int, default=6, help="interleaved rounds (default 6)")
    p.add_argument("--block", type=int, default=5, help="timed iterations per trainer per round (default 5)")
    p.add_argument("--batch", type=int, default=128, help="batch size (default 128, the recipe's)")
    p.add_argument("--threads", type=int, default=2, help="NumPy's BLAS threads (default 2)")
    p.add_argument("--device", default="cpu", choices=["cpu", "cuda"], help="where the trainers run (default cpu)")
    p.add_argument("--loss", default="non-saturating", help="every trainer's --loss (default non-saturating)")
    p.add_argument("--g-terms", action="store_true", help="also time feature matching and the MMD in G's loss")
    p.add_argument("--reference-kernels", action="store_true",
                   help="also time the default on the NumPy reference kernels (CPU only)")
    args = p.parse_args(argv)
    if args.reference_kernels and args.device != "cpu":
        p.error("--reference-kernels compares the CPU kernels; leave out --device cuda")
    if not machine.set_blas_threads(args.threads):
        print(f"could not set NumPy's BLAS threads ({machine.blas_name()})", file=sys.stderr)
    made = trainers(args.batch, args.device, args.g_terms, args.loss)
    candidates = {name: (lambda t=t: step(t)) for name, t in made.items()}
    if args.reference_kernels:
        candidates[REFERENCE] = pinned_to_reference(lambda t=trainers(args.batch, loss=args.loss)[DEFAULT]: step(t))
    load_start = machine.load_average()
    times = timing.interleaved(candidates,
                               repeats=args.rounds * args.block, rounds=args.rounds,
                               pause=timing.switch_pause(args.device))
    base = times[DEFAULT]["median_s"]
    where = ", ".join(minigan.backend.cuda_device_names()) if args.device == "cuda" else \
        f"{machine.blas_threads()} BLAS threads"
    print(f"DCGAN-28 with the {run.canonical_loss(args.loss)} loss on {args.device}, batch {args.batch}, {where}; {args.rounds} rounds of "
          f"{args.block} iterations; load average {load_start} at the start, {machine.load_average()} at the end\n")
    print("| run | median ms / iteration | spread (IQR / median) | ratio to the default |")
    print("|---|---|---|---|")
    for name, s in times.items():
        print(f"| {name} | {1000 * s['median_s']:.1f} | {100 * s['iqr_over_median']:.0f}% | "
              f"{s['median_s'] / base:.2f}x |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
