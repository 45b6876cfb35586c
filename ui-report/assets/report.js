// flow report: draws the run described by the JSON in #flow-data (ui-report/report_data.hpp
// gives its shape). Plain DOM, SVG and canvas; no library, nothing fetched. Each section sets
// data-rendered="true" when drawn; errors are shown in #errors (and the page's tests read
// both).
(function () {
  "use strict";
  const errorsBox = document.getElementById("errors");
  function reportError(text) {
    errorsBox.textContent += text + "\n";
    document.body.setAttribute("data-errors", "true");
  }
  window.addEventListener("error", (e) => reportError("error: " + e.message));

  const D = JSON.parse(document.getElementById("flow-data").textContent);
  const STATES = D.states;
  const COLOURS = {
    succeeded: "#7bc47f", failed: "#e5604d", upstream_failed: "#f0a35e", timed_out: "#c94a9b",
    cancelled: "#9e9e9e", skipped: "#d6d6d6", running: "#5b9bd5", starting: "#8fbce6",
    submitting: "#8fbce6", pending: "#c5d9ee", queued: "#eceff4", up_for_retry: "#f4d35e",
  };
  const QUEUE_COLOUR = "#c9ced8";
  const colour = (s) => COLOURS[s] || "#ffffff";

  // ---- helpers ---------------------------------------------------------------------------
  function el(tag, attrs, ...children) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (k === "class") e.className = v;
      else if (k === "text") e.textContent = v;
      else e.setAttribute(k, v);
    }
    for (const c of children) if (c !== null && c !== undefined) e.append(c);
    return e;
  }
  const SVGNS = "http://www.w3.org/2000/svg";
  function svg(tag, attrs, text) {
    const e = document.createElementNS(SVGNS, tag);
    for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
    if (text !== undefined) e.textContent = text;
    return e;
  }
  function duration(ms) {
    if (ms === null || ms === undefined || ms < 0) return "";
    if (ms < 1000) return ms + " ms";
    let s = ms / 1000;
    if (s < 60) return s.toFixed(s < 10 ? 2 : 1) + " s";
    const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60);
    s = Math.round(s % 60);
    return (h ? h + "h " : "") + m + "m " + s + "s";
  }
  function bytes(n) {
    const units = ["B", "KB", "MB", "GB", "TB"];
    let i = 0;
    while (n >= 1024 && i < units.length - 1) { n /= 1024; i++; }
    return (i ? n.toFixed(1) : n) + " " + units[i];
  }
  function fmt(v) {
    if (typeof v === "number") return Number.isInteger(v) ? String(v) : v.toPrecision(4);
    if (v === null || v === undefined) return "";
    return typeof v === "string" ? v : JSON.stringify(v);
  }
  function done(id) { document.getElementById(id).setAttribute("data-rendered", "true"); }
  function guarded(id, draw) {
    try { draw(); done(id); } catch (e) { reportError(id + ": " + (e && e.stack || e)); }
  }

  // Instances and their tries, joined once.
  const tasks = D.tasks.map((t) => ({ id: t[0], kind: t[1], site: t[2], cores: t[3], gpus: t[4] }));
  const instances = D.instances.map((r, i) => ({
    index: i, id: r[0], task: r[1] >= 0 ? tasks[r[1]].id : "", state: STATES[r[2]],
    tries: r[3], site: r[4], job: r[5], exit: r[6], message: r[7] || (r[8] ? "waiting: " + r[8] : ""), list: [],
    segment: r[9] || 0, segmentTry: r[10] || 0,
  }));
  const tries = D.tries.map((r) => ({
    inst: r[0], n: r[1], state: STATES[r[2]], launched: r[3], submitted: r[4], started: r[5],
    ended: r[6], job: r[7], exit: r[8],
    // What it used (-1: not known): CPU ms, peak memory bytes, run ms, CPUs allotted (0: none).
    cpu: r[9] ?? -1, rss: r[10] ?? -1, wall: r[11] ?? -1, cpus: r[12] ?? 0,
    segment: r[13] || 0, segmentTry: r[14] || 0,
  }));
  // Which attempt: an HPO trial's segment and its try of that segment ("segment 2, try 3"),
  // any other instance's try ("try 3"), as flow's progress lines and `flow status` say it.
  function attemptLabel(n, segment, segmentTry) {
    if (!segment) return "try " + n;
    return "segment " + segment + (segmentTry > 1 ? ", try " + segmentTry : "");
  }
  // A tries cell: the count, and for a trial where it is now ("4 (segment 2, try 2)").
  function triesCell(n, segment, segmentTry) {
    return fmt(n) + (segment ? " (" + attemptLabel(n, segment, segmentTry) + ")" : "");
  }
  for (const t of tries) instances[t.inst].list.push(t);
  const runEnd = Math.max(D.run.wall_ms, 1);
  for (const inst of instances) {
    const last = inst.list[inst.list.length - 1];
    inst.first = inst.list.length ? inst.list[0].launched : -1;
    inst.queued = last && last.started >= 0 && last.submitted >= 0 ? last.started - last.submitted : -1;
    inst.ran = last && last.started >= 0 ? (last.ended >= 0 ? last.ended : runEnd) - last.started : -1;
    inst.rss = last ? last.rss : -1;
    // Share of the allotted CPUs kept busy; a local process has no allotment: cores used.
    inst.cpus = last ? last.cpus : 0;
    inst.eff = last && last.cpu >= 0 && last.wall > 0 ? last.cpu / (last.wall * Math.max(last.cpus, 1)) : -1;
  }
  function bytes(v) {
    if (v < 0) return "";
    const units = ["B", "KiB", "MiB", "GiB", "TiB"];
    let k = 0;
    while (v >= 1024 && k < units.length - 1) { v /= 1024; k++; }
    return (k ? v.toFixed(v < 10 ? 2 : v < 100 ? 1 : 0) : String(v)) + " " + units[k];
  }

  // ---- summary -----------------------------------------------------------------------------
  guarded("summary", () => {
    const r = D.run;
    const rows = [
      ["DAG", r.dag + (r.dag_file ? "  (" + r.dag_file + ")" : "")],
      ["state", r.state],
      ["created", r.created], ["started", r.started], ["ended", r.ended || "(not ended)"],
      ["wall time", duration(r.wall_ms)],
      ["logical date", r.logical_date],
      ["data interval", r.data_interval[0] ? r.data_interval[0] + " \u2013 " + r.data_interval[1] : ""],
      ["engine host", r.host], ["working directory", r.workdir],
      ["parallelism", r.parallelism ? String(r.parallelism) : "unlimited"],
      ["params", Object.keys(r.params).length ? JSON.stringify(r.params) : "(none)"],
      ["core-hours", D.usage.core_hours.toFixed(3)],
      ["GPU-hours", D.usage.gpu_hours.toFixed(3)],
      ["CPU-hours used", D.usage.measured_tries
        ? D.usage.cpu_hours_used.toFixed(3) + " (measured for " + D.usage.measured_tries + " of " + tries.length + " tries)" : ""],
      ["tries", String(tries.length)],
    ];
    const table = el("table", { class: "kv" });
    for (const [k, v] of rows) if (v !== "") table.append(el("tr", {}, el("th", { text: k }), el("td", { text: v })));
    const chips = el("div", {});
    for (const s of STATES) {
      const n = D.counts[s];
      if (!n) continue;
      chips.append(el("span", { class: "chip", "data-state": s },
        el("span", { class: "swatch", style: "background:" + colour(s) }), n + " " + s));
    }
    const box = document.getElementById("summary-body");
    box.append(chips, table, el("p", { class: "muted", text: "core- and GPU-hours: " + D.usage.basis }));
  });

  // ---- timeline (canvas, virtual rows, wheel zoom, drag pan) ---------------------------------
  guarded("timeline", () => {
    const rows = instances.filter((i) => i.list.length).sort((a, b) => a.first - b.first || a.index - b.index);
    const scroll = document.getElementById("timeline-scroll");
    const canvas = document.getElementById("timeline-canvas");
    const spacer = document.getElementById("timeline-spacer");
    const tip = document.getElementById("timeline-tip");
    const ROW = 16, GUTTER = 190, AXIS = 22;
    let view = [0, runEnd * 1.02];
    const ctx = canvas.getContext("2d");
    scroll.style.height = Math.min(420, AXIS + rows.length * ROW + 6) + "px";
    const viewHeight = () => Math.min(scroll.clientHeight || 420, AXIS + rows.length * ROW + 4);
    spacer.style.height = Math.max(0, AXIS + rows.length * ROW + 4 - viewHeight()) + "px";
    document.getElementById("timeline-count").textContent =
      rows.length + " instances, " + tries.length + " tries";

    function x(t) { return GUTTER + ((t - view[0]) / (view[1] - view[0])) * (canvas.width - GUTTER - 8); }
    function draw() {
      const w = Math.max(scroll.clientWidth - 2, 400);
      canvas.width = w;
      canvas.height = viewHeight();
      ctx.clearRect(0, 0, w, canvas.height);
      ctx.font = "11px sans-serif";
      const first = Math.floor(scroll.scrollTop / ROW);
      const count = Math.ceil((canvas.height - AXIS) / ROW) + 1;
      for (let k = 0; k < count && first + k < rows.length; k++) {
        const inst = rows[first + k];
        const y = AXIS + k * ROW;
        ctx.fillStyle = k % 2 ? "#f6f7f9" : "#ffffff";
        ctx.fillRect(0, y, w, ROW);
        ctx.fillStyle = "#1d2330";
        ctx.fillText(inst.id.length > 28 ? inst.id.slice(0, 27) + "\u2026" : inst.id, 4, y + 12);
        for (const t of inst.list) {
          const end = t.ended >= 0 ? t.ended : runEnd;
          const runFrom = t.started >= 0 ? t.started : end;
          const waitFrom = t.submitted >= 0 ? t.submitted : t.launched;
          ctx.fillStyle = QUEUE_COLOUR;  // launched or submitted -> running: waiting
          ctx.fillRect(x(waitFrom), y + 4, Math.max(x(runFrom) - x(waitFrom), 0), ROW - 8);
          if (t.started >= 0) {
            ctx.fillStyle = colour(t.state);
            ctx.fillRect(x(runFrom), y + 2, Math.max(x(end) - x(runFrom), 1.5), ROW - 4);
            ctx.strokeStyle = "#39414f";
            ctx.strokeRect(x(runFrom), y + 2, Math.max(x(end) - x(runFrom), 1.5), ROW - 4);
          }
        }
      }
      // axis
      ctx.fillStyle = "#ffffff";
      ctx.fillRect(0, 0, w, AXIS);
      ctx.fillStyle = "#39414f";
      ctx.strokeStyle = "#b9c0cc";
      const span = view[1] - view[0];
      const step = niceStep(span / 8);
      for (let t = Math.ceil(view[0] / step) * step; t <= view[1]; t += step) {
        ctx.beginPath(); ctx.moveTo(x(t), AXIS - 4); ctx.lineTo(x(t), canvas.height); ctx.stroke();
        ctx.fillText(duration(Math.round(t)), x(t) + 2, 12);
      }
    }
    function niceStep(raw) {
      const steps = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1e3, 2e3, 5e3, 1e4, 15e3, 3e4, 6e4, 12e4,
        3e5, 6e5, 9e5, 18e5, 36e5, 72e5, 108e5, 216e5, 432e5, 864e5, 1728e5, 6048e5];
      for (const s of steps) if (s >= raw) return s;
      return steps[steps.length - 1];
    }
    canvas.addEventListener("wheel", (e) => {
      if (e.shiftKey || e.ctrlKey || e.metaKey || e.altKey) {
        e.preventDefault();
        const at = view[0] + ((e.offsetX - GUTTER) / (canvas.width - GUTTER - 8)) * (view[1] - view[0]);
        const f = e.deltaY > 0 ? 1.25 : 0.8;
        view = [at - (at - view[0]) * f, at + (view[1] - at) * f];
        draw();
      }
    }, { passive: false });
    let drag = null;
    canvas.addEventListener("mousedown", (e) => { drag = { x: e.offsetX, view: view.slice() }; });
    window.addEventListener("mouseup", () => { drag = null; });
    canvas.addEventListener("mousemove", (e) => {
      if (drag) {
        const dt = ((e.offsetX - drag.x) / (canvas.width - GUTTER - 8)) * (drag.view[1] - drag.view[0]);
        view = [drag.view[0] - dt, drag.view[1] - dt];
        draw();
        return;
      }
      const k = Math.floor((e.offsetY - AXIS) / ROW) + Math.floor(scroll.scrollTop / ROW);
      const inst = e.offsetY > AXIS ? rows[k] : null;
      if (!inst) { tip.textContent = ""; return; }
      tip.textContent = inst.list.map((t) =>
        inst.id + " " + attemptLabel(t.n, t.segment, t.segmentTry) + ": " + t.state +
        (t.job ? ", job " + t.job : "") +
        (t.started >= 0 ? ", waited " + duration(t.started - (t.submitted >= 0 ? t.submitted : t.launched)) +
          ", ran " + duration((t.ended >= 0 ? t.ended : runEnd) - t.started) : ", never started")).join("  |  ");
    });
    canvas.addEventListener("dblclick", () => { view = [0, runEnd * 1.02]; draw(); });
    document.getElementById("timeline-reset").addEventListener("click", () => { view = [0, runEnd * 1.02]; draw(); });
    scroll.addEventListener("scroll", draw);
    window.addEventListener("resize", draw);
    draw();
  });

  // ---- DAG (drawn by flow as SVG; here only the legend) ------------------------------------
  guarded("dag", () => {
    const legend = document.getElementById("dag-legend");
    for (const s of ["succeeded", "failed", "upstream_failed", "running", "pending", "queued", "up_for_retry", "skipped", "cancelled"]) {
      legend.append(el("span", { class: "chip" }, el("span", { class: "swatch", style: "background:" + colour(s) }), s));
    }
  });

  // ---- task table: sortable, filterable, paged ---------------------------------------------
  guarded("tasks", () => {
    const columns = [
      ["instance", (i) => i.id], ["task", (i) => i.task], ["state", (i) => i.state],
      ["tries", (i) => i.tries, true, null, (i) => triesCell(i.tries, i.segment, i.segmentTry)],
      ["site", (i) => i.site], ["job", (i) => i.job],
      ["exit", (i) => i.exit, true], ["queued", (i) => i.queued, true, duration],
      ["ran", (i) => i.ran, true, duration], ["peak memory", (i) => i.rss, true, bytes],
      ["CPU efficiency", (i) => i.eff, true,
        (v, i) => v < 0 ? "" : i.cpus > 0 ? (100 * v).toFixed(0) + "%" : v.toFixed(2) + " cores"],
      ["message", (i) => i.message],
    ];
    const table = document.getElementById("task-table");
    const filter = document.getElementById("task-filter");
    const stateSel = document.getElementById("task-state");
    const more = document.getElementById("task-more");
    const shown = document.getElementById("task-shown");
    for (const s of STATES) if (D.counts[s]) stateSel.append(el("option", { value: s, text: s }));
    let sortBy = -1, desc = false, limit = 200, list = instances;
    const head = el("tr", {});
    columns.forEach(([name, , num], k) => {
      const th = el("th", { text: name, class: num ? "num" : "" });
      th.addEventListener("click", () => { desc = sortBy === k ? !desc : false; sortBy = k; update(); });
      head.append(th);
    });
    const thead = el("thead", {}, head), tbody = el("tbody", {});
    table.append(thead, tbody);
    function update() {
      const q = filter.value.trim().toLowerCase(), st = stateSel.value;
      list = instances.filter((i) => (!st || i.state === st) &&
        (!q || (i.id + " " + i.site + " " + i.job + " " + i.message).toLowerCase().includes(q)));
      if (sortBy >= 0) {
        const key = columns[sortBy][1];
        list = list.slice().sort((a, b) => {
          const x = key(a), y = key(b);
          return (x < y ? -1 : x > y ? 1 : 0) * (desc ? -1 : 1);
        });
      }
      Array.from(head.children).forEach((th, k) => {
        th.classList.toggle("sorted-asc", k === sortBy && !desc);
        th.classList.toggle("sorted-desc", k === sortBy && desc);
      });
      tbody.textContent = "";
      for (const inst of list.slice(0, limit)) {
        const tr = el("tr", { "data-state": inst.state });
        for (const [name, key, num, show, label] of columns) {
          const v = key(inst);
          const td = el("td", { class: name === "message" ? "msg" : num ? "num" : "" },
            name === "state" ? el("span", { class: "swatch", style: "background:" + colour(v) }) : null,
            label ? label(inst) : show ? show(v, inst) : fmt(v));
          tr.append(td);
        }
        tbody.append(tr);
      }
      shown.textContent = "showing " + Math.min(limit, list.length) + " of " + list.length;
      more.hidden = list.length <= limit;
    }
    filter.addEventListener("input", () => { limit = 200; update(); });
    stateSel.addEventListener("change", () => { limit = 200; update(); });
    more.addEventListener("click", () => { limit += 1000; update(); });
    update();
  });

  // ---- HPO: learning curves, rungs, lineage, best, parameter plots, core-hours ---------------
  function chart(title, series, opts) {
    const W = opts.width || 460, H = opts.height || 260, L = 52, R = 12, T = 22, B = 34;
    const pts = series.flatMap((s) => s.points);
    const root = svg("svg", { class: "chart", width: W, height: H, "data-chart": title });
    root.append(svg("text", { x: L, y: 14, "font-weight": "600" }, title));
    if (!pts.length) {
      root.append(svg("text", { x: L, y: H / 2 }, "no data yet"));
      return root;
    }
    let [x0, x1] = [Math.min(...pts.map((p) => p[0])), Math.max(...pts.map((p) => p[0]))];
    let [y0, y1] = [Math.min(...pts.map((p) => p[1])), Math.max(...pts.map((p) => p[1]))];
    if (opts.logX && x0 > 0) { x0 = Math.log10(x0); x1 = Math.log10(x1); }
    if (x1 === x0) { x0 -= 1; x1 += 1; }
    if (y1 === y0) { y0 -= 1; y1 += 1; }
    const X = (v) => L + (((opts.logX ? Math.log10(v) : v) - x0) / (x1 - x0)) * (W - L - R);
    const Y = (v) => T + (1 - (v - y0) / (y1 - y0)) * (H - T - B);
    root.append(svg("line", { x1: L, y1: H - B, x2: W - R, y2: H - B, stroke: "#8a94a6" }));
    root.append(svg("line", { x1: L, y1: T, x2: L, y2: H - B, stroke: "#8a94a6" }));
    const ticks = W < 360 ? 2 : 4;
    for (let k = 0; k <= 4; k++) {
      const v = y0 + ((y1 - y0) * k) / 4;
      root.append(svg("text", { x: 4, y: Y(v) + 4 }, fmt(Number(v.toPrecision(3)))));
    }
    for (let k = 0; k <= ticks; k++) {
      const xv = opts.logX ? Math.pow(10, x0 + ((x1 - x0) * k) / ticks) : x0 + ((x1 - x0) * k) / ticks;
      const label = opts.integerX ? String(Math.round(xv)) : fmt(Number(xv.toPrecision(3)));
      root.append(svg("text", { x: X(xv) - (k === ticks ? 24 : k ? 10 : 0), y: H - B + 14 }, label));
    }
    root.append(svg("text", { x: W / 2 - 20, y: H - 4 }, opts.xLabel || ""));
    for (const v of opts.vlines || []) {
      if (v < x0 || v > x1) continue;
      root.append(svg("line", { x1: X(v), y1: T, x2: X(v), y2: H - B, stroke: "#c9ced8", "stroke-dasharray": "4 3" }));
    }
    for (const s of series) {
      const g = svg("g", { "data-series": s.name });
      g.append(svg("title", {}, s.name));
      if (s.line && s.points.length > 1) {
        g.append(svg("polyline", {
          points: s.points.map((p) => X(p[0]) + "," + Y(p[1])).join(" "),
          fill: "none", stroke: s.colour, "stroke-width": s.bold ? 2.6 : 1.2, opacity: s.bold ? 1 : 0.75,
        }));
      }
      for (const p of s.points) g.append(svg("circle", { cx: X(p[0]), cy: Y(p[1]), r: s.bold ? 3.5 : 2.3, fill: s.colour }));
      root.append(g);
    }
    return root;
  }
  const PALETTE = ["#4e79a7", "#f28e2b", "#59a14f", "#b07aa1", "#76b7b2", "#edc948", "#ff9da7", "#9c755f", "#bab0ac", "#e15759"];

  guarded("hpo", () => {
    const box = document.getElementById("hpo-body");
    if (!D.sweeps.length) { box.append(el("p", { class: "muted", text: "This run has no hpo: task." })); return; }
    for (const sw of D.sweeps) {
      const part = el("div", { class: "sweep", "data-sweep": sw.task });
      part.append(el("h3", { text: sw.task + ": " + sw.algorithm + " on " + sw.metric + " (" + sw.mode + "), " +
        sw.trials.length + " trials, " + sw.state }));
      if (sw.best) {
        part.append(el("p", {}, el("strong", { text: "best: " + sw.best.trial }),
          " " + sw.metric + " = " + fmt(sw.best.metric) + " after " + sw.best.epochs + " epochs, params " +
          JSON.stringify(sw.best.params)));
      } else {
        part.append(el("p", { class: "muted", text: "no best trial yet" }));
      }
      const bestId = sw.best ? sw.best.trial : null;
      const series = sw.trials.map((t, k) => ({
        name: t.id + " (" + t.state + ")", colour: t.id === bestId ? "#d62728" : PALETTE[k % PALETTE.length],
        bold: t.id === bestId, line: true,
        points: (t.curve || t.history || []).filter((h) => typeof h[1] === "number").map((h) => [h[0], h[1]]),
      }));
      const rungs = sw.rungs || [];
      const charts = el("div", { class: "charts" });
      charts.append(chart("learning curves: " + sw.metric + " vs epoch" + (rungs.length ? " (dashed: rungs)" : ""),
        series, { xLabel: "epoch", vlines: rungs, integerX: true }));
      const numeric = Object.keys((sw.trials[0] || {}).params || {}).filter((p) =>
        sw.trials.every((t) => typeof t.params[p] === "number"));
      for (const p of numeric) {
        const withMetric = sw.trials.filter((t) => typeof t.metric === "number");
        const logX = withMetric.length > 1 && withMetric.every((t) => t.params[p] > 0) &&
          Math.max(...withMetric.map((t) => t.params[p])) / Math.min(...withMetric.map((t) => t.params[p])) > 50;
        charts.append(chart(p + " vs " + sw.metric, [{
          name: p, colour: "#4e79a7", line: false, points: withMetric.map((t) => [t.params[p], t.metric]),
        }], { xLabel: p + (logX ? " (log)" : ""), logX: logX, width: 300, height: 220 }));
      }
      part.append(charts);
      const table = el("table", { class: "grid trials" });
      const cols = ["trial", "state", sw.metric, "epochs", "rung", "bracket", "parent", "tries", "core-hours", "params"];
      table.append(el("thead", {}, el("tr", {}, ...cols.map((c) => el("th", { text: c })))));
      const body = el("tbody", {});
      for (const t of sw.trials) {
        const hours = sw.core_hours[t.id];
        body.append(el("tr", { "data-trial": t.id },
          ...[t.id, t.state, fmt(t.metric), fmt(t.epochs), fmt(t.rung), fmt(t.bracket),
            t.parent ? t.parent + " \u2192 " + t.id : "", triesCell(t.tries, t.segment, t.segment_try), hours === undefined ? "" : hours.toFixed(4),
            JSON.stringify(t.params)].map((v) => el("td", { text: v }))));
      }
      table.append(body);
      part.append(table);
      if (sw.algorithm === "pbt") {
        const lineage = sw.trials.filter((t) => t.parent).map((t) => t.parent + " \u2192 " + t.id);
        part.append(el("p", { class: "muted", text: "exploit/explore lineage (donor \u2192 trial): " +
          (lineage.length ? lineage.join(", ") : "no exploit yet") }));
      }
      box.append(part);
    }
  });

  // ---- artifacts ---------------------------------------------------------------------------
  guarded("artifacts", () => {
    const box = document.getElementById("artifacts-body");
    if (!D.artifacts.length) { box.append(el("p", { class: "muted", text: "This run registered no artifacts." })); return; }
    const table = el("table", { class: "grid" });
    table.append(el("thead", {}, el("tr", {}, ...["name", "task", "kind", "format", "size", "sha256", "path", "JSON-LD"].map((c) => el("th", { text: c })))));
    const body = el("tbody", {});
    for (const a of D.artifacts) {
      const ld = JSON.stringify(a.jsonld, null, 2);
      const link = el("a", { href: "#", text: "download" });
      link.addEventListener("click", (e) => {
        e.preventDefault();
        const url = URL.createObjectURL(new Blob([ld], { type: "application/ld+json" }));
        const dl = el("a", { href: url, download: a.id + ".jsonld" });
        document.body.append(dl); dl.click(); dl.remove();
      });
      body.append(el("tr", { "data-artifact": a.id, "data-kind": a.kind },
        el("td", { text: a.name }), el("td", { text: a.instance }), el("td", { text: a.kind }),
        el("td", { text: a.format }),
        el("td", { class: "num", text: bytes(a.size) }), el("td", { class: "mono", text: a.sha256 }),
        el("td", { class: "mono", text: a.path }),
        el("td", {}, el("details", {}, el("summary", { text: "record" }), el("pre", { class: "jsonld", text: ld })), link)));
    }
    table.append(body);
    box.append(table);
  });
})();
