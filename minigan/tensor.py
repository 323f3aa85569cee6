"""Tensor: an array (NumPy or CuPy) plus what autograd needs (grad, requires_grad, creator).

dtype rules follow PyTorch: ``tensor()`` keeps the dtype of an array or NumPy scalar it is given
(float64 stays float64, for gradient checks) and makes float32 from Python floats and lists; ops keep
their inputs' float dtype; Python and NumPy scalars never promote a tensor (``x * 0.5`` stays float32).
"""
import numpy as np

from minigan import backend


class Tensor:
    """A node of the autograd graph. ``data`` is the raw array; ``creator`` the Function that made it."""

    __slots__ = ("data", "grad", "requires_grad", "creator", "generation", "_retain_grad", "_version", "__weakref__")
    __array_priority__ = 1000  # so that ndarray <op> Tensor defers to Tensor's reflected operator

    def __init__(self, data, requires_grad=False):
        if isinstance(data, Tensor):
            data = data.data
        elif not (isinstance(data, np.ndarray) or backend.is_cupy_array(data)):
            raise TypeError(f"Tensor: data must be a NumPy or CuPy array, got {type(data).__name__}; "
                            "use minigan.tensor() to convert Python values")
        self.data = data
        self.grad = None
        self.creator = None
        self.generation = 0
        self._retain_grad = False
        self._version = 0
        self.requires_grad = False
        if requires_grad:
            self.requires_grad_(True)

    @classmethod
    def _wrap(cls, data):
        """Fast constructor for op outputs: no checks, no grad."""
        t = object.__new__(cls)
        t.data, t.grad, t.creator, t.generation, t._retain_grad, t.requires_grad = data, None, None, 0, False, False
        t._version = 0
        return t

    def _bump_version(self):
        """Note that ``data`` was changed in place (an optimiser step, an init, a loaded state), so that a
        graph recorded with the old values refuses to backpropagate with the new ones."""
        self._version += 1

    # -- properties ---------------------------------------------------------------------------
    @property
    def shape(self):
        return self.data.shape

    @property
    def ndim(self):
        return self.data.ndim

    @property
    def dtype(self):
        return self.data.dtype

    @property
    def device(self):
        return backend.device_of(self.data)

    @property
    def is_leaf(self):
        return self.creator is None

    @property
    def _xp(self):
        return backend.get_array_module(self.data)

    def size(self, dim=None):
        return self.data.shape if dim is None else self.data.shape[dim]

    def numel(self):
        return int(self.data.size)

    def __len__(self):
        return len(self.data)

    def __repr__(self):
        body = np.array2string(self.numpy(), prefix="tensor(", precision=4, threshold=20)
        extra = "" if self.dtype == backend.DEFAULT_DTYPE else f", dtype={self.dtype}"
        if self.device != "cpu":
            extra += f", device='{self.device}'"
        if self.creator is not None:
            extra += f", creator={type(self.creator).__name__}"
        elif self.requires_grad:
            extra += ", requires_grad=True"
        return f"tensor({body}{extra})"

    # -- autograd -----------------------------------------------------------------------------
    def requires_grad_(self, mode=True):
        if mode and self.data.dtype.kind not in "fc":
            raise RuntimeError(f"requires_grad: only floating-point tensors can require grad, "
                               f"got dtype {self.data.dtype}")
        if not mode and self.creator is not None:
            raise RuntimeError("requires_grad_(False): only a leaf's flag can change; for a computed tensor "
                               "outside the graph use .detach()")
        self.requires_grad = bool(mode)
        return self

    def retain_grad(self):
        """Keep ``.grad`` on this non-leaf tensor after backward (leaves always keep it)."""
        if not self.requires_grad:
            raise RuntimeError("retain_grad: the tensor does not require grad")
        self._retain_grad = True
        return self

    def backward(self, grad=None, retain_graph=None, create_graph=False):
        from minigan.function import backward
        backward(self, grad, retain_graph, create_graph)

    def detach(self):
        """The same data, cut from the graph (shares memory, as in PyTorch)."""
        return Tensor._wrap(self.data)

    def zero_grad(self):
        self.grad = None

    # -- conversion ---------------------------------------------------------------------------
    def numpy(self):
        return backend.to_device(self.data, "cpu")

    def item(self):
        if self.data.size != 1:
            raise ValueError(f"item: only one-element tensors can be converted, got shape {tuple(self.shape)}")
        return self.data.reshape(()).item()

    def tolist(self):
        return self.numpy().tolist()

    def to(self, device=None, dtype=None):
        """Copy to another device and/or dtype; differentiable, so gradients flow back across it."""
        from minigan.functional.arithmetic import to_device, astype
        out = self
        if device is not None:
            out = to_device(out, backend.parse_device(device))
        if dtype is not None:
            out = astype(out, dtype)
        return out

    def cpu(self):
        return self.to("cpu")

    def cuda(self, device="cuda"):
        return self.to(device)

    def float(self):
        return self.to(dtype=np.float32)

    def double(self):
        return self.to(dtype=np.float64)

    def astype(self, dtype):
        return self.to(dtype=dtype)

    # -- operators (bound to minigan.functional at the end of this module) -----------------------
    def __add__(self, other):
        return _arith.add(self, other)

    def __radd__(self, other):
        return _arith.add(other, self)

    def __sub__(self, other):
        return _arith.sub(self, other)

    def __rsub__(self, other):
        return _arith.sub(other, self)

    def __mul__(self, other):
        return _arith.mul(self, other)

    def __rmul__(self, other):
        return _arith.mul(other, self)

    def __truediv__(self, other):
        return _arith.div(self, other)

    def __rtruediv__(self, other):
        return _arith.div(other, self)

    def __pow__(self, other):
        return _arith.pow(self, other)

    def __rpow__(self, other):
        return _arith.pow(other, self)

    def __matmul__(self, other):
        return _matmul(self, other)

    def __rmatmul__(self, other):
        return _matmul(other, self)

    def __neg__(self):
        return _arith.neg(self)

    def __pos__(self):
        return self

    def __abs__(self):
        return _arith.abs(self)

    def __getitem__(self, index):
        return _shape.getitem(self, index)

    def _compare(self, other, op):
        other = other.data if isinstance(other, Tensor) else other
        return Tensor._wrap(op(self.data, other))

    def __eq__(self, other):
        return self._compare(other, lambda a, b: a == b)

    def __ne__(self, other):
        return self._compare(other, lambda a, b: a != b)

    def __lt__(self, other):
        return self._compare(other, lambda a, b: a < b)

    def __le__(self, other):
        return self._compare(other, lambda a, b: a <= b)

    def __gt__(self, other):
        return self._compare(other, lambda a, b: a > b)

    def __ge__(self, other):
        return self._compare(other, lambda a, b: a >= b)

    __hash__ = object.__hash__  # identity hashing, as in PyTorch (== is elementwise)

    def __bool__(self):
        if self.data.size != 1:
            raise RuntimeError(f"bool: the truth value of a tensor with shape {tuple(self.shape)} is ambiguous")
        return bool(self.data)

    # -- methods ------------------------------------------------------------------------------
    def sum(self, axis=None, keepdims=False):
        return _reduction.sum(self, axis, keepdims)

    def mean(self, axis=None, keepdims=False):
        return _reduction.mean(self, axis, keepdims)

    def max(self, axis=None, keepdims=False):
        return _reduction.max(self, axis, keepdims)

    def min(self, axis=None, keepdims=False):
        return _reduction.min(self, axis, keepdims)

    def var(self, axis=None, keepdims=False, correction=1):
        return _reduction.var(self, axis, keepdims, correction)

    def std(self, axis=None, keepdims=False, correction=1):
        return _reduction.std(self, axis, keepdims, correction)

    def reshape(self, *shape):
        return _shape.reshape(self, shape[0] if len(shape) == 1 and isinstance(shape[0], (tuple, list)) else shape)

    view = reshape

    def transpose(self, dim0=None, dim1=None):
        """``t.transpose()`` reverses the axes (2-D: the matrix transpose); ``t.transpose(a, b)`` swaps two."""
        if dim0 is None:
            return _shape.transpose(self)
        axes = list(range(self.ndim))
        dim0, dim1 = (_shape.checked_axis("transpose", d, self.ndim) for d in (dim0, dim1))
        axes[dim0], axes[dim1] = axes[dim1], axes[dim0]
        return _shape.transpose(self, axes)

    def permute(self, *axes):
        return _shape.transpose(self, axes[0] if len(axes) == 1 and isinstance(axes[0], (tuple, list)) else axes)

    @property
    def T(self):
        return _shape.transpose(self)

    def flatten(self, start_dim=0, end_dim=-1):
        return _shape.flatten(self, start_dim, end_dim)

    def exp(self):
        return _arith.exp(self)

    def log(self):
        return _arith.log(self)

    def sqrt(self):
        return _arith.sqrt(self)

    def abs(self):
        return _arith.abs(self)

    def clip(self, min=None, max=None):
        return _arith.clip(self, min, max)

    clamp = clip

    def tanh(self):
        return _activation.tanh(self)

    def sigmoid(self):
        return _activation.sigmoid(self)

    def relu(self):
        return _activation.relu(self)


def zero_grads(tensors, set_to_none=True):
    """``zero_grad`` for modules and optimisers: each ``.grad`` to None, or filled with zeros in place."""
    for t in tensors:
        if set_to_none:
            t.grad = None
        elif t.grad is not None:
            t.grad.data[...] = 0


def tensor(data, dtype=None, device="cpu", requires_grad=False):
    """Make a tensor from a Python value or an array, with PyTorch's dtype rules (see module doc)."""
    device = backend.parse_device(device)
    if isinstance(data, Tensor):
        array = data.data
    elif isinstance(data, np.ndarray) or backend.is_cupy_array(data):
        array = data
    elif isinstance(data, np.generic):
        # A NumPy scalar keeps its dtype, as in torch.tensor (np.float64 subclasses float, so it is
        # told apart here); ops with a scalar operand still never promote.
        array = np.asarray(data)
    else:
        array = np.asarray(data)
        if dtype is None and array.dtype.kind == "f":
            array = array.astype(backend.DEFAULT_DTYPE)
    if dtype is not None:
        array = array.astype(np.dtype(dtype), copy=False)
    with backend.device_context(device):
        array = backend.to_device(array, device)
    if array is data or (isinstance(data, Tensor) and array is data.data):
        array = array.copy()  # a new tensor owns its memory, as torch.tensor does
    return Tensor(array, requires_grad=requires_grad)


from minigan.functional import activation as _activation  # noqa: E402  (operators need the ops)
from minigan.functional import arithmetic as _arith  # noqa: E402
from minigan.functional.linear import matmul as _matmul  # noqa: E402  (F.linear shadows the module)
from minigan.functional import reduction as _reduction  # noqa: E402
from minigan.functional import shape as _shape  # noqa: E402
