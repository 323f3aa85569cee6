"""Special functions: the error function erf and its complement erfc, differentiable to any order
(``torch.erf``, ``torch.erfc``), for the exact GELU (``activation.gelu``).

NumPy has no erf (and minigan depends on NumPy alone), so here is one that works on NumPy and CuPy
arrays alike, in the array's own dtype. It uses the rational Chebyshev approximations of
W. J. Cody, "Rational Chebyshev approximations for the error function", Mathematics of Computation 23
(1969), 631-637, with the coefficients of his CALERF routine (Netlib SPECFUN), which are good to about
1e-18 relative: in float64 the result is within a few roundings of the true value. Three intervals of
y = |x|:
  y <= 0.46875:      erf(x)  = x P1(x^2) / Q1(x^2)
  0.46875 < y <= 4:  erfc(y) = e^(-y^2) P2(y) / Q2(y)
  y > 4:             erfc(y) = e^(-y^2) / y * (1/sqrt(pi) - z P3(z) / Q3(z)),  z = 1 / y^2
and erf = 1 - erfc, erf(-x) = -erf(x), erfc(-x) = 2 - erfc(x). The polynomials are written highest
degree first, for Horner's rule (Cody's loops evaluate exactly these, in this order).
"""
import math

from minigan import backend
from minigan.function import Function
from minigan.functional.arithmetic import exp, floating

_P1 = (1.85777706184603153e-1, 3.16112374387056560e00, 1.13864154151050156e02, 3.77485237685302021e02,
       3.20937758913846947e03)
_Q1 = (1.0, 2.36012909523441209e01, 2.44024637934444173e02, 1.28261652607737228e03, 2.84423683343917062e03)
_P2 = (2.15311535474403846e-8, 5.64188496988670089e-1, 8.88314979438837594e00, 6.61191906371416295e01,
       2.98635138197400131e02, 8.81952221241769090e02, 1.71204761263407058e03, 2.05107837782607147e03,
       1.23033935479799725e03)
_Q2 = (1.0, 1.57449261107098347e01, 1.17693950891312499e02, 5.37181101862009858e02, 1.62138957456669019e03,
       3.29079923573345963e03, 4.36261909014324716e03, 3.43936767414372164e03, 1.23033935480374942e03)
_P3 = (1.63153871373020978e-2, 3.05326634961232344e-1, 3.60344899949804439e-1, 1.25781726111229246e-1,
       1.60837851487422766e-2, 6.58749161529837803e-4)
_Q3 = (1.0, 2.56852019228982242e00, 1.87295284992346047e00, 5.27905102951428412e-1, 6.05183413124413191e-2,
       2.33520497626869185e-3)
_SMALL, _MIDDLE = 0.46875, 4.0
# erfc(y) is below the smallest float64 (subnormals included) from y ~ 27.3; arguments are clamped here.
_HUGE = 30.0
_ONE_OVER_SQRT_PI = 1 / math.sqrt(math.pi)
_TWO_OVER_SQRT_PI = 2 / math.sqrt(math.pi)


def _horner(coefficients, z):
    t = z.dtype.type
    total = z * t(coefficients[0]) + t(coefficients[1])
    for c in coefficients[2:]:
        total = total * z + t(c)
    return total


def _erf_small(x):
    """erf(x) for |x| <= 0.46875 (x is clamped to that interval, so any x is safe to pass)."""
    xp = backend.get_array_module(x)
    x = xp.clip(x, x.dtype.type(-_SMALL), x.dtype.type(_SMALL))
    z = x * x
    return x * _horner(_P1, z) / _horner(_Q1, z)


def _erfc_positive(y):
    """erfc(y) for y >= 0.46875 (second and third intervals; y = |x|, clamped to each interval so that
    neither branch overflows or divides by zero where the other one is used)."""
    xp = backend.get_array_module(y)
    t = y.dtype.type
    middle = xp.clip(y, t(_SMALL), t(_MIDDLE))
    large = xp.clip(y, t(_MIDDLE), t(_HUGE))
    ratio_middle = _horner(_P2, middle) / _horner(_Q2, middle)
    z = t(1) / (large * large)
    ratio_large = (t(_ONE_OVER_SQRT_PI) - z * _horner(_P3, z) / _horner(_Q3, z)) / large
    # e^(-y^2) as e^(-s^2) e^(-(y - s)(y + s)), s = y rounded down to a multiple of 1/16 (Cody's device):
    # s^2 is exact, so the rounding error of y^2 (relative, but multiplied by y^2 inside exp) is avoided.
    y = xp.minimum(y, t(_HUGE))  # also maps inf to a finite y whose e^(-y^2) is 0 (NaN stays NaN)
    s = xp.trunc(y * t(16)) / t(16)
    gaussian = xp.exp(-(s * s)) * xp.exp(-((y - s) * (y + s)))
    return xp.where(y <= t(_MIDDLE), ratio_middle, ratio_large) * gaussian


def erf_array(x):
    """erf(x) = 2/sqrt(pi) int_0^x e^(-t^2) dt of a NumPy or CuPy float array, elementwise, in its dtype
    (Cody's approximations, see the module docstring; about 1e-16 relative in float64)."""
    xp = backend.get_array_module(x)
    y = xp.abs(x)
    tail = x.dtype.type(1) - _erfc_positive(y)
    return xp.where(y <= x.dtype.type(_SMALL), _erf_small(x), xp.where(x < 0, -tail, tail))


def erfc_array(x):
    """erfc(x) = 1 - erf(x), computed directly so that it keeps its relative precision where it is tiny
    (large x), which 1 - erf(x) would round to 0."""
    xp = backend.get_array_module(x)
    t = x.dtype.type
    y = xp.abs(x)
    tail = _erfc_positive(y)
    return xp.where(y <= t(_SMALL), t(1) - _erf_small(x), xp.where(x < 0, t(2) - tail, tail))


class Erf(Function):
    """y = erf(x).  y' = 2/sqrt(pi) e^(-x^2), written with ops so that it can be differentiated again."""

    def forward(self, x):
        return erf_array(x)

    def backward(self, gy):
        x = self.inputs[0]
        return gy * (exp(-(x * x)) * _TWO_OVER_SQRT_PI)


class Erfc(Function):
    """y = erfc(x) = 1 - erf(x).  y' = -2/sqrt(pi) e^(-x^2), written with ops (differentiable again)."""

    def forward(self, x):
        return erfc_array(x)

    def backward(self, gy):
        x = self.inputs[0]
        return gy * (exp(-(x * x)) * -_TWO_OVER_SQRT_PI)


def erf(x):
    """The error function, differentiable (twice and more); ``torch.erf``."""
    return Erf().apply(floating(x))


def erfc(x):
    """The complementary error function 1 - erf(x), accurate where it is tiny; ``torch.erfc``."""
    return Erfc().apply(floating(x))
