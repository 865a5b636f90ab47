"""Building blocks for the tutorial networks: ``Module``, ``Neuron``, ``Layer`` and ``MLP``.

This module owns how parameters are created (from an explicit seed or ``random.Random``, never
the global random state), named and grouped. It does not train anything (``nets.training``
does) and it uses only the public ``autodiff`` API, like any user of the engine.

Example:
    >>> neuron = Neuron(2, rng=0, activation="sigmoid")
    >>> [name for name, _ in neuron.named_parameters()]
    ['w1', 'w2', 'b']
    >>> out = neuron([1.0, -1.0])
    >>> 0.0 < out.data < 1.0
    True
"""

from __future__ import annotations

import numbers
import operator
import random
from collections.abc import Callable, Mapping, Sequence
from typing import Literal, Union

from autodiff import Value

__all__ = ["MLP", "Activation", "Layer", "Module", "Neuron", "Seed", "make_rng"]

Activation = Literal["linear", "sigmoid", "tanh", "relu"]
"""The activation a neuron applies to its sum of products."""

Seed = Union[int, random.Random]
"""Where randomness comes from: an integer seed, or a generator the caller owns."""

Operand = Union[Value, float]

_ACTIVATIONS: dict[str, Callable[[Value], Value]] = {
    "linear": lambda x: x,
    "sigmoid": Value.sigmoid,
    "tanh": Value.tanh,
    "relu": Value.relu,
}


def make_rng(seed: Seed) -> random.Random:
    """Return a generator for ``seed``: a new ``random.Random(seed)``, or the generator given.

    Args:
        seed: An integer seed, or a ``random.Random`` to draw from (and advance).

    Raises:
        TypeError: ``seed`` is neither an int nor a ``random.Random``.

    Example:
        >>> print(f"{make_rng(0).random():.6f}")
        0.844422
    """
    if isinstance(seed, random.Random):
        return seed
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral):  # numpy ints are
        raise TypeError(
            f"make_rng: seed must be an int or random.Random, got {type(seed).__name__}"
        )
    return random.Random(operator.index(seed))  # np.int64(3) seeds as 3 does


def _indexed(children: Sequence[Module]) -> list[tuple[str, Value]]:
    """The children's named parameters, each name prefixed with its child's index."""
    return [
        (f"{index}.{name}", param)
        for index, child in enumerate(children)
        for name, param in child.named_parameters()
    ]


class Module:
    """Something with named parameters: the base of ``Neuron``, ``Layer``, ``MLP`` and the nets.

    Subclasses implement ``named_parameters``; everything else is derived from it.

    Example:
        >>> class Line(Module):
        ...     def __init__(self) -> None:
        ...         self.slope = Value(2.0, label="slope")
        ...     def named_parameters(self) -> list[tuple[str, Value]]:
        ...         return [("slope", self.slope)]
        >>> line = Line()
        >>> line.parameter_values()
        {'slope': 2.0}
    """

    def named_parameters(self) -> list[tuple[str, Value]]:
        """Return ``(name, parameter)`` pairs, in a fixed order.

        Example:
            >>> [name for name, _ in Neuron(1, rng=0).named_parameters()]
            ['w1', 'b']
        """
        raise NotImplementedError(f"{type(self).__name__} must implement named_parameters()")

    def parameters(self) -> list[Value]:
        """Return the parameters, in the order of ``named_parameters``.

        Example:
            >>> len(Layer(3, 2, rng=0).parameters())  # 2 neurons x (3 weights + 1 bias)
            8
        """
        return [param for _, param in self.named_parameters()]

    def zero_grad(self) -> None:
        """Set every parameter's gradient to 0.0.

        Example:
            >>> neuron = Neuron(1, rng=0)
            >>> neuron([2.0]).backward()
            >>> neuron.zero_grad()
            >>> [p.grad for p in neuron.parameters()]
            [0.0, 0.0]
        """
        for param in self.parameters():
            param.grad = 0.0

    def parameter_values(self) -> dict[str, float]:
        """Return each parameter's number by name.

        Example:
            >>> Neuron.from_weights([0.5], bias=-1.0).parameter_values()
            {'w1': 0.5, 'b': -1.0}
        """
        return {name: param.data for name, param in self.named_parameters()}

    def load_parameter_values(self, values: Mapping[str, float]) -> None:
        """Set parameters' numbers by name (as given by ``parameter_values``).

        Raises:
            KeyError: A name is not one of this module's parameters.

        Example:
            >>> neuron = Neuron.from_weights([0.5], bias=0.0)
            >>> neuron.load_parameter_values({"w1": 2.0})
            >>> neuron.parameter_values()
            {'w1': 2.0, 'b': 0.0}
        """
        params = dict(self.named_parameters())
        for name, number in values.items():
            if name not in params:
                raise KeyError(
                    f"{type(self).__name__}: no parameter named {name!r}; have {sorted(params)}"
                )
            params[name].data = float(number)


class Neuron(Module):
    """One neuron: activation(w1·x1 + ... + wn·xn + b), with weights drawn uniformly.

    Args:
        n_inputs: How many inputs (and weights).
        rng: An integer seed or a ``random.Random``; weights are drawn first, then the bias.
        activation: "linear", "sigmoid", "tanh" or "relu".
        bias: Whether the neuron has a bias.
        low: Lower end of the uniform range parameters are drawn from.
        high: Upper end (excluded) of that range.
        weight_labels: Labels of the weights (default "w1" ... "wn").
        bias_label: Label of the bias.

    Example:
        >>> neuron = Neuron(1, rng=0, low=0.0, high=1.0, bias=False)
        >>> print(f"{neuron.weights[0].data:.6f}")  # random.Random(0).random()
        0.844422
        >>> print(f"{neuron([2.0]).data:.6f}")
        1.688844
    """

    weights: list[Value]
    bias: Value | None
    activation: Activation

    def __init__(
        self,
        n_inputs: int,
        *,
        rng: Seed,
        activation: Activation = "linear",
        bias: bool = True,
        low: float = -1.0,
        high: float = 1.0,
        weight_labels: Sequence[str] | None = None,
        bias_label: str = "b",
    ) -> None:
        if isinstance(n_inputs, bool) or not isinstance(n_inputs, int) or n_inputs < 1:
            raise ValueError(f"Neuron: n_inputs must be an int >= 1, got {n_inputs!r}")
        if not low < high:
            raise ValueError(f"Neuron: need low < high, got low={low!r}, high={high!r}")
        generator = make_rng(rng)
        weights = [low + (high - low) * generator.random() for _ in range(n_inputs)]
        bias_value = low + (high - low) * generator.random() if bias else None
        self._build(weights, bias_value, activation, weight_labels, bias_label)

    @classmethod
    def from_weights(
        cls,
        weights: Sequence[float],
        bias: float | None = 0.0,
        *,
        activation: Activation = "linear",
        weight_labels: Sequence[str] | None = None,
        bias_label: str = "b",
    ) -> Neuron:
        """Make a neuron with the given weights and bias (None: no bias), drawing nothing.

        Example:
            >>> neuron = Neuron.from_weights([0.5], bias=0.0, activation="sigmoid")
            >>> print(f"{neuron([1.0]).data:.8f}")  # sigmoid(0.5)
            0.62245933
        """
        neuron = cls.__new__(cls)
        neuron._build(list(weights), bias, activation, weight_labels, bias_label)
        return neuron

    def _build(
        self,
        weights: list[float],
        bias: float | None,
        activation: Activation,
        weight_labels: Sequence[str] | None,
        bias_label: str,
    ) -> None:
        if not weights:
            raise ValueError("Neuron: needs at least one weight")
        if activation not in _ACTIVATIONS:
            raise ValueError(
                f"Neuron: unknown activation {activation!r}; choose from {sorted(_ACTIVATIONS)}"
            )
        labels = (
            [f"w{i}" for i in range(1, len(weights) + 1)]
            if weight_labels is None
            else list(weight_labels)
        )
        if len(labels) != len(weights):
            raise ValueError(
                f"Neuron: {len(labels)} weight labels given for {len(weights)} weights"
            )
        self.weights = [Value(w, label=label) for w, label in zip(weights, labels, strict=True)]
        self.bias = None if bias is None else Value(bias, label=bias_label)
        self.activation = activation

    @property
    def n_inputs(self) -> int:
        """How many inputs the neuron takes."""
        return len(self.weights)

    def named_parameters(self) -> list[tuple[str, Value]]:
        """Return the weights then the bias, each named by its label.

        Example:
            >>> neuron = Neuron.from_weights([1.0], None, weight_labels=["w"])
            >>> [name for name, _ in neuron.named_parameters()]
            ['w']
        """
        named = [(w.label, w) for w in self.weights]
        if self.bias is not None:
            named.append((self.bias.label, self.bias))
        return named

    def weighted_sum(self, inputs: Sequence[Operand], *, label: str = "") -> Value:
        """Return the sum of products w1·x1 + ... + wn·xn (+ b): the pre-activation.

        Args:
            inputs: One number or Value per weight.
            label: Label for the sum node.

        Raises:
            ValueError: The number of inputs is not the number of weights.

        Example:
            >>> neuron = Neuron.from_weights([2.0, 3.0], bias=1.0, activation="sigmoid")
            >>> print(f"{neuron.weighted_sum([1.0, 10.0]).data:.1f}")
            33.0
        """
        weights = self.weights
        if len(inputs) != len(weights):
            raise ValueError(f"Neuron: expected {len(weights)} inputs, got {len(inputs)}")
        # Start from the first product, not from 0, so drawings show no stray "0 +" node.
        # (Indexing, not zip over slices: this runs once per sample per step when training.)
        total = weights[0] * inputs[0]
        for i in range(1, len(weights)):
            total = total + weights[i] * inputs[i]
        if self.bias is not None:
            total = total + self.bias
        if label:
            total.label = label
        return total

    def activate(self, total: Value, *, label: str = "") -> Value:
        """Apply the neuron's activation to a pre-activation ``total``.

        Example:
            >>> neuron = Neuron.from_weights([1.0], activation="relu")
            >>> neuron.activate(Value(-2.0)).data
            0.0
        """
        out = total if self.activation == "linear" else _ACTIVATIONS[self.activation](total)
        if label:
            out.label = label
        return out

    def __call__(
        self, inputs: Sequence[Operand], *, sum_label: str = "", out_label: str = ""
    ) -> Value:
        """Return activation(sum of products + bias) for ``inputs``.

        Args:
            inputs: One number or Value per weight.
            sum_label: Label for the sum-of-products node (the pre-activation).
            out_label: Label for the output node (wins over ``sum_label`` when linear).

        Raises:
            ValueError: The number of inputs is not the number of weights.

        Example:
            >>> neuron = Neuron.from_weights([2.0, 3.0], bias=1.0)
            >>> print(f"{neuron([1.0, 10.0]).data:.1f}")
            33.0
        """
        return self.activate(self.weighted_sum(inputs, label=sum_label), label=out_label)

    def __repr__(self) -> str:
        bias = "no bias" if self.bias is None else "bias"
        return f"Neuron({self.n_inputs} inputs, {self.activation}, {bias})"


class Layer(Module):
    """Neurons side by side, each seeing every input.

    Args:
        n_inputs: Inputs to each neuron.
        n_outputs: Number of neurons.
        rng: An integer seed or a ``random.Random`` (drawn from neuron by neuron).
        activation: Every neuron's activation.
        bias: Whether the neurons have biases.
        low: Lower end of the uniform range parameters are drawn from.
        high: Upper end (excluded).

    Example:
        >>> layer = Layer(2, 3, rng=0, activation="tanh")
        >>> outs = layer([0.5, -0.5])
        >>> len(outs), layer.named_parameters()[0][0]
        (3, '0.w1')
    """

    def __init__(
        self,
        n_inputs: int,
        n_outputs: int,
        *,
        rng: Seed,
        activation: Activation = "linear",
        bias: bool = True,
        low: float = -1.0,
        high: float = 1.0,
    ) -> None:
        if isinstance(n_outputs, bool) or not isinstance(n_outputs, int) or n_outputs < 1:
            raise ValueError(f"Layer: n_outputs must be an int >= 1, got {n_outputs!r}")
        generator = make_rng(rng)
        self.neurons = [
            Neuron(n_inputs, rng=generator, activation=activation, bias=bias, low=low, high=high)
            for _ in range(n_outputs)
        ]

    def named_parameters(self) -> list[tuple[str, Value]]:
        """Return each neuron's parameters, named ``"<neuron index>.<label>"``.

        Example:
            >>> [name for name, _ in Layer(1, 2, rng=0).named_parameters()]
            ['0.w1', '0.b', '1.w1', '1.b']
        """
        return _indexed(self.neurons)

    def __call__(self, inputs: Sequence[Operand]) -> list[Value]:
        """Return every neuron's output, always as a list (one element for one neuron).

        Example:
            >>> len(Layer(2, 1, rng=0)([1.0, 2.0]))
            1
        """
        return [neuron(inputs) for neuron in self.neurons]

    def __repr__(self) -> str:
        return f"Layer({len(self.neurons)} x {self.neurons[0]!r})"


class MLP(Module):
    """A multilayer perceptron: layers in sequence, each feeding the next.

    Args:
        n_inputs: Inputs to the first layer.
        layer_sizes: Neurons in each layer, the last being the output layer.
        rng: An integer seed or a ``random.Random`` (drawn from layer by layer).
        activation: Activation of the hidden layers.
        output_activation: Activation of the output layer.
        bias: Whether the neurons have biases.
        low: Lower end of the uniform range parameters are drawn from.
        high: Upper end (excluded).

    Example:
        >>> mlp = MLP(2, [4, 1], rng=0)
        >>> len(mlp.parameters())  # 4 x (2 + 1) + 1 x (4 + 1)
        17
        >>> len(mlp([1.0, 2.0]))
        1
    """

    def __init__(
        self,
        n_inputs: int,
        layer_sizes: Sequence[int],
        *,
        rng: Seed,
        activation: Activation = "tanh",
        output_activation: Activation = "linear",
        bias: bool = True,
        low: float = -1.0,
        high: float = 1.0,
    ) -> None:
        if not layer_sizes:
            raise ValueError("MLP: layer_sizes must name at least one layer")
        generator = make_rng(rng)
        sizes = [n_inputs, *layer_sizes]
        last = len(layer_sizes) - 1
        self.layers = [
            Layer(
                sizes[i],
                sizes[i + 1],
                rng=generator,
                activation=output_activation if i == last else activation,
                bias=bias,
                low=low,
                high=high,
            )
            for i in range(len(layer_sizes))
        ]

    def named_parameters(self) -> list[tuple[str, Value]]:
        """Return every layer's parameters, named ``"<layer>.<neuron>.<label>"``.

        Example:
            >>> MLP(1, [1, 1], rng=0).named_parameters()[-1][0]
            '1.0.b'
        """
        return _indexed(self.layers)

    def __call__(self, inputs: Sequence[Operand]) -> list[Value]:
        """Run the inputs through every layer; return the output layer's values as a list.

        Example:
            >>> out = MLP(3, [2, 2], rng=1)([0.1, 0.2, 0.3])
            >>> len(out)
            2
        """
        outputs = self.layers[0](inputs)
        for layer in self.layers[1:]:
            outputs = layer(outputs)
        return outputs

    def __repr__(self) -> str:
        sizes = [len(layer.neurons) for layer in self.layers]
        return f"MLP({self.layers[0].neurons[0].n_inputs} inputs, layers {sizes})"
