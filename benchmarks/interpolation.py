"""What ``interpolate``'s matmuls cost: forward and backward of a resize, three ways, timed side by side.

    python -m benchmarks.interpolation                # 5 rounds, 2 threads
    python -m benchmarks.interpolation --quick        # tiny sizes: a smoke test, not a measurement

``F.interpolate`` resizes each axis with a dense (m, n) matrix (``minigan.functional.interpolation``):
O(m n) work per row, where a gather of the few taps each output needs is O(m taps), but whose backward
is a matmul too, where the gather's is a scatter-add. Timed here, each as y = resize(x) and the
gradient of sum(y * g):

- ``minigan (matmul)``: ``F.interpolate`` itself;
- ``minigan ops, gather``: the same resize built from minigan's ops as a gather of the taps (the
  nonzeros of each row of ``resize_matrix``), each tap an indexed copy of x scaled by its weight; its
  backward scatter-adds with ``np.add.at``;
- ``PyTorch``: ``torch.nn.functional.interpolate`` (when torch is installed), the same arguments.

Prints a markdown table of medians per case; nothing is written.
"""
import argparse
import sys

import numpy as np

import minigan as mg
import minigan.functional as F
from minigan.functional.interpolation import resize_matrix

from benchmarks import machine, timing

CASES = [  # name, input shape, interpolate's keyword arguments
    ("bilinear x2, features", (32, 64, 32, 32), {"scale_factor": 2, "mode": "bilinear"}),
    ("bicubic x4, images", (64, 3, 32, 32), {"scale_factor": 4, "mode": "bicubic"}),
    ("area 64 -> 32, images", (64, 3, 64, 64), {"size": 32, "mode": "area"}),
    ("nearest x1.5, features", (32, 64, 32, 32), {"scale_factor": 1.5, "mode": "nearest"}),
]


def gather_resize(x, kwargs):
    """The resize as a gather of taps, from minigan's ops (getitem with index arrays, mul, add)."""
    n_h, n_w = x.shape[2:]
    out = F.interpolate(mg.zeros(1, 1, n_h, n_w), **kwargs).shape[2:]  # the output size interpolate picks
    mode = kwargs["mode"]
    factor = kwargs.get("scale_factor") if mode != "area" else None
    for axis, n, m in ((2, n_h, out[0]), (3, n_w, out[1])):
        a = resize_matrix(mode, n, m, factor, False, np.float32)
        taps = max(int((a != 0).sum(axis=1).max()), 1)
        cols = np.argsort(a == 0, axis=1, kind="stable")[:, :taps]  # each row's nonzero columns first
        weights = np.take_along_axis(a, cols, axis=1)
        shape = (m, 1) if axis == 2 else (m,)
        y = None
        for t in range(taps):
            index = (slice(None),) * axis + (cols[:, t],)
            term = x[index] * mg.tensor(weights[:, t].reshape(shape))
            y = term if y is None else y + term
        x = y
    return x


def candidates(shape, kwargs, with_torch):
    rng = np.random.default_rng(0)
    x_np = rng.standard_normal(shape).astype(np.float32)
    g_np = rng.standard_normal(F.interpolate(mg.tensor(x_np), **kwargs).shape).astype(np.float32)
    x, g = mg.tensor(x_np, requires_grad=True), mg.tensor(g_np)

    def ours():
        mg.grad((F.interpolate(x, **kwargs) * g).sum(), [x])

    def gathered():
        mg.grad((gather_resize(x, kwargs) * g).sum(), [x])

    made = {"minigan (matmul)": ours, "minigan ops, gather": gathered}
    if with_torch:
        import torch
        xt, gt = torch.tensor(x_np, requires_grad=True), torch.tensor(g_np)

        def theirs():
            torch.autograd.grad((torch.nn.functional.interpolate(xt, **kwargs) * gt).sum(), [xt])

        made["PyTorch"] = theirs
    return made


def main(argv=None):
    p = argparse.ArgumentParser(prog="python -m benchmarks.interpolation", description=__doc__.split("\n")[0])
    p.add_argument("--rounds", type=int, default=5, help="interleaved rounds (default 5)")
    p.add_argument("--repeats", type=int, default=10, help="samples per way and case (default 10)")
    p.add_argument("--threads", type=int, default=2, help="NumPy's BLAS and PyTorch threads (default 2)")
    p.add_argument("--quick", action="store_true", help="tiny sizes and 2 samples: a smoke test")
    p.add_argument("--no-torch", action="store_true", help="leave PyTorch out")
    args = p.parse_args(argv)
    with_torch = not args.no_torch
    if with_torch:
        try:
            import torch
            torch.set_num_threads(args.threads)
        except ImportError:
            with_torch = False
    if not machine.set_blas_threads(args.threads):
        print(f"could not set NumPy's BLAS threads ({machine.blas_name()})", file=sys.stderr)
    cases = [(name, (2, 2) + shape[2:] if args.quick else shape, kwargs) for name, shape, kwargs in CASES]
    repeats, rounds = (2, 1) if args.quick else (args.repeats, args.rounds)
    print(f"forward + backward, float32, {machine.blas_threads()} BLAS threads; median ms "
          f"({repeats} samples in {rounds} rounds); load average {machine.load_average()}\n")
    names = ["minigan (matmul)", "minigan ops, gather"] + (["PyTorch"] if with_torch else [])
    print("| case | input | " + " | ".join(names) + " |")
    print("|---|---|" + "---|" * len(names))
    for name, shape, kwargs in cases:
        fns = candidates(shape, kwargs, with_torch)
        times = timing.interleaved(fns, repeats=repeats, rounds=rounds, block=1)
        base = times["minigan (matmul)"]["median_s"]
        cells = [f"{1000 * times[n]['median_s']:.1f} ({times[n]['median_s'] / base:.2f}x)" for n in names]
        print(f"| {name} | {shape} | " + " | ".join(cells) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
