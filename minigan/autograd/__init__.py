"""The autograd core: Tensor, the tape of primitives, backward and grad, grad modes."""

from minigan.autograd import profiler
from minigan.autograd.creation import *  # noqa: F403
from minigan.autograd.creation import __all__ as _creation_all
from minigan.autograd.engine import backward, grad
from minigan.autograd.grad_mode import enable_grad, is_grad_enabled, no_grad, set_grad_enabled
from minigan.autograd.legacy import DoubleTensor, FloatTensor, LongTensor, Variable, backends, cuda
from minigan.autograd.primitive import Node, Primitive, primitive
from minigan.autograd.tensor import Device, Tensor

device = Device  # torch's spelling: mg.device("cuda" if mg.cuda.is_available() else "cpu")

__all__ = [
    "Tensor", "device", "profiler", "Node", "Primitive", "primitive", "backward", "grad",
    "no_grad", "enable_grad", "is_grad_enabled", "set_grad_enabled", *_creation_all,
    "Variable", "FloatTensor", "DoubleTensor", "LongTensor", "cuda", "backends",
]
