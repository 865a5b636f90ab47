"""nets: the tutorial networks, built only from the public ``autodiff`` API.

This package owns the tutorial networks (``nets.neuron``, ``nets.hidden``, ``nets.celsius``),
each filling the same small interface (``nets.network.Network``) and listed in
``nets.registry``; the building blocks they share (``nets.module``), the training loop and its
``History`` (``nets.training``), the plotting helpers (``nets.plots``) and the command line
(``python -m nets``), which loops over the registry. The engine itself lives in ``autodiff``,
which never imports ``nets``. The distribution is named ``autodiff-nets``.

Example:
    >>> from nets import hidden
    >>> print(f"{hidden.train().final_params['W2']:.8f}")
    -0.99612544
"""

from nets.module import MLP, Layer, Module, Neuron
from nets.training import History

__all__ = ["MLP", "History", "Layer", "Module", "Neuron"]
