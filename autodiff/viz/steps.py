"""Backpropagation as a sequence of pictures: ``backward_steps``.

This module owns turning the engine's own record of one backward pass
(``autodiff.chain_rule_steps``) into pictures, one per node that passes its gradient back,
with captions that say which node sends what to which; and ``BackwardSteps``, the sequence of
those pictures, which shows in Jupyter as a player with a slider. It re-derives nothing: every
number comes from a ``ChainRuleStep``. It reads and writes no node's ``grad``.

Example:
    >>> from autodiff import Value
    >>> a = Value(2.0, label="a")
    >>> f = a * a
    >>> f.label = "f"
    >>> steps = backward_steps(f)
    >>> len(steps), a.grad
    (1, 0.0)
    >>> print(steps.captions[0])
    step 1 of 1: f passes its gradient back; f's gradient is complete: 1.0000
    f sends 1.0000 × 2.0000 = 2.0000 to a, whose gradient is now 2.0000
    f sends 1.0000 × 2.0000 = 2.0000 to a, whose gradient is now 4.0000
"""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any, Final, overload

from autodiff.engine import Value, topological_order
from autodiff.explain import node_names
from autodiff.steps import ChainRuleStep, chain_rule_steps
from autodiff.viz.dot import StepState, build, check_size
from autodiff.viz.labels import format_number
from autodiff.viz.options import DrawOptions, check_root, resolve

if TYPE_CHECKING:
    import graphviz

__all__ = ["BackwardSteps", "backward_steps"]

MAX_CAPTION_SENDS: Final = 6
"""A caption lists at most this many sends; the rest are on the picture's edges."""


class BackwardSteps(Sequence[Any]):
    """The pictures of one backward pass: a sequence of ``graphviz.Digraph``, one per step.

    Iterate over it, index it or take its ``len`` as a list of Digraphs; ``captions`` holds each
    picture's caption as text. In Jupyter it shows as a player: previous and next buttons, a
    slider and the arrow keys move through the steps. ``to_html`` gives that player as HTML
    that works offline (every picture inline, no network); it runs ``dot`` once per picture.

    Example:
        >>> from autodiff import Value
        >>> x = Value(3.0, label="x")
        >>> steps = backward_steps((x * 2).tanh())
        >>> len(steps), [type(step).__name__ for step in steps]
        (2, ['Drawing', 'Drawing'])
        >>> steps
        BackwardSteps(2 pictures)
    """

    def __init__(
        self, pictures: Sequence[graphviz.Digraph], captions: Sequence[str], fit_width: bool
    ) -> None:
        self._pictures = list(pictures)
        self._captions = list(captions)
        self._fit_width = fit_width

    @property
    def captions(self) -> list[str]:
        """Each picture's caption, as written above it (lines joined by newlines).

        Example:
            >>> from autodiff import Value
            >>> backward_steps(Value(2.0, label="x") * 3).captions[0].splitlines()[1]
            'n1 sends 1.0000 × 3.0000 = 3.0000 to x, whose gradient is now 3.0000'
        """
        return list(self._captions)

    def __len__(self) -> int:
        return len(self._pictures)

    @overload
    def __getitem__(self, index: int) -> graphviz.Digraph: ...

    @overload
    def __getitem__(self, index: slice) -> list[graphviz.Digraph]: ...

    def __getitem__(self, index: int | slice) -> graphviz.Digraph | list[graphviz.Digraph]:
        return self._pictures[index]

    def __iter__(self) -> Iterator[graphviz.Digraph]:
        return iter(self._pictures)

    def __repr__(self) -> str:
        return f"BackwardSteps({len(self)} pictures)"

    def to_html(self) -> str:
        """The player as an HTML fragment: every picture inline, a slider, a few lines of script.

        Raises:
            DotNotFoundError: Graphviz's ``dot`` is not installed.
            DotFailedError: ``dot`` crashed or timed out on a picture.

        Example:
            >>> from autodiff import Value
            >>> page = backward_steps(Value(2.0) * 3).to_html()
            >>> page.count("<svg"), page.count("<script>")
            (1, 1)
        """
        from autodiff.viz.notebook import player_html
        from autodiff.viz.rendering import run_dot

        svgs = [run_dot(picture.source, "svg", where="backward_steps") for picture in self]
        firsts = [caption.splitlines()[0] for caption in self._captions]
        return player_html(svgs, firsts, fit_width=self._fit_width)

    def _repr_html_(self) -> str:
        return self.to_html()


def backward_steps(
    root: Value, options: DrawOptions | None = None, **changes: Any
) -> BackwardSteps:
    """Backpropagation as pictures: one per node that passes its gradient back, in order.

    The steps are the engine's own (``autodiff.chain_rule_steps``): the nodes come in the order
    ``backward`` visits them, from ``root`` back towards the inputs, and each picture shows the
    state right after its node has sent ``its gradient × the local derivative`` to each of its
    inputs. That node is outlined in orange, its gradient (now complete) shaded; each edge into
    its operation says what the input at its tail receives (``a.grad += 3.0000``); every other
    node shows what it has received so far (0 if nothing). The caption says the same in words.
    Leaves pass nothing back, so they get no picture of their own: the last picture shows every
    final gradient. A graph that is a single leaf has no step.

    Gradients are those of one ``backward`` call on a fresh graph, seeded with
    d root / d root = 1. No node's ``grad`` is read or written, so this can be called before
    or after ``backward``. Options are those of ``draw``, checked at the call; sums are never
    folded here, so every step's node is visible. With ``focus=`` only the steps of the nodes
    drawn are shown (their gradients are still d root / d node).

    Args:
        root: The output node.
        options: A ``DrawOptions`` to start from, as in ``draw``.
        **changes: Any ``DrawOptions`` field by name, as in ``draw``. ``title`` goes above
            every caption.

    Returns:
        A ``BackwardSteps``: a sequence of ``graphviz.Digraph`` that displays as a player.

    Example:
        >>> from autodiff import Value
        >>> x = Value(3.0, label="x")
        >>> y = x * 2.0
        >>> steps = backward_steps(y)
        >>> len(steps), x.grad
        (1, 0.0)
        >>> print(steps.captions[-1].splitlines()[-1])
        n1 sends 1.0000 × 2.0000 = 2.0000 to x, whose gradient is now 2.0000
    """
    where = "backward_steps"
    chosen = resolve(where, options, changes)
    check_root(root, where)
    top = root if chosen.focus is None else chosen.focus
    check_size(top, chosen.max_nodes, where)
    build(root, chosen, where=where)  # checks focus and highlight before any step is drawn
    order = topological_order(root)
    index = {node: i for i, node in enumerate(order)}
    names = node_names(order)
    shown = set(topological_order(top))
    grads = [0.0] * len(order)
    grads[-1] = 1.0  # the seed: d root / d root

    groups: list[tuple[int, list[ChainRuleStep]]] = []
    for node, group in itertools.groupby(chain_rule_steps(root), key=lambda step: step.node):
        groups.append((index[node], list(group)))
    total = sum(1 for i, _ in groups if order[i] in shown)

    def fmt(x: float) -> str:
        return format_number(x, chosen.number_format)

    pictures = []
    captions = []
    position = 0
    for i, sends in groups:
        for send in sends:
            grads[index[send.parent]] = send.total  # the running sum the engine reached
        if order[i] not in shown:
            continue
        position += 1
        name = names[i]
        lines = [
            f"step {position} of {total}: {name} passes its gradient back; "
            f"{name}'s gradient is complete: {fmt(sends[0].upstream)}"
        ]
        for send in sends[:MAX_CAPTION_SENDS]:
            lines.append(
                f"{name} sends {fmt(send.upstream)} × {fmt(send.local)} = "
                f"{fmt(send.contribution)} to {names[index[send.parent]]}, "
                f"whose gradient is now {fmt(send.total)}"
            )
        if len(sends) > MAX_CAPTION_SENDS:
            lines.append(f"... and {len(sends) - MAX_CAPTION_SENDS} more (on the edges)")
        caption = "\n".join(lines)
        title = caption if chosen.title is None else f"{chosen.title}\n{caption}"
        state = StepState(
            grads=tuple(grads),
            current=i,
            sent=tuple(send.contribution for send in sends),
            names=names,
        )
        pictures.append(
            build(root, dataclasses.replace(chosen, title=title), where=where, step=state)
        )
        captions.append(caption)
    return BackwardSteps(pictures, captions, chosen.fit_width)
