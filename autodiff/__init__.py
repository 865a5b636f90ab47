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

from autodiff import testing
from autodiff.anomaly import detect_anomaly
from autodiff.check import GradcheckError, gradcheck, gradgradcheck
from autodiff.coerce import to_float
from autodiff.custom import CustomOp, define_op
from autodiff.engine import (
    Value,
    gradients,
    partials,
    topological_order,
)
from autodiff.explain import Explanation, explain, node_names
from autodiff.functional import grad, hessian, value_and_grad
from autodiff.mode import enable_grad, is_grad_enabled, no_grad
from autodiff.ops import OPS, Op
from autodiff.optim import SGD
from autodiff.steps import ChainRuleStep, chain_rule_steps
from autodiff.tape import Tape
from autodiff.testing import DerivationError, assert_gradients, check_chain
from autodiff.viz import DotNotFoundError, backward_steps, draw, explore, render, to_text

__version__ = "0.1.0"

__all__ = [
    "OPS",
    "SGD",
    "ChainRuleStep",
    "CustomOp",
    "DerivationError",
    "DotNotFoundError",
    "Explanation",
    "GradcheckError",
    "Op",
    "Tape",
    "Value",
    "__version__",
    "assert_gradients",
    "backward_steps",
    "chain_rule_steps",
    "check_chain",
    "define_op",
    "detect_anomaly",
    "draw",
    "enable_grad",
    "explain",
    "explore",
    "grad",
    "gradcheck",
    "gradgradcheck",
    "gradients",
    "hessian",
    "is_grad_enabled",
    "no_grad",
    "node_names",
    "partials",
    "render",
    "testing",
    "to_float",
    "to_text",
    "topological_order",
    "value_and_grad",
]
