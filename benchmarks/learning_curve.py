"""How a run's scores move with its length: one `minigan train` recipe, scored every N iterations.

    python -m benchmarks.learning_curve "--iters 4000" --every 250      # the default recipe, run long
    python -m benchmarks.learning_curve "--model toy --dataset ring8" --every 500

The recipe is written as `minigan train` flags, as ``benchmarks.trainer_step`` takes them. Its
Trainer (``minigan.gan.run.build``, the command's own) trains with one callback that scores the
generator every ``--every`` iterations and at the end, exactly as `minigan eval` scores a finished
run (``evaluate_generator``: its own noise, G in eval mode), so each row is what a run stopped there
would report. The scoring draws no numbers from the training stream, so the run takes the command's
path: its rows at the command's iterations give the command's metrics.json to every digit. No
pictures, logs or checkpoints are written. Training seconds exclude the scoring.

Prints markdown, the command and a table: iteration, training seconds so far, and the data set's
metrics (MNIST: rarest class / KL to uniform / Frechet distance / confident share; 2-D sets: modes /
high-quality share).
"""
import argparse
import shlex

from minigan.gan.evaluation import evaluate_generator
from minigan.host_memory import keep_freed_memory

from .run import set_threads


class Scores:
    """A Trainer callback: ``rows`` gains (iteration, training seconds, metrics) every ``every``
    iterations and at the last one."""

    def __init__(self, meta, every, seed, report=None):  # report(row) as each row comes
        self.meta, self.every, self.seed, self.report = meta, every, seed, report
        self.rows, self.seconds = [], 0.0

    def on_iteration_end(self, trainer, logs):
        self.seconds += logs["seconds"]
        it = trainer.iteration
        if it % self.every == 0 or it == trainer.config.iters:
            metrics = evaluate_generator(lambda z, y: trainer.sample(z, y), trainer.nz, self.meta,
                                         conditional=trainer.conditional, seed=self.seed)
            self.rows.append((it, self.seconds, metrics))
            if self.report is not None:
                self.report(self.rows[-1])


def curve(recipe, every, report=None):
    """Train ``recipe`` (`minigan train` flags) once; [(iteration, training seconds, metrics)]."""
    from minigan.cli import train_flags
    from minigan.gan import run
    cfg = run.resolve_config(**train_flags(shlex.split(recipe)))
    dataset = run.load_data(cfg)
    trainer = run.build(cfg, dataset)
    scores = Scores(dataset.meta, every, cfg.seed, report)
    trainer.callbacks = [scores]
    trainer.train()
    return scores.rows


def format_row(iteration, seconds, m):
    if "frechet_distance" in m:
        scores = (f"{100 * m['min_class_share']:.2f}% | {m['kl_uniform']:.3f} | {m['frechet_distance']:.1f} | "
                  f"{100 * m['confident_share']:.1f}%")
    elif "modes_captured" in m:
        scores = f"{m['modes_captured']} of {m['num_modes']} | {100 * m['high_quality']:.1f}%"
    else:
        scores = f"{m['num_samples']} samples"
    return f"| {iteration} | {seconds:.0f} s | {scores} |"


def header(metrics):
    if "frechet_distance" in metrics:
        names = "rarest class | KL to uniform | Frechet distance | confident share"
    elif "modes_captured" in metrics:
        names = "modes | high quality"
    else:
        names = "samples"
    return f"| iteration | training | {names} |\n|---|---|" + "---|" * len(names.split("|"))


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m benchmarks.learning_curve", description=__doc__.splitlines()[0])
    parser.add_argument("recipe", help='`minigan train` flags, quoted ("": the default)')
    parser.add_argument("--every", type=int, default=250, help="score every this many iterations (default 250)")
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args(argv)
    if args.every < 1:
        parser.error(f"--every must be at least 1, got {args.every}")
    set_threads(args.threads, print)
    keep_freed_memory()  # as the minigan command does
    print(f"`python -m benchmarks.learning_curve {shlex.quote(args.recipe)} --every {args.every}`\n")

    def report(row):  # each row as it comes (a long run takes minutes per row), the header before the first
        if row[0] <= args.every:
            print(header(row[2]), flush=True)
        print(format_row(*row), flush=True)
    curve(args.recipe, args.every, report)


if __name__ == "__main__":
    main()
