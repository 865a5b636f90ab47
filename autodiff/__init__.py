"""autodiff: a scalar reverse-mode automatic differentiation engine for learning and checking.

Build expressions from ``Value`` nodes, call ``backward()``, and read each node's ``grad``.

Example:
    >>> from autodiff import Value
    >>> w = Value(0.5, label="w")
    >>> loss = (w * 2.0 - 3.0) ** 2
    >>> loss.backward()
    >>> print(f"{loss.data:.2f} {w.grad:.2f}")
    4.00 -8.00
"""

from autodiff.engine import (
    Value,
    enable_grad,
    gradients,
    is_grad_enabled,
    no_grad,
    partials,
    topological_order,
)
from autodiff.ops import OPS, Op

__version__ = "0.1.0"

__all__ = [
    "OPS",
    "Op",
    "Value",
    "__version__",
    "enable_grad",
    "gradients",
    "is_grad_enabled",
    "no_grad",
    "partials",
    "topological_order",
]
