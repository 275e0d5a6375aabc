// reports.js draws the chart of /reports with uPlot from the figures the
// page hands over in <script type="application/json" id="report-data">
// (JSON is not run, so the Content-Security-Policy allows it). The table
// under the chart holds the same figures: without script, nothing is lost.
(() => {
  "use strict";
  const data = document.getElementById("report-data");
  const box = document.getElementById("report-chart");
  if (!data || !box || typeof uPlot === "undefined") return;
  const d = JSON.parse(data.textContent);
  if (!d || !d.series || !d.series.length || !d.x.length) return;
  const colors = ["#1f5fbf", "#c2410c", "#15803d", "#7e22ce", "#b91c1c", "#0e7490", "#a16207", "#4b5563"];
  const line = d.kind === "line";
  const bars = line ? null : uPlot.paths.bars({ size: [0.6, 64] });
  const fmt = v => v == null ? "–" : (Math.round(v * 100) / 100).toLocaleString();
  const series = [{
    label: line ? "period" : "group",
    value: line ? (u, v) => v == null ? "–" : d.labels[d.x.indexOf(v)] || "" : (u, v) => v == null ? "–" : d.labels[v] || "",
  }];
  d.series.forEach((s, i) => {
    const c = colors[i % colors.length];
    series.push({ label: s.label, stroke: c, width: 2, fill: line ? undefined : c + "cc",
      paths: bars || undefined, points: { show: line }, value: (u, v) => fmt(v) });
  });
  const axes = [
    line ? { stroke: "#333", grid: { stroke: "#e5e5e5" } } : {
      stroke: "#333", grid: { show: false },
      splits: () => d.x,
      values: (u, vals) => vals.map(v => { const l = d.labels[v] || ""; return l.length > 14 ? l.slice(0, 13) + "…" : l; }),
    },
    { stroke: "#333", label: d.unit, grid: { stroke: "#e5e5e5" }, size: 60 },
  ];
  // Counts are whole: ticks at whole numbers only (no 0.5 tickets).
  if (d.unit !== "hours" && d.unit !== "% met") {
    axes[1].incrs = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1e3, 2e3, 5e3, 1e4, 2e4, 5e4, 1e5, 2e5, 5e5, 1e6];
  }
  const size = () => ({ width: Math.max(240, box.clientWidth), height: box.clientWidth < 480 ? 220 : 300 });
  const opts = Object.assign(size(), {
    series, axes,
    scales: {
      x: line ? { time: true } : { time: false, range: (u, min, max) => [min - 0.5, max + 0.5] },
      y: { range: (u, min, max) => [0, max > 0 ? max * 1.1 : 1] },
    },
    tzDate: ts => uPlot.tzDate(new Date(ts * 1e3), "Etc/UTC"),
    cursor: { points: { show: line } },
    legend: { show: true },
  });
  const values = d.series.map(s => s.values);
  const plot = new uPlot(opts, [d.x, ...values], box);
  box.dataset.drawn = "true";
  let pending = 0;
  window.addEventListener("resize", () => {
    cancelAnimationFrame(pending);
    pending = requestAnimationFrame(() => plot.setSize(size()));
  });
})();
