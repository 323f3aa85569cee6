"""Kernel benchmarks: every registered implementation of each primitive, on the same inputs.

The shapes are those of W2's and W3's layers (DESIGN section 7), batch 128. For each case every
implementation the registry lists (``minigan.kernels.implementations``) runs on copies of one set of
float32 inputs, interleaved; where PyTorch is installed, its nearest equivalent runs in the same
rotation (``torch`` rows: unfold/fold for im2col/col2im, whose layout is (N, C kh kw, L) rather than
ours, and the aten kernels for the rest). The differentiable ops built on the primitives (conv2d,
conv_transpose2d, batch_norm, leaky_relu) are timed through ``minigan.functional``, once with each
implementation name pinned by ``kernels.prefer`` and once with the registry's default choice.
"""
from typing import NamedTuple

import numpy as np

import minigan as mg
import minigan.functional as F
from minigan import kernels

from .timing import SWITCH_PAUSE_S, auto_block, interleaved

# (label, x shape, kernel, stride, padding): the convolutions of W2 and W3 worth timing.
CONVS = {
    "full": [
        ("W2 D conv2 64->128 @14", (128, 64, 14, 14), 128, 4, 2, 1),
        ("W3 D conv2 64->128 @32", (128, 64, 32, 32), 128, 4, 2, 1),
    ],
    "quick": [("tiny conv 4->8 @8", (4, 4, 8, 8), 8, 4, 2, 1)],
}
# (label, x shape, out channels, kernel, stride, padding) of transposed convolutions.
CONV_TRANSPOSES = {
    "full": [
        ("W2 G convT1 128->64 @7", (128, 128, 7, 7), 64, 4, 2, 1),
        ("W2 G convT2 64->1 @14", (128, 64, 14, 14), 1, 4, 2, 1),
        ("W3 G convT4 128->64 @16", (128, 128, 16, 16), 64, 4, 2, 1),
    ],
    "quick": [("tiny convT 8->4 @4", (4, 8, 4, 4), 4, 4, 2, 1)],
}
ELEMENTWISE = {
    "full": [("W2 D act (128,64,14,14)", (128, 64, 14, 14)), ("W3 D act (128,128,16,16)", (128, 128, 16, 16))],
    "quick": [("tiny act (4,4,8,8)", (4, 4, 8, 8))],
}
# (label, x shape as (B, R, S)): the NCHW activations a convolution lays out channels-last (those that
# are not already: a reshaped Linear output, and gradients that come back through a flatten).
TRANSPOSES = {
    "full": [
        ("W2 G convT1 input (128,128,49)", (128, 128, 49)),
        ("W2 D conv1 out (128,64,196)", (128, 64, 196)),
    ],
    "quick": [("tiny (4,8,16)", (4, 8, 16))],
}
# Batch norm inputs viewed as (N, C, L), the kernels' contract.
BATCH_NORMS = {
    "full": [
        ("W2 G BN1d (128,6272,1)", (128, 6272, 1)),
        ("W2 G BN2d (128,64,196)", (128, 64, 196)),
        ("W2 D BN2d (128,128,49)", (128, 128, 49)),
        ("W3 D BN2d (128,128,256)", (128, 128, 256)),
    ],
    "quick": [("tiny BN (4,8,16)", (4, 8, 16))],
}
# Standardisation inputs as (rows, values per row), the kernels' contract.
STANDARDISES = {
    "full": [
        ("W2 D layer norm (128,6272)", (128, 6272)),
        ("W2 R1 layer norm (32,6272)", (32, 6272)),
    ],
    "quick": [("tiny rows (4,64)", (4, 64))],
}
ADAMS = {
    "full": [
        ("W2 G Linear weight 6272x100", 627200),
        ("W2 D conv2 weight 128x64x4x4", 131072),
        ("W3 G convT2 weight 512x256x4x4", 2097152),
        ("bias 64", 64),
    ],
    "quick": [("tiny 1000", 1000)],
}


# Where the kernels run, set by ``run``: NumPy arrays on "cpu", CuPy arrays on "cuda". Inputs are drawn
# in NumPy on both, so the two devices time the same numbers.
_on = {"device": "cpu", "xp": np}


def _rng():
    return np.random.default_rng(1234)


def _randn(rng, shape):
    return rng.standard_normal(shape, dtype=np.float32)


def _dev(a):
    """A NumPy array on the benchmark's device (a copy on "cuda", the array itself on "cpu")."""
    return a if _on["device"] == "cpu" else _on["xp"].asarray(a)


def _torch(torch, a):
    return torch.from_numpy(a.copy()).to(_on["device"])


def _kernel(primitive, name):
    return kernels.get(primitive, _on["xp"], name)


def _impl_names(primitive):
    return [name for _, _, name in kernels.implementations(primitive, device=_on["device"])]


_pinned = {"request": ((), "default"), "pinned": ()}


def _pin(primitives, name):
    """Make each of ``primitives`` that has implementation ``name`` use it ("default": the registry's
    choice). Pinning clears the registry's cache, so it is done only when the choice changes (in the
    untimed call after each switch), never inside a timed call.
    """
    if _pinned["request"] == (primitives, name):
        return
    for p in _pinned["pinned"]:
        kernels.prefer(p, None)
    pinned = () if name == "default" else tuple(p for p in primitives if name in _impl_names(p))
    for p in pinned:
        kernels.prefer(p, name)
    _pinned.update(request=(primitives, name), pinned=pinned)


def _record(results, group, case, timings, flops=None):
    """Append one row per implementation, with the speed-up over ``reference``."""
    ref = timings.get("reference", {}).get("median_s")
    for impl, t in timings.items():
        row = {"group": group, "case": case, "impl": impl, **t}
        row["speedup_vs_reference"] = ref / t["median_s"] if ref and t["median_s"] > 0 else None
        if flops:
            row["gflops"] = flops / t["median_s"] / 1e9
        results.append(row)


def _synced(fn, torch):
    """``fn`` followed by a wait for the GPU (minigan's CuPy stream and PyTorch's), so that the clock
    reads the kernels' run time and not only their launch."""
    def run():
        fn()
        mg.cuda.synchronize()
        if torch is not None:
            torch.cuda.synchronize()
    return run


def _time(candidates, cfg, torch=None):
    """Interleaved timing with a block long enough for a steady clock (small kernels run many times)."""
    if _on["device"] == "cuda":
        candidates = {name: _synced(fn, torch) for name, fn in candidates.items()}
    block = min(auto_block(fn) for fn in candidates.values())
    return interleaved(candidates, repeats=cfg.repeats, rounds=cfg.rounds, block=block, pause=cfg.pause)


# -- primitives ------------------------------------------------------------------------------------


def bench_im2col(cfg, torch, results):
    for label, shape, _, k, s, p in CONVS[cfg.size]:
        x = _randn(_rng(), shape)
        dx = _dev(x)
        cands = {name: (lambda f=_kernel("im2col", name): f(dx, k, k, s, s, p, p, 1, 1))
                 for name in _impl_names("im2col")}
        if torch is not None:
            tx = _torch(torch, x)
            cands["torch"] = lambda: torch.nn.functional.unfold(tx, k, padding=p, stride=s)
        _record(results, "im2col", label, _time(cands, cfg, torch))


def bench_col2im(cfg, torch, results):
    for label, shape, out_ch, k, s, p in CONV_TRANSPOSES[cfg.size]:
        n, _, h, w = shape
        hout, wout = (h - 1) * s - 2 * p + k, (w - 1) * s - 2 * p + k
        col = _randn(_rng(), (n, h, w, k, k, out_ch))
        dcol = _dev(col)
        cands = {name: (lambda f=_kernel("col2im", name): f(dcol, hout, wout, s, s, p, p, 1, 1))
                 for name in _impl_names("col2im")}
        if torch is not None:
            # fold's layout: (N, C kh kw, L), each image's patches in columns
            tcol = _torch(torch, np.ascontiguousarray(col.reshape(n, h * w, k * k, out_ch).transpose(0, 3, 2, 1))
                          .reshape(n, out_ch * k * k, h * w))
            cands["torch"] = lambda: torch.nn.functional.fold(tcol, (hout, wout), k, padding=p, stride=s)
        _record(results, "col2im", label, _time(cands, cfg, torch))


def bench_leaky_relu(cfg, torch, results):
    for label, shape in ELEMENTWISE[cfg.size]:
        rng = _rng()
        x, gy = _randn(rng, shape), _randn(rng, shape)
        dx, dgy = _dev(x), _dev(gy)
        fwd = {name: (lambda f=_kernel("leaky_relu", name): f(dx, 0.2)) for name in _impl_names("leaky_relu")}
        bwd = {name: (lambda f=_kernel("leaky_relu_grad", name): f(dx, dgy, 0.2))
               for name in _impl_names("leaky_relu_grad")}
        if torch is not None:
            tx, tgy = _torch(torch, x), _torch(torch, gy)
            fwd["torch"] = lambda: torch.nn.functional.leaky_relu(tx, 0.2)
            bwd["torch"] = lambda: torch.ops.aten.leaky_relu_backward(tgy, tx, 0.2, False)
        _record(results, "leaky_relu", label, _time(fwd, cfg, torch))
        _record(results, "leaky_relu_grad", label, _time(bwd, cfg, torch))


def bench_batch_transpose(cfg, torch, results):
    for label, shape in TRANSPOSES[cfg.size]:
        x = _randn(_rng(), shape)
        dx = _dev(x)
        cands = {name: (lambda f=_kernel("batch_transpose", name): f(dx))
                 for name in _impl_names("batch_transpose")}
        if torch is not None:
            tx = _torch(torch, x)
            cands["torch"] = lambda: tx.transpose(1, 2).contiguous()
        _record(results, "batch_transpose", label, _time(cands, cfg, torch))


def bench_batch_norm(cfg, torch, results):
    for label, shape in BATCH_NORMS[cfg.size]:
        rng = _rng()
        c = shape[1]
        x, gy = _randn(rng, shape) * np.float32(2) + np.float32(0.5), _randn(rng, shape)
        gamma, beta = _randn(rng, c) * np.float32(0.1) + np.float32(1), _randn(rng, c) * np.float32(0.1)
        _, mean, invstd = kernels.get("batch_norm_forward", np, "reference")(x, gamma, beta, 1e-5)
        d = {k: _dev(v) for k, v in dict(x=x, gy=gy, gamma=gamma, beta=beta, mean=mean, invstd=invstd).items()}
        fwd = {name: (lambda f=_kernel("batch_norm_forward", name): f(d["x"], d["gamma"], d["beta"], 1e-5))
               for name in _impl_names("batch_norm_forward")}
        bwd = {name: (lambda f=_kernel("batch_norm_backward", name): f(d["gy"], d["x"], d["mean"], d["invstd"],
                                                                         d["gamma"]))
               for name in _impl_names("batch_norm_backward")}
        if torch is not None:
            t = {k: _torch(torch, v) for k, v in
                 dict(x=x, gy=gy, gamma=gamma, beta=beta, mean=mean, invstd=invstd).items()}
            fwd["torch"] = lambda: torch.native_batch_norm(t["x"], t["gamma"], t["beta"], None, None, True, 0.1, 1e-5)
            bwd["torch"] = lambda: torch.ops.aten.native_batch_norm_backward(
                t["gy"], t["x"], t["gamma"], None, None, t["mean"], t["invstd"], True, 1e-5, [True, True, True])
        _record(results, "batch_norm_forward", label, _time(fwd, cfg, torch))
        _record(results, "batch_norm_backward", label, _time(bwd, cfg, torch))


def bench_standardise(cfg, torch, results):
    for label, shape in STANDARDISES[cfg.size]:
        rng = _rng()
        x, gy = _randn(rng, shape) * np.float32(2) + np.float32(0.5), _randn(rng, shape)
        xhat, invstd = kernels.get("standardise_forward", np, "reference")(x, 1e-5)
        d = {k: _dev(v) for k, v in dict(x=x, gy=gy, xhat=xhat, invstd=invstd).items()}
        fwd = {name: (lambda f=_kernel("standardise_forward", name): f(d["x"], 1e-5))
               for name in _impl_names("standardise_forward")}
        bwd = {name: (lambda f=_kernel("standardise_backward", name): f(d["gy"], d["xhat"], d["invstd"]))
               for name in _impl_names("standardise_backward")}
        if torch is not None:
            # aten's layer norm over the last axis, without an affine: the same computation
            t = {k: _torch(torch, v) for k, v in dict(x=x, gy=gy).items()}
            _, t_mean, t_rstd = torch.native_layer_norm(t["x"], [shape[1]], None, None, 1e-5)
            fwd["torch"] = lambda: torch.native_layer_norm(t["x"], [shape[1]], None, None, 1e-5)
            bwd["torch"] = lambda: torch.ops.aten.native_layer_norm_backward(
                t["gy"], t["x"], [shape[1]], t_mean, t_rstd, None, None, [True, False, False])
        _record(results, "standardise_forward", label, _time(fwd, cfg, torch))
        _record(results, "standardise_backward", label, _time(bwd, cfg, torch))


def bench_adam(cfg, torch, results):
    for label, n in ADAMS[cfg.size]:
        rng = _rng()
        p0, g = _randn(rng, n) * np.float32(0.02), _randn(rng, n) * np.float32(0.01)
        dg = _dev(g)
        cands = {}
        for name in _impl_names("adam_update"):
            fn = _kernel("adam_update", name)
            state = {"p": _dev(p0.copy()), "m": _dev(np.zeros_like(p0)), "v": _dev(np.zeros_like(p0)), "t": 0}

            def step(fn=fn, s=state):
                s["t"] += 1
                fn(s["p"], dg, s["m"], s["v"], 2e-4, 0.5, 0.999, 1e-8, 0.0, s["t"])
            cands[name] = step
        if torch is not None:
            tp = torch.nn.Parameter(_torch(torch, p0))
            tp.grad = _torch(torch, g)
            opt = torch.optim.Adam([tp], lr=2e-4, betas=(0.5, 0.999))
            cands["torch"] = opt.step
        _record(results, "adam_update", label, _time(cands, cfg, torch))


# -- ops through minigan.functional ------------------------------------------------------------------


def _variants(primitives):
    """Implementation names to pin for an op that uses ``primitives``, plus the registry default."""
    names = sorted({n for p in primitives for n in _impl_names(p)})
    return ["default"] + names


def _op_candidates(primitives, make_call):
    cands = {}
    for variant in _variants(primitives):
        call = make_call()

        def run(call=call, variant=variant):
            _pin(primitives, variant)
            return call()
        cands["minigan:" + variant] = run
    return cands


def _rename_reference(timings):
    """Let ``_record`` compute speed-ups against the all-reference variant (and unpin everything)."""
    _pin((), "default")
    return {("reference" if k == "minigan:reference" else k): v for k, v in timings.items()}


def _mg_leaf(a):
    return mg.tensor(a.copy(), requires_grad=True, device=_on["device"])


def _bench_conv_family(cfg, torch, results, name, cases, transposed):
    """conv2d or conv_transpose2d, forward and forward+backward, every im2col/col2im pinned in turn."""
    mg_op = F.conv_transpose2d if transposed else F.conv2d
    for label, shape, out_ch, k, s, p in cases[cfg.size]:
        rng = _rng()
        w_shape = (shape[1], out_ch, k, k) if transposed else (out_ch, shape[1], k, k)
        x, w = _randn(rng, shape), _randn(rng, w_shape) * np.float32(0.02)
        ho = (shape[2] - 1) * s - 2 * p + k if transposed else (shape[2] + 2 * p - k) // s + 1
        gy = _randn(rng, (shape[0], out_ch, ho, ho))
        pixels = shape[2] * shape[3] if transposed else ho * ho  # the GEMM runs over the smaller image
        flops = 2.0 * shape[0] * pixels * shape[1] * out_ch * k * k  # one GEMM

        def fwd_call():
            mx, mw = _mg_leaf(x), _mg_leaf(w)
            return lambda: mg_op(mx, mw, stride=s, padding=p)

        def fwd_bwd_call():
            mx, mw, mgy = _mg_leaf(x), _mg_leaf(w), mg.tensor(gy, device=_on["device"])

            def run():
                mx.grad = mw.grad = None
                mg_op(mx, mw, stride=s, padding=p).backward(mgy)
            return run
        fwd = _op_candidates(("im2col", "col2im"), fwd_call)
        both = _op_candidates(("im2col", "col2im"), fwd_bwd_call)
        if torch is not None:
            torch_op = getattr(torch.nn.functional, name)
            tx, tw = _torch(torch, x).requires_grad_(), _torch(torch, w).requires_grad_()
            tgy = _torch(torch, gy)
            fwd["torch"] = lambda: torch_op(tx, tw, stride=s, padding=p)

            def torch_both():
                tx.grad = tw.grad = None
                torch_op(tx, tw, stride=s, padding=p).backward(tgy)
            both["torch"] = torch_both
        _record(results, f"{name} forward", label, _rename_reference(_time(fwd, cfg, torch)), flops)
        _record(results, f"{name} forward+backward", label, _rename_reference(_time(both, cfg, torch)), 3 * flops)


def bench_conv_ops(cfg, torch, results):
    _bench_conv_family(cfg, torch, results, "conv2d", CONVS, transposed=False)


def bench_conv_transpose_ops(cfg, torch, results):
    _bench_conv_family(cfg, torch, results, "conv_transpose2d", CONV_TRANSPOSES, transposed=True)


def bench_elementwise_ops(cfg, torch, results):
    """leaky_relu and training-mode batch_norm through minigan.functional, forward + backward."""
    for label, shape in ELEMENTWISE[cfg.size]:
        rng = _rng()
        x, gy = _randn(rng, shape), _randn(rng, shape)

        def lrelu_call():
            mx, mgy = _mg_leaf(x), mg.tensor(gy, device=_on["device"])

            def run():
                mx.grad = None
                F.leaky_relu(mx, 0.2).backward(mgy)
            return run
        cands = _op_candidates(("leaky_relu", "leaky_relu_grad"), lrelu_call)
        if torch is not None:
            tx, tgy = _torch(torch, x).requires_grad_(), _torch(torch, gy)

            def torch_lrelu():
                tx.grad = None
                torch.nn.functional.leaky_relu(tx, 0.2).backward(tgy)
            cands["torch"] = torch_lrelu
        _record(results, "F.leaky_relu forward+backward", label, _rename_reference(_time(cands, cfg, torch)))
        c = shape[1]

        def bn_call():
            mx, mgy = _mg_leaf(x), mg.tensor(gy, device=_on["device"])
            gamma, beta = _mg_leaf(np.ones(c, np.float32)), _mg_leaf(np.zeros(c, np.float32))
            rm, rv = mg.zeros(c, device=_on["device"]), mg.ones(c, device=_on["device"])

            def run():
                mx.grad = gamma.grad = beta.grad = None
                F.batch_norm(mx, rm, rv, gamma, beta, training=True).backward(mgy)
            return run
        cands = _op_candidates(("batch_norm_forward", "batch_norm_backward"), bn_call)
        if torch is not None:
            tgamma = torch.ones(c, requires_grad=True, device=_on["device"])
            tbeta = torch.zeros(c, requires_grad=True, device=_on["device"])
            trm, trv = torch.zeros(c, device=_on["device"]), torch.ones(c, device=_on["device"])

            def torch_bn():
                tx.grad = tgamma.grad = tbeta.grad = None
                torch.nn.functional.batch_norm(tx, trm, trv, tgamma, tbeta, training=True).backward(tgy)
            cands["torch"] = torch_bn
        _record(results, "F.batch_norm forward+backward", label, _rename_reference(_time(cands, cfg, torch)))


BENCHES = (bench_im2col, bench_col2im, bench_batch_transpose, bench_leaky_relu, bench_batch_norm, bench_standardise,
           bench_adam,
           bench_conv_ops, bench_conv_transpose_ops, bench_elementwise_ops)


class Settings(NamedTuple):
    size: str = "full"  # "full": the W2/W3 shapes; "quick": tiny ones, for a smoke test
    repeats: int = 10  # samples per implementation and case
    rounds: int = 2  # interleaving rounds the samples are spread over
    pause: float = SWITCH_PAUSE_S  # seconds of sleep before each block (see benchmarks.timing)
    device: str = "cpu"  # "cpu" (NumPy arrays) or "cuda" (CuPy arrays; every sample waits for the GPU)


def run(cfg=Settings(), torch=None, log=print):
    """All kernel benchmarks; returns a list of rows (group, case, impl, median_s, ...)."""
    _on.update(device=cfg.device, xp=mg.backend.array_module_for(cfg.device))
    results = []
    for bench in BENCHES:
        log(f"kernels: {bench.__name__[6:]} on {cfg.device}")
        bench(cfg, torch, results)
    return results
