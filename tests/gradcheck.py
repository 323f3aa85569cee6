"""Numerical gradient checks in float64: first order (gradcheck) and second order (gradgradcheck).

``check_grad(fn, arrays)`` compares ``minigan.grad`` of ``sum(fn(*xs) * gy)`` (gy random) with
central differences. ``check_double_grad`` applies the same check to the function
``(xs, gy) -> sum_i <d/dx_i sum(fn * gy), v_i>``, which exercises every backward's own backward, and
then the same with gy held constant.
"""
import numpy as np

import minigan as mg

# How many checks ran, by order; conftest prints it at the end of the session.
CHECKS = {"first": 0, "second": 0}


def _to(arrays, device):
    return [mg.tensor(np.asarray(a, dtype=np.float64), device=device, requires_grad=True) for a in arrays]


def numerical_grad(scalar_fn, arrays, eps=1e-6):
    """d scalar_fn / d arrays by central differences (arrays are float64 NumPy, perturbed in place)."""
    grads = []
    for a in arrays:
        g = np.zeros_like(a)
        flat, gflat = a.reshape(-1), g.reshape(-1)
        for i in range(flat.size):
            old = flat[i]
            flat[i] = old + eps
            plus = scalar_fn(arrays)
            flat[i] = old - eps
            minus = scalar_fn(arrays)
            flat[i] = old
            gflat[i] = (plus - minus) / (2 * eps)
        grads.append(g)
    return grads


def check_grad(fn, arrays, device="cpu", atol=1e-6, rtol=1e-4, seed=0):
    CHECKS["first"] += 1
    arrays = [np.array(a, dtype=np.float64) for a in arrays]
    xs = _to(arrays, device)
    y = fn(*xs)
    gy = np.random.default_rng(seed).standard_normal(y.shape)
    # an output outside the graph (a gradient that depends on no input) has a zero gradient
    analytic = mg.grad(y, xs, mg.tensor(gy, device=device), allow_unused=True) if y.requires_grad else [None] * len(xs)

    def scalar(arrs):
        return float((fn(*_to(arrs, device)).numpy() * gy).sum())

    numeric = numerical_grad(scalar, arrays)
    for i, (a, n) in enumerate(zip(analytic, numeric)):
        a = np.zeros_like(n) if a is None else a.numpy()
        assert a.dtype == np.float64, f"input {i}: gradient dtype {a.dtype}"
        np.testing.assert_allclose(a, n, atol=atol, rtol=rtol, err_msg=f"first-order gradient of input {i}")


def check_double_grad(fn, arrays, device="cpu", atol=1e-5, rtol=1e-3, seed=0):
    CHECKS["second"] += 1
    CHECKS["first"] -= 2  # the second-order check runs two first-order checks of its own
    arrays = [np.array(a, dtype=np.float64) for a in arrays]
    rng = np.random.default_rng(seed + 1)
    with mg.no_grad():
        y_shape = fn(*_to(arrays, device)).shape
    gy0 = rng.standard_normal(y_shape)
    vs = [mg.tensor(rng.standard_normal(a.shape), device=device) for a in arrays]

    def first_grad_dot_v(*args):
        xs, gy = args[:-1], args[-1]
        gs = mg.grad(fn(*xs), xs, gy, create_graph=True, allow_unused=True)
        total = None
        for g, v in zip(gs, vs):
            if g is not None:
                term = (g * v).sum()
                total = term if total is None else total + term
        return total if total is not None else (gy * 0).sum()

    check_grad(first_grad_dot_v, arrays + [gy0], device, atol=atol, rtol=rtol, seed=seed + 2)

    # Again with gy a constant, as in a penalty on D's input gradient: a backward's own backward must
    # then cope with parts of the first gradient that depend on gy alone and need no gradient.
    gy_const = mg.tensor(gy0, device=device)
    check_grad(lambda *xs: first_grad_dot_v(*xs, gy_const), arrays, device, atol=atol, rtol=rtol, seed=seed + 3)


def check_third_order(fn, x, w, rtol=1e-4, atol=1e-6):
    """d/dw of ||H v||^2, H v = d/dx <d/dx sum(fn(x, w)), v> a Hessian-vector product in x (v random),
    against central differences in w: the second derivative, built under ``create_graph``, must itself
    be differentiable (exact to third order). x, w: float64 arrays."""
    xt = mg.tensor(np.array(x, dtype=np.float64), requires_grad=True)
    v = mg.tensor(np.random.default_rng(5).standard_normal(np.shape(x)))

    def penalty(w_array):
        wt = mg.tensor(np.array(w_array, dtype=np.float64), requires_grad=True)
        gx, = mg.grad(fn(xt, wt).sum(), [xt], create_graph=True)
        hv, = mg.grad((gx * v).sum(), [xt], create_graph=True)
        return (hv * hv).sum(), wt

    value, wt = penalty(w)
    analytic, = mg.grad(value, [wt])
    numeric = numerical_grad(lambda arrs: penalty(arrs[0])[0].item(), [np.array(w, dtype=np.float64)])[0]
    np.testing.assert_allclose(analytic.numpy(), numeric, rtol=rtol, atol=atol)
