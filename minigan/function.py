"""The autograd engine: Function nodes, grad mode, and reverse-mode backpropagation.

A Function's ``forward`` works on raw arrays (NumPy or CuPy, through ``xp``); its ``backward`` receives
and returns Tensors and is written with minigan's own differentiable ops, so the gradient it returns
can itself be differentiated (double backward, which WGAN-GP and R1 need). ``Function.apply`` records
the node only when grad mode is on and some input requires grad (define-by-run, as in Chainer).
"""
import heapq
import itertools
import weakref

import numpy

from minigan.tensor import Tensor


class _GradMode:
    enabled = True


def is_grad_enabled():
    return _GradMode.enabled


class set_grad_enabled:
    """Context manager (and decorator) that turns graph recording on or off."""

    def __init__(self, mode):
        self.mode = bool(mode)

    def __enter__(self):
        self.previous = _GradMode.enabled
        _GradMode.enabled = self.mode

    def __exit__(self, *exc):
        _GradMode.enabled = self.previous

    def __call__(self, fn):
        def wrapper(*args, **kwargs):
            with set_grad_enabled(self.mode):
                return fn(*args, **kwargs)
        wrapper.__name__, wrapper.__doc__ = fn.__name__, fn.__doc__
        return wrapper


class no_grad(set_grad_enabled):
    """``with mg.no_grad():`` runs ops without recording them (inference, optimiser updates); as a
    decorator, ``@mg.no_grad()`` or, as PyTorch also allows, a bare ``@mg.no_grad``."""

    def __new__(cls, fn=None):
        return super().__new__(cls) if fn is None else set_grad_enabled(False)(fn)

    def __init__(self, fn=None):
        super().__init__(False)


class enable_grad(set_grad_enabled):
    def __new__(cls, fn=None):
        return super().__new__(cls) if fn is None else set_grad_enabled(True)(fn)

    def __init__(self, fn=None):
        super().__init__(True)


class Function:
    """One node of the graph. Subclasses define ``forward(*arrays)`` and ``backward(*grad_outputs)``.

    After ``apply`` records a node it holds ``inputs`` (the input Tensors, which backward needs to build
    a differentiable gradient) and weak references to its outputs (strong ones would keep every
    activation alive in a reference cycle; functions whose gradient uses the output, like tanh, read it
    through ``self.output``). ``needs_input_grad`` lets a backward skip gradients nobody asked for.
    """

    generation = 0

    def apply(self, *inputs):
        for x in inputs:
            if not isinstance(x, Tensor):  # an ndarray's .data is a memoryview: fail here, by name
                i = next(i for i, t in enumerate(inputs) if t is x)
                raise TypeError(f"{type(self).__name__}: input {i} is a {type(x).__name__}, not a Tensor; "
                                "wrap it with minigan.tensor(...)")
        if len(inputs) > 1:
            self._check_devices(inputs)
        try:
            outputs = self.forward(*[x.data for x in inputs])
        except ValueError as exc:
            shapes = ", ".join(str(tuple(x.shape)) for x in inputs)
            raise ValueError(f"{type(self).__name__}: {exc} (input shapes {shapes})") from None
        single = not isinstance(outputs, tuple)
        # NumPy reductions to 0-d return scalars (np.float32), not arrays: keep data an ndarray.
        outputs = tuple(Tensor._wrap(numpy.asarray(y) if isinstance(y, numpy.generic) else y)
                        for y in ((outputs,) if single else outputs))
        if _GradMode.enabled:
            needs = tuple(x.requires_grad for x in inputs)
            if any(needs):
                self.inputs = inputs
                self.input_versions = [x._version for x in inputs]
                self.needs_input_grad = needs
                self.generation = max(x.generation for x in inputs)
                for y in outputs:
                    y.requires_grad = True
                    y.creator = self
                    y.generation = self.generation + 1
                self.outputs = tuple(weakref.ref(y) for y in outputs)
                if not single:  # a dead output's zero gradient needs its shape and dtype (see _backprop)
                    self.output_specs = tuple((y.shape, y.dtype) for y in outputs)
        return outputs[0] if single else outputs

    def _check_devices(self, inputs):
        # NumPy and CuPy fail on mixed operands with messages that name neither the op nor the tensors
        # (CuPy: "Argument 'b' has incorrect type"), so catch the mix here, before forward runs.
        # The common case costs one type comparison per input; the device names are read only past it.
        first = inputs[0].data
        if all(type(x.data) is type(first) for x in inputs[1:]) and (
                isinstance(first, numpy.ndarray) or all(x.data.device == first.device for x in inputs[1:])):
            return
        if len({x.device for x in inputs}) > 1:
            where = ", ".join(f"input {i} {tuple(x.shape)} on {x.device}" for i, x in enumerate(inputs))
            raise ValueError(f"{type(self).__name__}: inputs are on different devices ({where}); "
                             "move them to one device with .to(device)")

    @property
    def output(self):
        return self.outputs[0]()

    def forward(self, *arrays):
        raise NotImplementedError

    def backward(self, *grad_outputs):
        raise NotImplementedError(f"{type(self).__name__} has no backward")


def _backprop(outputs, grad_outputs, create_graph, retain_graph, targets=None):
    """Propagate ``grad_outputs`` from ``outputs`` back through the graph.

    Nodes are visited in decreasing generation order (a heap plus a visited set), so a tensor used
    several times has all contributions summed before its creator runs. With ``targets`` (a list of
    tensors) the gradients of those tensors are returned and no ``.grad`` is touched, and only the
    nodes on a path to a target run (``_nodes_leading_to``); without it, leaves (and tensors marked
    with ``retain_grad``) accumulate into ``.grad`` as in PyTorch.

    Unless ``retain_graph``, every node is freed as soon as its backward has run, as in PyTorch: it lets
    go of its inputs and of what its forward saved, so the activations of the layers already passed
    are returned while the pass goes on down (lowering the peak memory of a backward, which otherwise
    holds every activation and the gradients at once), the graph's memory is returned even while the
    loss is still referenced, and a second backward through it is an error rather than a silent repeat.
    """
    pending = {}  # id(tensor) -> [tensor, summed gradient]; holding the tensor keeps its id unique
    heap, seen, order = [], set(), itertools.count()
    target_ids = None if targets is None else {id(t) for t in targets}
    leading = None if targets is None else _nodes_leading_to(outputs, target_ids)
    captured = {}

    def wanted(x):
        # With targets, a gradient is worth computing only on a path to one of them.
        return leading is None or id(x) in target_ids or (x.creator is not None and x.creator in leading)

    def add(tensor, grad):
        entry = pending.get(id(tensor))
        if entry is None:
            pending[id(tensor)] = [tensor, grad]
        else:
            entry[1] = entry[1] + grad
        f = tensor.creator
        if f is not None and f not in seen and (leading is None or f in leading):
            seen.add(f)
            heapq.heappush(heap, (-f.generation, next(order), f))

    # Arrays that someone else holds: the caller's grad_outputs, and every gradient already given to a
    # tensor's .grad (an op's backward may return one array for several inputs, as Add does).
    held = {id(g.data) for g in grad_outputs}

    def deliver(tensor, grad):
        if target_ids is not None:
            if id(tensor) in target_ids:
                captured[id(tensor)] = grad
        elif tensor.creator is None or tensor._retain_grad:
            grad = grad if tensor.grad is None else tensor.grad + grad
            tensor.grad = _own_grad(grad, tensor.dtype, held, create_graph)
            held.add(id(tensor.grad.data))

    for y, gy in zip(outputs, grad_outputs):
        if not y.requires_grad:
            raise RuntimeError(f"backward: tensor of shape {tuple(y.shape)} does not require grad "
                               "and has no creator; nothing to differentiate")
        add(y, gy)

    with set_grad_enabled(create_graph):
        while heap:
            f = heapq.heappop(heap)[2]
            if "inputs" not in f.__dict__:
                raise RuntimeError(f"backward: the graph through {type(f).__name__} was freed by an earlier "
                                   "backward; to go through a graph twice, pass retain_graph=True to the first")
            # The node's live outputs, held until its backward is done: it may read them (self.output),
            # and the nodes above, which held them as inputs, have been freed.
            outs = [ref() for ref in f.outputs]
            gys = []
            for y in outs:
                entry = pending.pop(id(y), None) if y is not None else None
                if entry is not None:
                    deliver(y, entry[1])
                gys.append(None if entry is None else entry[1])
            if all(g is None for g in gys):
                continue
            _check_unchanged(f)
            if len(gys) > 1:
                xp = next(g for g in gys if g is not None)._xp
                gys = [g if g is not None else Tensor._wrap(xp.zeros(shape, dtype))
                       for g, (shape, dtype) in zip(gys, f.output_specs)]
            needs = f.needs_input_grad
            f.needs_input_grad = tuple(n and wanted(x) for n, x in zip(needs, f.inputs))
            try:
                gxs = f.backward(*gys)
            finally:
                f.needs_input_grad = needs  # for a later backward through a retained graph
            if not isinstance(gxs, tuple):
                gxs = (gxs,)
            for x, gx in zip(f.inputs, gxs):
                if gx is not None and x.requires_grad and wanted(x):
                    if gx.shape != x.shape:
                        raise RuntimeError(f"{type(f).__name__}.backward returned a gradient of shape "
                                           f"{tuple(gx.shape)} for an input of shape {tuple(x.shape)}")
                    add(x, gx)
            if not retain_graph:
                f.__dict__.clear()
            del f, outs, y, entry, gys, gxs  # this node's arrays go now, not when the next node's take these names
        for tensor, grad in pending.values():  # leaves: no creator left to visit
            deliver(tensor, grad)
    return captured


def _nodes_leading_to(outputs, target_ids):
    """The nodes of the graph below ``outputs`` from which a target tensor is reached going down.

    Only they need to run for ``grad(outputs, targets)``, and only towards such inputs: a gradient
    penalty asks for D's gradient with respect to its input, and without this every layer would also
    compute its weight's gradient, to be thrown away (PyTorch's engine prunes the same way). A node's
    inputs come from nodes of lower generation, so one pass in increasing generation settles each.
    """
    nodes, stack = set(), [y.creator for y in outputs if y.creator is not None]
    while stack:
        f = stack.pop()
        if f not in nodes:
            nodes.add(f)
            stack.extend(x.creator for x in f.__dict__.get("inputs", ()) if x.creator is not None)
    leading = set()
    for f in sorted(nodes, key=lambda f: f.generation):
        inputs = f.__dict__.get("inputs")
        # a freed node is kept, so that the traversal reaches it and says the graph was freed
        if inputs is None or any(id(x) in target_ids or x.creator in leading for x in inputs):
            leading.add(f)
    return leading


def _check_unchanged(f):
    """The backward of ``f`` works from its inputs as they were at forward; refuse if one was changed in
    place since (the classic GAN mistake: stepping D's optimiser between building G's loss through D and
    backpropagating it, which would compute G's gradient with D's new weights)."""
    for i, (x, version) in enumerate(zip(f.inputs, f.input_versions)):
        if x._version != version:
            raise RuntimeError(f"backward: input {i} of {type(f).__name__} (shape {tuple(x.shape)}) was changed in "
                               "place after the forward pass that used it (by an optimiser step, say); compute "
                               "the loss again after the change, or backpropagate before it")


def _own_grad(grad, dtype, held, create_graph):
    """``grad`` as a ``.grad``: of the tensor's own dtype and, as in PyTorch, an array of its own that a
    user may scale or clip in place (not a read-only broadcast view, nor an array another tensor holds).
    A float64 term in a float32 model's loss thus leaves float32 gradients."""
    if grad.dtype != dtype:
        return grad.astype(dtype)
    data = grad.data
    if not create_graph and (id(data) in held or data.base is not None
                             or not getattr(data.flags, "writeable", True)):
        return Tensor._wrap(data.copy())
    return grad


def _checked_grad_output(what, gy, y):
    """``gy`` (a Tensor or array) as the gradient arriving at output ``y``, which it must match in shape."""
    if not isinstance(gy, Tensor):
        gy = Tensor._wrap(y._xp.asarray(gy, dtype=y.dtype))
    if gy.shape != y.shape:
        raise ValueError(f"{what} of shape {tuple(gy.shape)} does not match its output's shape {tuple(y.shape)}")
    return gy


def _ones_like(y):
    return Tensor._wrap(y._xp.ones_like(y.data))


def backward(tensor, grad=None, retain_graph=None, create_graph=False):
    """``tensor.backward()``: accumulate d tensor / d leaf into every leaf's ``.grad``. The graph is freed
    unless ``retain_graph`` (default: ``create_graph``), as in ``torch.Tensor.backward``."""
    if grad is None:
        if tensor.data.size != 1:
            raise RuntimeError(f"backward: grad can be created implicitly only for a tensor with one "
                               f"element; got shape {tuple(tensor.shape)}: pass grad=")
        grad = _ones_like(tensor)
    else:
        grad = _checked_grad_output("backward: grad", grad, tensor)
    _backprop([tensor], [grad], create_graph, create_graph if retain_graph is None else retain_graph)


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False, allow_unused=False):
    """Gradients of ``outputs`` with respect to ``inputs``, as a tuple of Tensors (no ``.grad`` set).

    With ``create_graph=True`` the result is part of the graph and can be differentiated again, as in
    ``torch.autograd.grad``; this is how gradient penalties (WGAN-GP, R1) are built. The graph is freed
    unless ``retain_graph`` (default: ``create_graph``).
    """
    outputs = [outputs] if isinstance(outputs, Tensor) else list(outputs)
    single = isinstance(inputs, Tensor)
    inputs = [inputs] if single else list(inputs)
    if grad_outputs is None:
        grad_outputs = [None] * len(outputs)
    elif isinstance(grad_outputs, Tensor) or hasattr(grad_outputs, "shape"):  # one Tensor or array
        grad_outputs = [grad_outputs]
    gys = []
    for i, (y, gy) in enumerate(zip(outputs, grad_outputs)):
        if gy is None:
            if y.data.size != 1:
                raise RuntimeError(f"grad: grad_outputs must be given for an output of shape "
                                   f"{tuple(y.shape)} (only one-element outputs get an implicit 1)")
            gy = _ones_like(y)
        gys.append(_checked_grad_output(f"grad: grad_outputs[{i}]", gy, y))
    for x in inputs:
        if not x.requires_grad:
            raise RuntimeError(f"grad: an input of shape {tuple(x.shape)} does not require grad")
    captured = _backprop(outputs, gys, create_graph, create_graph if retain_graph is None else retain_graph,
                         targets=inputs)
    result = []
    for x in inputs:
        g = captured.get(id(x))
        if g is None and not allow_unused:
            raise RuntimeError(f"grad: an input of shape {tuple(x.shape)} was not used to compute the "
                               "outputs; pass allow_unused=True to get None for it")
        result.append(g)
    return tuple(result)
