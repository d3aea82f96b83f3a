"use strict";
// labrys HTML report: draws the JSON in #labrys-data into SVG. No libraries, no network.
// Every text from the history goes in through textContent, never as markup.

// Script errors are counted in the root element's data-errors attribute, so a headless
// browser test can see them.
window.onerror = function (message) {
  const root = document.documentElement;
  root.dataset.errors = String(Number(root.dataset.errors || 0) + 1);
  root.dataset.errorLog = (root.dataset.errorLog || "") + String(message) + "\n";
};

const NS = "http://www.w3.org/2000/svg"; // the SVG namespace name, not a fetched address
const LABEL_W = 170, AXIS_H = 40, STRIP_Y = 26, LANE_H = 22, NOTE_H = 30, PAD_R = 12;
// The width of a character of a fault's name (10px text), rounded up so that names fit.
const FAULT_CHAR_W = 6.2;

function el(tag, attrs, text) {
  const e = tag.startsWith("svg:") ? document.createElementNS(NS, tag.slice(4)) : document.createElement(tag);
  for (const k in attrs || {}) e.setAttribute(k, attrs[k]);
  if (text !== undefined) e.textContent = text;
  return e;
}

// An op row (see OpRow in data.rs) as named fields.
function opOf(r) {
  return { lane: r[0], process: r[1], start: r[2], end: r[3], outcome: r[4], f: r[5], input: r[6],
    output: r[7], index: r[8], cindex: r[9], line: r[10], cline: r[11] };
}

function fmtTime(file, t) {
  if (file.clock !== "time") return "#" + Math.round(t);
  if (t === 0) return "0";
  // At most three decimals, trailing zeros dropped: "35 ms", "1.25 s".
  const s = t / 1e9, a = Math.abs(s), short = (x) => String(Number(x.toFixed(3)));
  return a >= 1 ? short(s) + " s" : a >= 1e-3 ? short(t / 1e6) + " ms" : short(t / 1e3) + " µs";
}

function niceStep(raw) {
  const p = Math.pow(10, Math.floor(Math.log10(Math.max(raw, 1e-9))));
  const m = raw / p;
  return (m < 1.5 ? 1 : m < 3.5 ? 2 : m < 7.5 ? 5 : 10) * p;
}

// Everything one file's timeline needs to redraw itself.
function Timeline(file, svg, rangeLabel) {
  this.file = file;
  this.svg = svg;
  this.rangeLabel = rangeLabel;
  this.ops = file.ops.map(opOf);
  this.byIndex = new Map(this.ops.map((o) => [o.index, o]));
  this.highlight = new Set();
  this.linear = new Map(); // op index -> badge text
  this.failed = new Set();
  this.notes = []; // one row per anomaly under the lanes
  this.v0 = 0;
  this.v1 = file.span;
}

Timeline.prototype.width = function () {
  return Math.max(400, this.svg.clientWidth || this.svg.parentNode.clientWidth || 1000);
};

Timeline.prototype.x = function (t) {
  return LABEL_W + ((t - this.v0) / (this.v1 - this.v0)) * (this.width() - LABEL_W - PAD_R);
};

Timeline.prototype.timeAt = function (px) {
  return this.v0 + ((px - LABEL_W) / (this.width() - LABEL_W - PAD_R)) * (this.v1 - this.v0);
};

// The view never leaves the history: times run from 0 (its first event) to its span.
Timeline.prototype.setView = function (a, b) {
  const span = this.file.span, minW = this.file.clock === "time" ? 1000 : 2;
  const w = Math.min(Math.max(b - a, minW), span);
  a = Math.min(Math.max(a, 0), span - w);
  this.v0 = a;
  this.v1 = a + w;
  this.draw();
};

Timeline.prototype.zoom = function (factor, at) {
  const t = at === undefined ? (this.v0 + this.v1) / 2 : at;
  this.setView(t - (t - this.v0) * factor, t + (this.v1 - t) * factor);
};

// The time extent of some ops (by index) that are shown, or null.
Timeline.prototype.extent = function (indices) {
  let lo = Infinity, hi = -Infinity;
  for (const i of indices) {
    const o = this.byIndex.get(i);
    if (!o) continue;
    lo = Math.min(lo, o.start);
    hi = Math.max(hi, o.end === null ? o.start : o.end);
  }
  return lo <= hi ? [lo, hi] : null;
};

// The shown ops among `indices`, in time order, split where they are far apart in a long,
// summarized history (an anomaly may cite ops from both ends of it, with nothing drawn between):
// a list of index lists. A history shown in full is one piece.
Timeline.prototype.clusters = function (indices) {
  const ops = indices.map((i) => this.byIndex.get(i)).filter((o) => o).sort((a, b) => a.start - b.start);
  const gap = this.file.ops.length === this.file.total_ops ? Infinity : this.file.span * 0.02;
  const out = [];
  let last = -Infinity;
  for (const o of ops) {
    if (!out.length || o.start - last > gap) out.push([]);
    out[out.length - 1].push(o.index);
    last = Math.max(last, o.end === null ? o.start : o.end);
  }
  return out;
};

// How many lanes have something drawn (an op's bar, or summarized ops) between times a and b.
Timeline.prototype.busyLanes = function (a, b) {
  const busy = new Set();
  for (const o of this.ops) {
    if (o.start <= b && (o.end === null ? o.start : o.end) >= a) busy.add(o.lane);
  }
  const d = this.file.density;
  if (d) {
    d.counts.forEach((lane, li) => {
      if (lane.some((c, k) => c && (k + 1) * d.width >= a && k * d.width <= b)) busy.add(li);
    });
  }
  return busy.size;
};

// Zooms to some ops. With `context` (as the page opens), the view is widened around them until
// most lanes have something in it, so that it does not open on lanes left empty.
Timeline.prototype.focus = function (indices, context) {
  const e = this.extent(indices);
  if (!e) return;
  const span = this.file.span, pad = Math.max((e[1] - e[0]) * 0.6, span * 0.002);
  let a = e[0] - pad, b = e[1] + pad;
  if (context) {
    const want = Math.ceil(this.busyLanes(0, span) * 0.75);
    while (b - a < span && this.busyLanes(a, b) < want) {
      const grow = (b - a) * 0.25;
      a -= grow;
      b += grow;
    }
  }
  this.setView(a, b);
};

Timeline.prototype.height = function () {
  return AXIS_H + this.file.lanes.length * LANE_H + this.notes.length * NOTE_H + 8;
};

Timeline.prototype.draw = function () {
  const svg = this.svg, w = this.width(), h = this.height();
  svg.setAttribute("viewBox", "0 0 " + w + " " + h);
  svg.setAttribute("height", h);
  const g = document.createDocumentFragment();
  this.drawLanes(g, w);
  this.drawFaults(g);
  this.drawDensity(g);
  this.drawOps(g);
  this.drawNotes(g, w);
  this.drawAxis(g, w);
  svg.replaceChildren(g);
  svg.dataset.rendered = "1";
  this.rangeLabel.textContent = fmtTime(this.file, this.v0) + " – " + fmtTime(this.file, this.v1);
};

Timeline.prototype.drawLanes = function (g, w) {
  this.file.lanes.forEach((lane, i) => {
    const y = AXIS_H + i * LANE_H;
    g.appendChild(el("svg:rect", { class: "lane-bg" + (i % 2 ? " odd" : ""), x: 0, y: y, width: w, height: LANE_H }));
    g.appendChild(el("svg:text", { class: "lane-label", x: 6, y: y + LANE_H / 2 + 4 }, lane.label));
  });
};

Timeline.prototype.drawAxis = function (g, w) {
  const axis = el("svg:g", { class: "axis" });
  const step = niceStep((this.v1 - this.v0) / Math.max(2, Math.floor((w - LABEL_W) / 110)));
  const bottom = AXIS_H + this.file.lanes.length * LANE_H;
  axis.appendChild(el("svg:rect", { x: 0, y: 0, width: LABEL_W, height: AXIS_H, fill: "#fff" }));
  axis.appendChild(el("svg:text", { x: 6, y: AXIS_H - 4 }, "faults"));
  for (let t = Math.ceil(this.v0 / step) * step; t <= this.v1; t += step) {
    const x = this.x(t);
    if (x < LABEL_W) continue;
    axis.appendChild(el("svg:line", { x1: x, x2: x, y1: STRIP_Y - 6, y2: bottom }));
    axis.appendChild(el("svg:text", { x: x + 2, y: STRIP_Y - 9 }, fmtTime(this.file, t)));
  }
  axis.appendChild(el("svg:text", { x: 6, y: STRIP_Y - 9 }, this.file.clock === "time" ? "time" : "event position"));
  g.appendChild(axis);
};

Timeline.prototype.drawFaults = function (g) {
  const top = AXIS_H, hgt = this.file.lanes.length * LANE_H, right = this.width() - PAD_R;
  const shown = [];
  for (const f of this.file.faults) {
    const end = f.end === null ? this.file.span : f.end;
    if (end < this.v0 || f.start > this.v1) continue;
    const x1 = Math.max(LABEL_W, this.x(f.start)), x2 = Math.max(x1 + 1, Math.min(right, this.x(end)));
    const title = "fault " + f.what + " from " + fmtTime(this.file, f.start) +
      (f.end === null ? ", never healed" : " to " + fmtTime(this.file, f.end));
    const r = el("svg:rect", { class: "fault", x: x1, y: top, width: x2 - x1, height: hgt });
    r.appendChild(el("svg:title", {}, title));
    g.appendChild(r);
    // Above the lanes, a strip marks each fault window.
    g.appendChild(el("svg:rect", { class: "fault-strip", x: x1, y: STRIP_Y, width: x2 - x1, height: AXIS_H - STRIP_Y - 1 }));
    shown.push({ x1: x1, what: f.what, title: title });
  }
  // Each name runs from its window's start to the next window's (a short window's name may
  // run past its end), cut with an ellipsis only where the next one begins; hovering it shows
  // it in full.
  shown.sort((p, q) => p.x1 - q.x1);
  let free = LABEL_W;
  shown.forEach((f, i) => {
    const x = Math.max(f.x1 + 3, free), next = i + 1 < shown.length ? shown[i + 1].x1 : right;
    const chars = Math.floor((Math.max(next, x) - x - 4) / FAULT_CHAR_W);
    if (chars < 4) return;
    const text = f.what.length > chars ? f.what.slice(0, chars - 1) + "…" : f.what;
    const t = el("svg:text", { class: "fault-label", x: x, y: AXIS_H - 4 }, text);
    t.appendChild(el("svg:title", {}, f.title));
    g.appendChild(t);
    free = x + text.length * FAULT_CHAR_W + 4;
  });
};

Timeline.prototype.drawDensity = function (g) {
  const d = this.file.density;
  if (!d) return;
  let max = 1;
  for (const lane of d.counts) for (const c of lane) max = Math.max(max, c);
  d.counts.forEach((lane, li) => {
    const base = AXIS_H + (li + 1) * LANE_H - 2;
    lane.forEach((c, b) => {
      if (!c || (b + 1) * d.width < this.v0 || b * d.width > this.v1) return;
      const x1 = Math.max(LABEL_W, this.x(b * d.width)), x2 = this.x((b + 1) * d.width);
      const hh = Math.max(1, (c / max) * (LANE_H - 6));
      const r = el("svg:rect", { class: "density", x: x1, y: base - hh, width: Math.max(0.5, x2 - x1 - 0.3), height: hh });
      r.appendChild(el("svg:title", {}, c + " ops not shown in full (summarized)"));
      g.appendChild(r);
    });
  });
};

Timeline.prototype.drawOps = function (g) {
  const right = this.x(this.v1);
  for (let i = 0; i < this.ops.length; i++) {
    const o = this.ops[i];
    const crashed = o.outcome === "info" || o.outcome === "open";
    const end = o.end === null ? o.start : o.end;
    if (o.start > this.v1 || (!crashed && end < this.v0)) continue;
    const y = AXIS_H + o.lane * LANE_H + 3, hh = LANE_H - 6;
    const x1 = Math.max(LABEL_W - 2, this.x(o.start)), x2 = Math.min(right + 2, this.x(end));
    // A crashed op may take effect at any later time: its bar fades on to the end.
    if (crashed) g.appendChild(el("svg:rect", { class: "op tail " + o.outcome, x: x2, y: y + hh / 2 - 1, width: Math.max(0, right - x2), height: 2, "data-i": i }));
    if (end >= this.v0) {
      // A halo makes a cited op stand out even when it is a sliver at this zoom.
      if (this.highlight.has(o.index)) g.appendChild(el("svg:rect", { class: "halo", x: x1 - 4, y: y - 2, width: Math.max(2, x2 - x1) + 8, height: hh + 4, rx: 4 }));
      const cls = "op " + o.outcome + (this.highlight.has(o.index) ? " hl" : "");
      g.appendChild(el("svg:rect", { class: cls, x: x1, y: y, width: Math.max(2, x2 - x1), height: hh, rx: 2, "data-i": i, "data-index": o.index }));
    }
    this.drawBadge(g, o, x1, y);
  }
};

// The linearization's order (1, 2, …), the op that could not go next (✗), or a transaction's
// name in a witness cycle (T1, …), on a pill at the start of the op's bar.
Timeline.prototype.drawBadge = function (g, o, x, y) {
  const failed = this.failed.has(o.index), text = failed ? "✗" : this.linear.get(o.index);
  if (text === undefined) return;
  const w = Math.max(14, String(text).length * 7 + 4), h = 14;
  g.appendChild(el("svg:rect", { class: failed ? "fail-dot" : "lin-dot", x: x - 2, y: y - 2, width: w, height: h, rx: 7 }));
  g.appendChild(el("svg:text", { class: "lin-badge", x: x - 2 + w / 2, y: y + 9, "text-anchor": "middle" }, text));
};

// Under the lanes, one row per anomaly: a bracket over its ops' time, its explanation below.
Timeline.prototype.drawNotes = function (g, w) {
  const lanesBottom = AXIS_H + this.file.lanes.length * LANE_H;
  this.notes.forEach((n, k) => {
    const e = this.extent(n.ops);
    if (!e) return;
    const y = lanesBottom + k * NOTE_H + 8;
    const x1 = Math.max(LABEL_W, this.x(e[0])), x2 = Math.max(x1 + 2, Math.min(w - PAD_R, this.x(e[1])));
    g.appendChild(el("svg:line", { class: "callout-line", x1: x1, x2: x2, y1: y, y2: y }));
    for (const i of n.ops) {
      const o = this.byIndex.get(i);
      if (!o) continue;
      const x = this.x(o.start);
      if (x >= LABEL_W && x <= w) g.appendChild(el("svg:line", { class: "callout-line", x1: x, x2: x, y1: AXIS_H + o.lane * LANE_H + LANE_H - 3, y2: y }));
    }
    // The text starts under the bracket and moves left as far as it must to fit.
    const room = w - PAD_R - LABEL_W - 4, chars = Math.max(10, Math.floor(room / 6.4));
    const full = n.text.length > chars ? n.text.slice(0, chars - 1) + "…" : n.text;
    const x = Math.max(LABEL_W + 4, Math.min(x1, w - PAD_R - full.length * 6.4));
    const t = el("svg:text", { class: "callout", x: x, y: y + 13 }, full);
    t.appendChild(el("svg:title", {}, n.text));
    g.appendChild(t);
    g.appendChild(el("svg:text", { class: "lane-label", x: 6, y: y + 13 }, "anomaly " + (k + 1)));
  });
};

Timeline.prototype.attach = function (tooltip) {
  const svg = this.svg;
  svg.addEventListener("wheel", (ev) => {
    ev.preventDefault();
    const rect = svg.getBoundingClientRect();
    const px = ((ev.clientX - rect.left) / rect.width) * this.width();
    this.zoom(Math.exp(ev.deltaY * 0.0015), this.timeAt(px));
  }, { passive: false });
  let drag = null;
  svg.addEventListener("mousedown", (ev) => {
    drag = { x: ev.clientX, v0: this.v0, v1: this.v1 };
    svg.classList.add("dragging");
  });
  window.addEventListener("mouseup", () => { drag = null; svg.classList.remove("dragging"); });
  window.addEventListener("mousemove", (ev) => {
    if (!drag) return;
    const rect = svg.getBoundingClientRect();
    const dt = ((ev.clientX - drag.x) / Math.max(1, rect.width - LABEL_W)) * (drag.v1 - drag.v0);
    this.setView(drag.v0 - dt, drag.v1 - dt);
  });
  svg.addEventListener("mousemove", (ev) => this.hover(ev, tooltip));
  svg.addEventListener("mouseleave", () => { tooltip.hidden = true; });
};

Timeline.prototype.hover = function (ev, tooltip) {
  const i = ev.target.getAttribute && ev.target.getAttribute("data-i");
  if (i === null || i === undefined) { tooltip.hidden = true; return; }
  const o = this.ops[Number(i)], f = this.file;
  const rows = [
    ["process", o.process], ["f", f.fs[o.f]], ["type", o.outcome],
    ["value", o.input === "" ? o.output : o.input + (o.outcome === "ok" ? " → " + o.output : "")],
    ["index", o.index + (o.cindex === null ? "" : " → " + o.cindex)],
    ["line", o.line + (o.cline ? " → " + o.cline : "")],
    ["invoked", fmtTime(f, o.start)],
    ["completed", o.end === null ? "never" : fmtTime(f, o.end) + " (took " + fmtTime(f, o.end - o.start) + ")"],
  ];
  if (this.highlight.has(o.index)) rows.push(["anomaly", "cited by an anomaly"]);
  const table = el("table");
  for (const [k, v] of rows) {
    const tr = el("tr");
    tr.appendChild(el("td", {}, k));
    tr.appendChild(el("td", {}, String(v)));
    table.appendChild(tr);
  }
  tooltip.replaceChildren(table);
  tooltip.hidden = false;
  tooltip.style.left = Math.min(ev.clientX + 14, window.innerWidth - 470) + "px";
  tooltip.style.top = ev.clientY + 14 + "px";
};

// A witness cycle as a small graph: nodes around a circle, each edge bent to its left so the
// two edges between a pair of nodes do not overlap, labelled with kind, key and values.
function cycleGraph(graph, id) {
  const n = graph.nodes.length;
  if (n === 0 || n > 12) return null;
  const size = n <= 3 ? 300 : 380, c = size / 2, R = size / 2 - 60;
  const svg = el("svg:svg", { class: "cycle", width: size, height: size, viewBox: "0 0 " + size + " " + size });
  const defs = el("svg:defs");
  const marker = el("svg:marker", { id: id, viewBox: "0 0 10 10", refX: 9, refY: 5, markerWidth: 7, markerHeight: 7, orient: "auto-start-reverse" });
  marker.appendChild(el("svg:path", { d: "M0,0 L10,5 L0,10 z", fill: "#555" }));
  defs.appendChild(marker);
  svg.appendChild(defs);
  const pos = graph.nodes.map((_, i) => {
    const a = -Math.PI / 2 + (2 * Math.PI * i) / n;
    return [c + R * Math.cos(a), c + R * Math.sin(a)];
  });
  for (const e of graph.edges) svg.appendChild(cycleEdge(e, pos, id));
  graph.nodes.forEach((node, i) => {
    const g = el("svg:g", { class: "node" });
    const half = Math.max(17, node.label.length * 4 + 6);
    g.appendChild(el("svg:rect", { x: pos[i][0] - half, y: pos[i][1] - 14, width: 2 * half, height: 28, rx: 14 }));
    g.appendChild(el("svg:text", { x: pos[i][0], y: pos[i][1] + 4 }, node.label));
    g.appendChild(el("svg:title", {}, node.label + ": index " + node.index + ", process " + node.process + "\n" + node.text));
    svg.appendChild(g);
  });
  return svg;
}

function cycleEdge(e, pos, id) {
  const [x1, y1] = pos[e.from], [x2, y2] = pos[e.to];
  const dx = x2 - x1, dy = y2 - y1, len = Math.max(1, Math.hypot(dx, dy));
  const ux = dx / len, uy = dy / len, bend = Math.min(60, len * 0.28);
  // Control point to the left of the direction of travel; ends pulled back to the circles.
  const mx = (x1 + x2) / 2 + uy * bend, my = (y1 + y2) / 2 - ux * bend;
  const sx = x1 + ux * 18 + uy * 6, sy = y1 + uy * 18 - ux * 6, ex = x2 - ux * 19 + uy * 6, ey = y2 - uy * 19 - ux * 6;
  const g = el("svg:g", { class: "edge " + e.label.split(" ")[0] });
  g.appendChild(el("svg:path", { d: "M" + sx + "," + sy + " Q" + mx + "," + my + " " + ex + "," + ey, "marker-end": "url(#" + id + ")" }));
  const lx = (sx + 2 * mx + ex) / 4 + uy * 8, ly = (sy + 2 * my + ey) / 4 - ux * 8 + 3;
  g.appendChild(el("svg:text", { x: lx, y: ly }, e.label.length > 34 ? e.label.slice(0, 33) + "…" : e.label));
  g.appendChild(el("svg:title", {}, e.title));
  return g;
}

// The linearization found up to the failure: the last steps, then the op that could not go
// next and why, then the ops tried instead. Clicking a row shows that op on the timeline.
function linearizationTable(c, timeline) {
  const box = el("div");
  const first = c.prefix_len - c.prefix_tail.length;
  box.appendChild(el("p", { class: "note" }, c.prefix_len === 0
    ? "No op can be linearized first; the initial state is " + c.state + "."
    : "Linearization found, up to the failure (" + c.prefix_len + " ops" + (first > 0 ? ", the last " + c.prefix_tail.length + " shown" : "") + "):"));
  const table = el("table", { class: "lin" });
  const head = el("tr");
  for (const h of ["#", "index", "process", "op", "state after"]) head.appendChild(el("th", {}, h));
  table.appendChild(head);
  const row = (cells, index, cls) => {
    const tr = el("tr", cls ? { class: cls } : {});
    cells.forEach((v, k) => tr.appendChild(el("td", k === 3 || k === 4 ? { class: "mono" } : {}, String(v))));
    tr.addEventListener("click", () => timeline.focus([index]));
    table.appendChild(tr);
  };
  c.prefix_tail.forEach((s, i) => row([first + i + 1, s.op.index, s.op.process, s.op.text, s.state_after], s.op.index));
  row(["✗", c.op.index, c.op.process, c.op.text, c.reason], c.op.index, "failed");
  box.appendChild(table);
  if (c.tried.length) {
    box.appendChild(el("p", { class: "note" }, "Ops that could have gone next instead:"));
    const ul = el("ul");
    for (const t of c.tried) ul.appendChild(el("li", {}, "index " + t.op.index + " (process " + t.op.process + "): " + t.reason));
    box.appendChild(ul);
  }
  return box;
}

function anomalyCard(a, k, timeline, id) {
  const card = el("div", { class: "anomaly", "data-kind": a.kind });
  card.appendChild(el("h3", {}, (k + 1) + ". " + a.kind + (a.key === null ? "" : " (key " + a.key + ")")));
  card.appendChild(el("p", { class: "explanation" }, a.explanation));
  for (const f of a.faults) card.appendChild(el("p", { class: "faults-active" }, f));
  const tools = el("div", { class: "toolbar" });
  const parts = timeline.clusters(a.ops);
  parts.forEach((part) => {
    const show = el("button", { type: "button", title: "Zoom the timeline to these ops" }, (parts.length > 1 ? "Show ops " : "Show on timeline: ops ") + part.join(", "));
    show.addEventListener("click", () => timeline.focus(part));
    tools.appendChild(show);
  });
  if (!parts.length) tools.appendChild(el("span", { class: "note" }, "ops " + a.ops.join(", ")));
  card.appendChild(tools);
  if (a.linearization) card.appendChild(linearizationTable(a.linearization, timeline));
  if (a.cycle) {
    const graph = cycleGraph(a.cycle, id);
    if (graph) card.appendChild(graph);
    const ul = el("ul", { class: "mono" });
    for (const e of a.cycle.edges) ul.appendChild(el("li", {}, e.title));
    if (a.cycle.omitted) ul.appendChild(el("li", {}, "… and " + a.cycle.omitted + " more transactions"));
    card.appendChild(ul);
  }
  return card;
}

// Marks every anomaly's ops, linearization and note on the timeline.
function markAnomalies(file, timeline) {
  for (const r of file.reports) {
    for (const a of r.anomalies) {
      a.ops.forEach((i) => timeline.highlight.add(i));
      const lin = a.linearization;
      if (lin) {
        const first = lin.prefix_len - lin.prefix_tail.length;
        lin.prefix_tail.forEach((s, i) => timeline.linear.set(s.op.index, String(first + i + 1)));
        timeline.failed.add(lin.op.index);
      } else if (a.cycle) {
        // Transactions carry their names in the cycle (T1, T2, …) on their bars too.
        a.cycle.nodes.forEach((node) => { if (node.label.length <= 3) timeline.linear.set(node.index, node.label); });
      }
      const firstLine = a.explanation.split("\n")[0];
      const text = firstLine.startsWith(a.kind) ? firstLine : a.kind + ": " + firstLine;
      timeline.notes.push({ ops: a.ops, text: text });
    }
  }
}

function fileHead(file) {
  const head = el("div", { class: "file-head" });
  head.appendChild(el("h2", {}, file.file));
  for (const r of file.reports) head.appendChild(el("span", { class: "verdict " + r.verdict }, r.consistency + ": " + r.verdict));
  const model = file.reports.length ? file.reports[0].model + ", " : "";
  const shown = file.ops.length === file.total_ops ? "all shown" : file.ops.length + " shown in full" + (file.reports.some((r) => r.anomalies.length) ? " around the anomalies" : "") + ", the rest summarized as density";
  head.appendChild(el("span", { class: "meta" }, model + file.total_ops + " ops (" + shown + "), " + file.lanes.length + " lanes, " + file.faults.length + " fault windows" + (file.faults_omitted ? " (+" + file.faults_omitted + " not drawn)" : "")));
  return head;
}

function toolbar(timeline) {
  const bar = el("div", { class: "toolbar" });
  const button = (text, title, action) => {
    const b = el("button", { type: "button", title: title }, text);
    b.addEventListener("click", action);
    bar.appendChild(b);
  };
  button("+", "Zoom in", () => timeline.zoom(0.5));
  button("−", "Zoom out", () => timeline.zoom(2));
  button("◀", "Pan left", () => { const w = timeline.v1 - timeline.v0; timeline.setView(timeline.v0 - w / 3, timeline.v1 - w / 3); });
  button("▶", "Pan right", () => { const w = timeline.v1 - timeline.v0; timeline.setView(timeline.v0 + w / 3, timeline.v1 + w / 3); });
  button("Whole history", "Show the whole history", () => timeline.setView(0, timeline.file.span));
  bar.appendChild(timeline.rangeLabel);
  bar.appendChild(el("span", { class: "note" }, "wheel to zoom, drag to pan, hover for details"));
  return bar;
}

function renderFile(file, n, tooltip) {
  const section = el("section", { class: "file" });
  section.appendChild(fileHead(file));
  if (file.error !== null) {
    section.appendChild(el("p", { class: "error" }, file.error));
    return { section: section, timeline: null };
  }
  const layout = el("div", { class: "layout" });
  const left = el("div"), panel = el("aside", { class: "panel" });
  const svg = el("svg:svg", { class: "timeline", "data-file": file.file });
  const timeline = new Timeline(file, svg, el("span", { class: "range" }));
  left.appendChild(toolbar(timeline));
  const box = el("div", { class: "timeline-box" });
  box.appendChild(svg);
  left.appendChild(box);
  markAnomalies(file, timeline);
  let k = 0;
  for (const r of file.reports) {
    for (const a of r.anomalies) panel.appendChild(anomalyCard(a, k, timeline, "arrow-" + n + "-" + k++));
    if (r.anomalies_omitted) panel.appendChild(el("p", { class: "note" }, r.anomalies_omitted + " more anomalies (" + r.consistency + ") are in the text report below and in --output json."));
  }
  if (k === 0) panel.appendChild(el("p", {}, file.reports.length ? "No anomalies: every check passed or gave no verdict." : "Not checked (summary only)."));
  layout.append(left, panel);
  section.appendChild(layout);
  for (const r of file.reports) {
    const d = el("details");
    d.appendChild(el("summary", {}, "Text report (" + r.consistency + ")"));
    d.appendChild(el("pre", {}, r.text));
    section.appendChild(d);
  }
  return { section: section, timeline: timeline };
}

function legend() {
  const p = document.getElementById("legend");
  for (const [name, color] of [["ok", "var(--ok)"], ["fail", "var(--fail)"], ["info (crashed, open-ended)", "var(--info)"], ["anomaly's op", "#fff; outline: 2px solid var(--hl)"], ["fault window", "var(--fault)"], ["summarized ops", "#8a8aa0"]]) {
    p.appendChild(el("span", { class: "swatch", style: "background: " + color }));
    p.appendChild(document.createTextNode(name));
  }
}

// With #selftest in the address, the page drives its first timeline as a person would (wheel,
// drag, hover) and records in data-selftest what each did, for the headless browser test.
function selfTest(timeline, tooltip) {
  const svg = timeline.svg, rect = svg.getBoundingClientRect();
  const cx = rect.left + rect.width * 0.6, cy = rect.top + 50, results = [];
  const w0 = timeline.v1 - timeline.v0;
  svg.dispatchEvent(new WheelEvent("wheel", { deltaY: -400, clientX: cx, clientY: cy, bubbles: true, cancelable: true }));
  results.push("zoom:" + (timeline.v1 - timeline.v0 < w0 ? "ok" : "no"));
  const v0 = timeline.v0;
  svg.dispatchEvent(new MouseEvent("mousedown", { clientX: cx, clientY: cy, bubbles: true }));
  window.dispatchEvent(new MouseEvent("mousemove", { clientX: cx + 100, clientY: cy }));
  window.dispatchEvent(new MouseEvent("mouseup", {}));
  results.push("pan:" + (timeline.v0 < v0 ? "ok" : "no"));
  const bar = svg.querySelector("rect.op:not(.tail)");
  if (bar) bar.dispatchEvent(new MouseEvent("mousemove", { clientX: 10, clientY: 10, bubbles: true }));
  results.push("hover:" + (!tooltip.hidden && tooltip.textContent.includes("process") ? "ok" : "no"));
  document.documentElement.dataset.selftest = results.join(" ");
}

function main() {
  const started = performance.now();
  const files = JSON.parse(document.getElementById("labrys-data").textContent);
  const tooltip = document.getElementById("tooltip");
  const root = document.getElementById("files");
  legend();
  root.replaceChildren();
  let first = null;
  files.forEach((file, n) => {
    const made = renderFile(file, n, tooltip);
    root.appendChild(made.section);
    if (made.timeline) {
      first = first || made.timeline;
      // The page opens on the first anomaly (the rest is a button away), else on the whole history.
      const note = made.timeline.notes[0];
      const part = note && made.timeline.clusters(note.ops)[0];
      if (part) made.timeline.focus(part, true);
      else made.timeline.setView(0, file.span);
      made.timeline.attach(tooltip);
      window.addEventListener("resize", () => made.timeline.draw());
    }
  });
  if (location.hash === "#selftest" && first) selfTest(first, tooltip);
  document.documentElement.dataset.rendered = "1";
  document.documentElement.dataset.renderMs = String(Math.round(performance.now() - started));
}

try {
  main();
} catch (e) {
  window.onerror(e && e.stack ? e.stack : String(e));
}
