"""The registry: every tutorial network, in the order ``python -m nets all`` trains them.

This module owns the list and the look-up by name, nothing else. Each entry is a tutorial
module's ``NETWORK`` (a ``nets.network.Network``); the command line loops over ``NETWORKS`` and
knows no network by name. Adding a network is one new module that defines ``NETWORK`` and one
line below.

Example:
    >>> [network.name for network in NETWORKS]
    ['neuron', 'hidden', 'celsius', 'moons']
    >>> get("celsius").lr
    0.001
"""

from __future__ import annotations

from nets import celsius, hidden, moons, neuron
from nets.network import Network

__all__ = ["NETWORKS", "get", "names"]

NETWORKS: tuple[Network, ...] = (
    neuron.NETWORK,
    hidden.NETWORK,
    celsius.NETWORK,
    moons.NETWORK,
)
"""The networks, in the order ``all`` trains them."""


def names() -> list[str]:
    """Return the networks' names, in order.

    Example:
        >>> names()
        ['neuron', 'hidden', 'celsius', 'moons']
    """
    return [network.name for network in NETWORKS]


def get(name: str) -> Network:
    """Return the network called ``name``.

    Raises:
        KeyError: No network has that name (the message lists the names there are).

    Example:
        >>> get("hidden").steps
        1
    """
    for network in NETWORKS:
        if network.name == name:
            return network
    raise KeyError(f"no network called {name!r}; the networks are {', '.join(names())}")
