"""minigan's benchmark suite: kernels and end-to-end GAN workloads, against PyTorch where installed.

``python -m benchmarks --help`` from the repository root; ``benchmarks.main(argv)`` runs the same from
Python (``minigan bench``). Results go to benchmarks/results/ as JSON and markdown.
"""


def main(argv=None):
    """Run the benchmark suite with command-line arguments ``argv``; returns the exit status."""
    from .run import main as run_main
    return run_main(argv)
