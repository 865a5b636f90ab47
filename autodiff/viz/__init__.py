r"""Pictures of the computation graph with Graphviz, and the same graph as plain text.

``draw`` builds a ``graphviz.Digraph`` (shown inline in Jupyter, fitted to the cell's width),
``render`` writes it to an SVG, PNG, PDF or DOT file, ``to_text`` lists the graph one node per
line with no Graphviz at all, and ``backward_steps`` turns one backward pass into a sequence of
pictures that plays in a notebook. Only this package imports ``graphviz``, and only when a
drawing is made, so ``import autodiff`` stays fast. It owns no mathematics: every number it
shows is a node's ``data``/``grad``, a local derivative from ``autodiff.partials`` or a step of
``autodiff.chain_rule_steps``; it never changes a graph or a gradient.

One module per job:

* ``options``: ``DrawOptions``, every drawing option, declared and checked once.
* ``dot``: ``draw``, building the DOT graph; its docstring states the node ids.
* ``rendering``: ``render`` and every run of the ``dot`` program (time limit, errors).
* ``text``: ``to_text``. ``steps``: ``backward_steps``. ``notebook``: display in Jupyter.
* ``labels``: how numbers, operations and names are written.
* ``files``: ``write_file`` and ``atomic_file``, writing every picture and page whole or not at
  all (a temporary file renamed into place), so that a full disk or Ctrl-C never leaves a
  truncated file.

How a picture reads:

* Each ``Value`` is a box showing its label (when set), ``data`` and ``grad``; each operation
  is its own small oval with its symbol (``+``, ``*``, ``σ``; a custom op shows its
  ``symbol``, by default its name). Edges run from the inputs through the oval to the result,
  so the arrows follow the forward pass.
* A plain number in an operation is no box: the engine keeps it as an operand of the node and
  the oval shows it in its place, as the code reads: ``x + 32`` is ``+ 32``, ``x - 3`` is
  ``- 3``, ``x * 0.5`` is ``* 0.5`` but ``0.5 * x`` is ``0.5 *``, ``x ** 2`` is ``** 2``,
  ``2 ** x`` is ``2 **``, ``1 - x`` is ``1 -``, ``x / 4`` is ``/ 4``. These numbers are
  written with ``:g`` (at most six significant digits: ``0.5``, ``32``, ``1e-08``), never with
  ``number_format``, which is for computed data and grads. ``to_text`` lists them in their
  place among the arguments: ``mul(0.5, n3)``.
* Box colours tell kinds of node apart (``legend=True`` draws the key): an *input* (blue) is a
  leaf; a *parameter* (green) is a leaf holding a non-zero gradient; *intermediate* results are
  white and the *output* (the root) is orange. The engine has no ``requires_grad`` flag, so
  "parameter" is defined by the gradient: before backward every leaf is an input; after it, a
  leaf the output does not depend on stays an input. The key explains only what the picture
  holds, and an oval with a number in words ("multiplies the incoming value by 0.1").
* ``edge_derivatives=True`` writes on each input -> oval edge the local derivative
  d result / d input, so the chain rule can be read off the picture: a node's ``grad`` is the
  sum, over the edges leaving it, of the result's ``grad`` times the number on the edge.
* ``highlight=`` paints the paths from the given nodes to the top of the picture in red;
  ``focus=`` draws one node and what it depends on, keeping the ids of the whole graph.
* Node ids are positions in ``autodiff.topological_order(root)`` (``n3`` and its oval
  ``op3``), never ``id()``, so the same graph gives byte-identical DOT (``autodiff.viz.dot``).
  ``to_text`` uses the same ``n3`` names for unlabelled nodes.
* Any label is shown literally: ``&``, ``<``, ``>`` and quotes are escaped, backslashes are
  doubled (Graphviz expands ``\N`` and friends even in HTML labels), a newline starts a new
  line and other control characters appear as ``\xNN``.
* Wide sums: ``sum(values)`` builds ``0.0 + v0`` and then one ``+`` node per further value;
  the partial sums are unlabelled, used once and all carry the same gradient as the whole sum
  (d sum / d partial = 1). A chain of ``+`` nodes (and ``- number``) with at least
  ``FOLD_SUM_TERMS`` (8) Value terms is therefore drawn as a single ``Σ`` oval with one edge
  per Value term and their count (``sum`` of 100 Values: 100 terms). The numbers the chain
  adds are totalled in the oval (``Σ + 5`` for ``sum(values, 5.0)``) unless the total is zero.
  A labelled, reused or highlighted partial sum is never hidden. ``to_text`` and
  ``backward_steps`` show every node.
* Large graphs: Graphviz's layout time grows much faster than the graph, so ``draw`` refuses
  more than ``max_nodes`` Values (default ``DEFAULT_MAX_NODES``, 150) with a ValueError, and
  ``dot`` runs under a time limit (``DotFailedError`` when it is exceeded or ``dot`` crashes);
  both messages suggest ``focus=``, a smaller graph or ``to_text``.

Example:
    >>> from autodiff import Value
    >>> from autodiff.viz import draw, to_text
    >>> w = Value(0.5, label="w")
    >>> loss = (w * 2.0 + 1.0) ** 2
    >>> loss.label = "loss"
    >>> loss.backward()
    >>> print(to_text(loss))
    w    = parameter   data=0.5000  grad=8.0000
    n1   = mul(w, 2)   data=1.0000  grad=4.0000
    n2   = add(n1, 1)  data=2.0000  grad=4.0000
    loss = pow(n2, 2)  data=4.0000  grad=1.0000
    >>> import re
    >>> re.findall(r"op\d+ \[label=<([^>]*)>", draw(loss).source)  # the ovals, inputs first
    ['* 2', '+ 1', '** 2']
"""

from autodiff.viz.dot import FOLD_SUM_TERMS, draw
from autodiff.viz.explorer import ExplorerPage, explore
from autodiff.viz.files import atomic_file, write_file
from autodiff.viz.options import DEFAULT_MAX_NODES, DrawOptions
from autodiff.viz.rendering import DOT_TIMEOUT, DotFailedError, DotNotFoundError, render
from autodiff.viz.steps import BackwardSteps, backward_steps
from autodiff.viz.text import to_text

__all__ = [
    "DEFAULT_MAX_NODES",
    "DOT_TIMEOUT",
    "FOLD_SUM_TERMS",
    "BackwardSteps",
    "DotFailedError",
    "DotNotFoundError",
    "DrawOptions",
    "ExplorerPage",
    "atomic_file",
    "backward_steps",
    "draw",
    "explore",
    "render",
    "to_text",
    "write_file",
]
