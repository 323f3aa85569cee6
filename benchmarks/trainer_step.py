"""The time of one `minigan train` iteration for several recipes, side by side.

    python -m benchmarks.trainer_step "" "--r1 0" "--r1-batch 128"

Each argument is a recipe written as `minigan train` flags ("": the default). Every recipe gets its own
Trainer on the embedded digits (`minigan.gan.run.build`, no callbacks: no pictures, checkpoints or
scoring), and the recipes are timed in turn, one iteration per sample, as the workloads are
(``benchmarks.timing.interleaved``: rounds of blocks, each after a pause and an untimed iteration, the
order reversed every other round), so that a shared machine's drift falls on all of them alike.
Prints each recipe's median iteration and its ratio to the first recipe's. BLAS and Numba use
``--threads`` threads (default 2, as `python -m benchmarks`).
"""
import argparse
import shlex

from minigan.host_memory import keep_freed_memory

from .run import set_threads
from .timing import interleaved


def build_trainer(recipe):
    """A Trainer for ``recipe`` (a string of `minigan train` flags) that can run any number of iterations."""
    from minigan.cli import train_flags
    from minigan.gan import run
    flags = train_flags(shlex.split(recipe))
    flags["iters"] = 1  # grown one iteration at a time by step()
    cfg = run.resolve_config(**flags)
    return run.build(cfg, run.load_data(cfg))


def step(trainer):
    """One more iteration of ``trainer``."""
    trainer.config.iters = trainer.iteration + 1
    trainer.train()


def time_recipes(recipes, repeats=25, rounds=5):
    """{recipe: timing summary of one iteration} (``benchmarks.timing.summary``), the recipes interleaved."""
    trainers = {r: build_trainer(r) for r in recipes}
    return interleaved({r: (lambda t=t: step(t)) for r, t in trainers.items()}, repeats=repeats, rounds=rounds)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m benchmarks.trainer_step", description=__doc__.splitlines()[0])
    parser.add_argument("recipes", nargs="+", help='`minigan train` flags, quoted, one recipe each ("": the default)')
    parser.add_argument("--repeats", type=int, default=25, help="timed iterations per recipe (default 25)")
    parser.add_argument("--rounds", type=int, default=5, help="interleaving rounds (default 5)")
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args(argv)
    set_threads(args.threads, print)
    keep_freed_memory()  # as the minigan command does
    timings = time_recipes(args.recipes, args.repeats, args.rounds)
    first = timings[args.recipes[0]]["median_s"]
    for recipe, t in timings.items():
        print(f"{recipe or '(default)':<40} {1000 * t['median_s']:7.1f} ms  {t['median_s'] / first:5.2f}x  "
              f"(spread {100 * t['iqr_over_median']:.0f}%)")


if __name__ == "__main__":
    main()
