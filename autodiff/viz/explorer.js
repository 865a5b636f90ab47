// The explorer page's behaviour: inspect a node, step forward and backward, answer the exercise.
// Plain DOM on the inline SVG; every number shown comes formatted from Python (the page's JSON),
// and every text from the graph is set with textContent, never parsed as markup.
(function () {
  "use strict";

  const data = JSON.parse(document.getElementById("explorer-data").textContent);
  const nodes = data.nodes;
  const edges = data.edges;
  const panel = document.getElementById("panel");
  const stepper = document.getElementById("stepper");
  const slider = document.getElementById("slider");
  const caption = document.getElementById("caption");
  const positionText = document.getElementById("position");
  const playButton = document.getElementById("play");

  const modes = data.quiz ? ["exercise", "forward"] : ["inspect", "forward", "backward"];
  const modeNames = {
    inspect: "Inspect",
    forward: "Forward pass",
    backward: "Backward pass",
    exercise: "Exercise",
  };
  let mode = modes[0];
  let selected = null;
  const positions = { forward: 0, backward: 0 };
  let timer = null;
  // Exercise answers, by question key ("node-3", "edge-5"): { state, text }.
  const answers = {};

  // -- small helpers ------------------------------------------------------------------------

  function make(tag, attributes, children) {
    const element = document.createElement(tag);
    for (const name in attributes || {}) {
      element.setAttribute(name, attributes[name]);
    }
    for (const child of children || []) {
      element.appendChild(typeof child === "string" ? document.createTextNode(child) : child);
    }
    return element;
  }

  function setText(id, text) {
    const element = document.getElementById(id);
    if (element !== null) {
      element.textContent = text;
    }
  }

  function nodeElement(i) {
    return document.getElementById("node-" + i);
  }

  function edgeElement(k) {
    return document.getElementById("edge-" + k);
  }

  function number(value) {
    if (typeof value === "number") {
      return value;
    }
    return value === "inf" ? Infinity : value === "-inf" ? -Infinity : NaN;
  }

  const STATE_CLASSES = [
    "selected", "path", "dim", "current", "pending", "receiving", "done",
    "right", "wrong", "revealed",
  ];

  function clearClasses() {
    for (let i = 0; i < nodes.length; i += 1) {
      nodeElement(i).classList.remove(...STATE_CLASSES);
    }
    for (let k = 0; k < edges.length; k += 1) {
      edgeElement(k).classList.remove(...STATE_CLASSES);
    }
  }

  // Everything downstream of node i: the nodes and edges on its paths to the top of the view.
  function pathsFrom(i) {
    const reached = new Set([i]);
    const used = new Set();
    const stack = [i];
    while (stack.length > 0) {
      for (const k of nodes[stack.pop()].outEdges) {
        used.add(k);
        if (!reached.has(edges[k].to)) {
          reached.add(edges[k].to);
          stack.push(edges[k].to);
        }
      }
    }
    return { nodes: reached, edges: used };
  }

  // -- the exercise --------------------------------------------------------------------------

  function parseAnswer(text) {
    const cleaned = text.trim().replace(/\u2212/g, "-");
    if (cleaned === "") {
      return null;
    }
    const parts = cleaned.split("/");
    let value;
    if (parts.length === 2 && parts[0].trim() !== "" && parts[1].trim() !== "") {
      value = Number(parts[0]) / Number(parts[1]);
    } else {
      const lower = cleaned.toLowerCase();
      value = lower === "nan" ? NaN : lower === "inf" ? Infinity : lower === "-inf" ? -Infinity
        : Number(cleaned);
      if (Number.isNaN(value) && lower !== "nan") {
        return undefined;
      }
    }
    return value;
  }

  function isShown(text, question) {
    // Exactly what the page shows for the engine's number (in any format, "12.3%" included).
    return text.trim() !== "" && text.trim() === question.shown.trim();
  }

  function isRight(value, question) {
    const expected = question.expected;
    if (!Number.isFinite(expected)) {
      return value === expected || (Number.isNaN(value) && Number.isNaN(expected));
    }
    if (question.shownValue !== null && value === question.shownValue) {
      return true; // the number the page shows, written another way ("0.120" for "0.12")
    }
    // Half a unit of the last digit shown: the engine's number rounded as shown is right.
    const tolerance = Math.max(data.relTol * Math.abs(expected), data.absTol, question.half);
    return Math.abs(value - expected) <= tolerance;
  }

  function questionOf(key) {
    const [kind, at] = key.split("-");
    const i = Number(at);
    if (kind === "node") {
      const node = nodes[i];
      return {
        label: node.question,
        expected: number(node.expectedValue),
        shown: node.expected,
        shownValue: node.expectedShown === null ? null : number(node.expectedShown),
        half: node.expectedHalf,
        hint: node.gradHint,
      };
    }
    const edge = edges[i];
    return {
      label: edge.name,
      expected: number(edge.localValue),
      shown: edge.local,
      shownValue: edge.localShown === null ? null : number(edge.localShown),
      half: edge.localHalf,
      hint: edge.hint,
    };
  }

  function answerState(key) {
    return answers[key] ? answers[key].state : "";
  }

  function quizText(key) {
    const state = answerState(key);
    const shown = questionOf(key).shown;
    if (state === "right") {
      return "\u2713 " + shown;
    }
    if (state === "revealed") {
      return shown;
    }
    if (state === "wrong") {
      return "\u2717";
    }
    return "?";
  }

  function check(key, text) {
    const question = questionOf(key);
    const value = parseAnswer(text);
    if (answerState(key) === "revealed") {
      return;
    }
    if (value === null) {
      delete answers[key];
    } else if (isShown(text, question)) {
      answers[key] = { state: "right", text: text };
    } else if (value === undefined) {
      answers[key] = { state: "unreadable", text: text };
    } else {
      answers[key] = { state: isRight(value, question) ? "right" : "wrong", text: text };
    }
    showAnswer(key);
    draw();
  }

  function reveal(key) {
    answers[key] = { state: "revealed", text: "" };
    showAnswer(key);
    draw();
  }

  function showAnswer(key) {
    const row = document.getElementById("q-" + key);
    if (row === null) {
      return;
    }
    const state = answerState(key);
    row.className = "question " + state;
    const mark = row.querySelector(".mark");
    const question = questionOf(key);
    mark.textContent = {
      right: "\u2713 right",
      wrong: "\u2717 wrong",
      revealed: "the engine's number: " + question.shown,
      unreadable: "not a number",
    }[state] || "";
    row.querySelector(".hint-button").hidden = state !== "wrong";
    if (state === "revealed") {
      const input = row.querySelector("input");
      input.value = question.shown;
      input.readOnly = true;
    }
    updateScore();
  }

  function questionKeys() {
    const keys = [];
    for (let i = nodes.length - 1; i >= 0; i -= 1) {
      keys.push("node-" + i);
      for (const k of nodes[i].inEdges) {
        keys.push("edge-" + k);
      }
    }
    return keys;
  }

  function updateScore() {
    const score = document.getElementById("score");
    if (score === null) {
      return;
    }
    const keys = questionKeys();
    const count = (state) => keys.filter((key) => answerState(key) === state).length;
    score.textContent = "right: " + count("right") + " of " + keys.length + " \u00b7 wrong: "
      + count("wrong") + " \u00b7 revealed: " + count("revealed");
  }

  function questionRow(key) {
    const question = questionOf(key);
    const input = make("input", {
      type: "text", inputmode: "decimal", autocomplete: "off", spellcheck: "false",
      "aria-label": question.label, "data-question": key,
    });
    const checkButton = make("button", { type: "button", class: "check-button" }, ["check"]);
    const hintButton = make("button", { type: "button", class: "hint-button" }, ["hint"]);
    const revealButton = make("button", { type: "button", class: "reveal-button" }, ["reveal"]);
    const hint = make("p", { class: "hint" }, [question.hint]);
    hint.hidden = true;
    hintButton.hidden = true;
    input.addEventListener("change", () => check(key, input.value));
    input.addEventListener("keydown", (event) => {
      if (event.key === "Enter") {
        check(key, input.value);
      }
    });
    checkButton.addEventListener("click", () => check(key, input.value));
    hintButton.addEventListener("click", () => { hint.hidden = !hint.hidden; });
    revealButton.addEventListener("click", () => reveal(key));
    const [kind, at] = key.split("-");
    // Which node or edge the question is about, for people reading the page's source and tests.
    const about = kind === "node" ? { "data-node": at }
      : { "data-node": String(edges[Number(at)].to), "data-index": String(edges[Number(at)].index) };
    const row = make("div", Object.assign({ class: "question", id: "q-" + key,
      "data-question": key, "data-kind": kind }, about), [
      make("label", {}, [question.label + " = "]), input, checkButton, revealButton,
      hintButton, make("span", { class: "mark" }), hint,
    ]);
    return row;
  }

  function exerciseSection() {
    const section = make("section", { id: "exercise" }, [
      make("h2", {}, ["Exercise"]),
      make("p", {}, [
        "Work backwards from the output: for each node type " + data.gradName
        + ", and for each edge into it the local derivative. Press Enter or check. "
        + data.toleranceText,
      ]),
      make("p", { id: "score", class: "score" }),
    ]);
    for (let i = nodes.length - 1; i >= 0; i -= 1) {
      const node = nodes[i];
      const group = make("div", { class: "question-group", id: "questions-" + i }, [
        make("h3", {}, [node.name + (node.op ? " = " + node.expr : " (leaf)")]),
      ]);
      group.appendChild(questionRow("node-" + i));
      for (const k of node.inEdges) {
        group.appendChild(questionRow("edge-" + k));
      }
      section.appendChild(group);
    }
    return section;
  }

  // -- the panel: what one node is -----------------------------------------------------------

  function field(name, label, value) {
    return [make("dt", {}, [label]), make("dd", { "data-field": name }, [value])];
  }

  function nodePanel(i) {
    const node = nodes[i];
    const kinds = {
      leaf: "a leaf: an input or a parameter, given rather than computed",
      interior: "computed by an op",
      output: "the output: backward starts here",
      top: "the top of this view: its gradient comes from outside it",
    };
    const parts = [
      make("h2", { "data-field": "name" }, [node.name]),
      make("p", { "data-field": "kind", class: "kind" }, [kinds[node.kind]]),
    ];
    const list = make("dl", {});
    const rows = [];
    if (node.op !== null) {
      rows.push(...field("op", "op", node.op.name + " (" + node.op.symbol + ")"));
      rows.push(...field("formula", "derivative", node.op.formula));
      rows.push(...field("expr", "computed", node.forward));
    }
    rows.push(...field("data", "data", node.data));
    if (data.quiz) {
      rows.push(...field("grad", "grad", "hidden: a question of the exercise"));
    } else {
      rows.push(...field("grad", "grad", node.grad !== null ? node.grad : node.gradNote));
    }
    for (const row of rows) {
      list.appendChild(row);
    }
    parts.push(list);
    if (!data.quiz && node.grad !== null && node.gradNote !== "") {
      parts.push(make("p", { class: "note", "data-field": "grad-note" }, [node.gradNote]));
    }

    parts.push(make("h3", {}, ["Local derivatives, on the edges into " + node.name]));
    const locals = make("ul", { "data-field": "locals" });
    if (node.inEdges.length === 0) {
      locals.appendChild(make("li", {}, [
        node.op === null ? "none: a leaf has no edges coming in"
          : "none: its operands are plain numbers",
      ]));
    }
    for (const k of node.inEdges) {
      const edge = edges[k];
      const from = nodes[edge.from].name;
      locals.appendChild(make("li", { "data-edge": String(k) }, [
        edge.name + " = " + (data.quiz ? "?" : edge.local) + "   (from " + from + ")",
      ]));
    }
    parts.push(locals);

    if (!data.quiz) {
      parts.push(make("h3", {}, ["Where its gradient comes from"]));
      const received = make("ul", { "data-field": "received" });
      if (node.kind === "output") {
        received.appendChild(make("li", {}, ["the seed of backward: " + node.question + " = "
          + node.expected]));
      }
      if (node.outside !== null) {
        received.appendChild(make("li", {}, ["from outside this view: " + node.outside]));
      }
      for (const receipt of node.received) {
        received.appendChild(make("li", {}, ["from " + receipt.from + ": " + receipt.text]));
      }
      if (node.received.length + (node.outside !== null ? 1 : 0) >= 2) {
        received.appendChild(make("li", { class: "total" }, [
          "added up (backward's +=): " + node.expected,
        ]));
      }
      parts.push(received);
      parts.push(make("h3", {}, ["The chain rule from the output"]));
      parts.push(make("pre", { "data-field": "chain" }, [node.chain]));
    } else {
      const go = make("button", { type: "button", id: "to-questions" }, ["its questions"]);
      go.addEventListener("click", () => focusQuestions(i));
      parts.push(go);
    }
    return make("section", { id: "node-panel", "data-node": String(i) }, parts);
  }

  function introPanel() {
    const lines = data.quiz
      ? ["Click a node to see what it computes; type your answers in the exercise below."]
      : [
        "Click a node to see its op, data, grad, local derivatives and its chain rule; "
          + "its paths to the output light up.",
        "Forward pass and Backward pass step through the computation: next/previous, play, "
          + "the slider, or the arrow keys.",
      ];
    return make("section", { id: "node-panel" }, lines.map((line) => make("p", {}, [line])));
  }

  function showPanel() {
    const scroll = panel.scrollTop;
    panel.replaceChildren(selected === null ? introPanel() : nodePanel(selected));
    if (mode === "exercise") {
      panel.appendChild(exercise);
    }
    panel.scrollTop = scroll;
  }

  function focusQuestions(i) {
    const group = document.getElementById("questions-" + i);
    if (group !== null) {
      group.scrollIntoView({ block: "nearest" });
      const input = group.querySelector("input:not([readonly])");
      if (input !== null) {
        input.focus();
      }
    }
  }

  // -- drawing the graph for the current mode -------------------------------------------------

  // Scroll the picture so that node i is in sight (the current step's node).
  function bringIntoView(i) {
    nodeElement(i).scrollIntoView({ block: "nearest", inline: "nearest" });
  }

  function drawInspect() {
    for (let i = 0; i < nodes.length; i += 1) {
      const node = nodes[i];
      setText("node-" + i + "-data", "data " + node.data);
      if (data.quiz) {
        const state = answerState("node-" + i);
        setText("node-" + i + "-grad", "grad " + quizText("node-" + i));
        if (state === "right" || state === "wrong" || state === "revealed") {
          nodeElement(i).classList.add(state);
        }
      } else {
        setText("node-" + i + "-grad", "grad " + (node.grad !== null ? node.grad : "\u2014"));
      }
      setText("node-" + i + "-sum", "");
    }
    for (let k = 0; k < edges.length; k += 1) {
      if (data.quiz) {
        const state = answerState("edge-" + k);
        setText("edge-label-" + k, quizText("edge-" + k));
        if (state === "right" || state === "wrong" || state === "revealed") {
          edgeElement(k).classList.add(state);
        }
      } else {
        setText("edge-label-" + k, edges[k].local);
      }
    }
    if (selected !== null) {
      const paths = pathsFrom(selected);
      for (let i = 0; i < nodes.length; i += 1) {
        nodeElement(i).classList.add(paths.nodes.has(i) ? "path" : "dim");
      }
      for (let k = 0; k < edges.length; k += 1) {
        edgeElement(k).classList.add(paths.edges.has(k) ? "path" : "dim");
      }
    }
  }

  function drawForward() {
    const p = positions.forward;
    for (let i = 0; i < nodes.length; i += 1) {
      const known = i < p;
      setText("node-" + i + "-data", "data " + (known ? nodes[i].data : "?"));
      setText("node-" + i + "-grad", "");
      setText("node-" + i + "-sum", "");
      if (!known) {
        nodeElement(i).classList.add("pending");
      }
    }
    for (let k = 0; k < edges.length; k += 1) {
      setText("edge-label-" + k, "");
      if (edges[k].to === p - 1) {
        edgeElement(k).classList.add("current");
      }
    }
    if (p > 0) {
      nodeElement(p - 1).classList.add("current");
      bringIntoView(p - 1);
      caption.textContent = "Step " + p + " of " + nodes.length + ": " + nodes[p - 1].forward;
    } else {
      caption.textContent = "The forward pass computes each node from its operands, in "
        + "topological order (every node after the nodes it uses). Press next.";
    }
  }

  // The backward pass after p steps: each node's gradient so far, and what each edge carried.
  function backwardState(p) {
    const grads = {};
    const sums = {};
    const carried = {};
    for (const start of data.start) {
      grads[start.node] = start.grad;
    }
    for (let j = 0; j < p; j += 1) {
      for (const send of data.backward[j].sends) {
        const parent = edges[send.edge].from;
        grads[parent] = send.total;
        sums[parent] = send.sum;
        carried[send.edge] = j;
      }
    }
    return { grads: grads, sums: sums, carried: carried };
  }

  function drawBackward() {
    const p = positions.backward;
    const now = backwardState(p);
    const step = p > 0 ? data.backward[p - 1] : null;
    for (let i = 0; i < nodes.length; i += 1) {
      setText("node-" + i + "-data", "data " + nodes[i].data);
      const grad = now.grads[i];
      setText("node-" + i + "-grad", "grad " + (grad === undefined ? "\u00b7" : grad));
      setText("node-" + i + "-sum", now.sums[i] || "");
      if (grad === undefined) {
        nodeElement(i).classList.add("pending");
      }
    }
    for (let k = 0; k < edges.length; k += 1) {
      const at = now.carried[k];
      setText("edge-label-" + k, at === undefined ? "" : edges[k].contribution);
      if (at !== undefined) {
        edgeElement(k).classList.add(at === p - 1 ? "current" : "done");
      }
    }
    if (step === null) {
      const seeds = data.start.map((start) => nodes[start.node].name + ".grad = " + start.grad
        + (nodes[start.node].kind === "output" ? " (the seed)" : " (from outside this view)"));
      caption.textContent = "Backward starts at the output: " + seeds.join(", ")
        + ". Each step takes one node, latest first, and sends its gradient to its operands. "
        + "Press next.";
      return;
    }
    nodeElement(step.node).classList.add("current");
    bringIntoView(step.node);
    const sender = nodes[step.node];
    const lines = [];
    for (const send of step.sends) {
      const edge = edges[send.edge];
      const parent = nodes[edge.from];
      nodeElement(edge.from).classList.add("receiving");
      let line = "To " + parent.name + ": " + step.upstream + " \u00d7 " + edge.local + " ("
        + edge.name + ") = " + send.contribution + "; ";
      if (send.count >= 2) {
        line += parent.name + ".grad = " + send.terms + " = " + send.total + " (reached by "
          + "more than one edge, so backward adds: +=)";
      } else {
        line += parent.name + ".grad = " + send.total;
      }
      lines.push(line);
    }
    caption.textContent = "Step " + p + " of " + data.backward.length + ": " + sender.name
      + " (grad " + step.upstream + ") sends its gradient back. " + lines.join(". ") + "."
      + (p === data.backward.length ? " Done: every gradient is in place." : "");
  }

  function draw() {
    clearClasses();
    if (selected !== null) {
      nodeElement(selected).classList.add("selected");
    }
    if (mode === "forward") {
      drawForward();
    } else if (mode === "backward") {
      drawBackward();
    } else {
      drawInspect();
    }
    if (mode === "forward" || mode === "backward") {
      const last = mode === "forward" ? nodes.length : data.backward.length;
      slider.max = String(last);
      slider.value = String(positions[mode]);
      positionText.textContent = "step " + positions[mode] + " of " + last;
      document.getElementById("prev").disabled = positions[mode] === 0;
      document.getElementById("next").disabled = positions[mode] === last;
    }
  }

  // -- controls ------------------------------------------------------------------------------

  function stop() {
    if (timer !== null) {
      clearInterval(timer);
      timer = null;
    }
    playButton.textContent = "\u25b6 play";
    playButton.setAttribute("aria-label", "play");
  }

  function go(position) {
    const last = mode === "forward" ? nodes.length : data.backward.length;
    positions[mode] = Math.max(0, Math.min(last, position));
    if (positions[mode] === last) {
      stop();
    }
    draw();
  }

  function play() {
    if (timer !== null) {
      stop();
      return;
    }
    const last = mode === "forward" ? nodes.length : data.backward.length;
    if (positions[mode] === last) {
      positions[mode] = 0;
    }
    playButton.textContent = "\u275a\u275a pause";
    playButton.setAttribute("aria-label", "pause");
    timer = setInterval(() => go(positions[mode] + 1), 900);
    draw();
  }

  function setMode(next) {
    stop();
    mode = next;
    for (const button of document.querySelectorAll("#modes button")) {
      button.setAttribute("aria-pressed", String(button.dataset.mode === mode));
    }
    stepper.hidden = !(mode === "forward" || mode === "backward");
    document.body.dataset.mode = mode;
    showPanel();
    draw();
  }

  function select(i) {
    selected = selected === i ? null : i;
    showPanel();
    draw();
    if (mode === "exercise" && selected !== null) {
      focusQuestions(selected);
    }
  }

  const exercise = data.quiz ? exerciseSection() : null;

  const modeBar = document.getElementById("modes");
  for (const name of modes) {
    const button = make("button", { type: "button", "data-mode": name, id: "mode-" + name },
      [modeNames[name]]);
    button.addEventListener("click", () => setMode(name));
    modeBar.appendChild(button);
  }
  for (let i = 0; i < nodes.length; i += 1) {
    const element = nodeElement(i);
    element.addEventListener("click", () => select(i));
    element.addEventListener("keydown", (event) => {
      if (event.key === "Enter" || event.key === " ") {
        event.preventDefault();
        select(i);
      }
    });
  }
  document.getElementById("prev").addEventListener("click", () => go(positions[mode] - 1));
  document.getElementById("next").addEventListener("click", () => go(positions[mode] + 1));
  playButton.addEventListener("click", play);
  slider.addEventListener("input", () => {
    stop();
    go(Number(slider.value));
  });
  document.addEventListener("keydown", (event) => {
    const target = event.target;
    if (target instanceof HTMLInputElement || target instanceof HTMLTextAreaElement) {
      return; // typing an answer, or the slider, which moves itself
    }
    if (mode !== "forward" && mode !== "backward") {
      return;
    }
    const moves = { ArrowRight: 1, ArrowLeft: -1 };
    if (event.key in moves) {
      event.preventDefault();
      stop();
      go(positions[mode] + moves[event.key]);
    } else if (event.key === "Home" || event.key === "End") {
      event.preventDefault();
      stop();
      go(event.key === "Home" ? 0 : Infinity);
    }
  });

  setMode(mode);
  updateScore();
  document.body.dataset.ready = "true";
})();
