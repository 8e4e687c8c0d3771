// Events (bars) and users (line) per minute over the last hour, drawn by the vendored uPlot.

import { count } from "./format.js";

const HEIGHT = 220;

function options(width) {
  return {
    width,
    height: HEIGHT,
    padding: [8, 8, 0, 0],
    cursor: { drag: { x: false, y: false } },
    legend: { show: false },
    scales: { x: { time: true }, y: { range: (u, min, max) => [0, Math.max(5, max * 1.1)] } },
    axes: [
      { stroke: "#64748b", grid: { stroke: "#f1f5f9" }, ticks: { stroke: "#e2e8f0" } },
      { stroke: "#64748b", grid: { stroke: "#f1f5f9" }, ticks: { stroke: "#e2e8f0" }, size: 44, values: (u, splits) => splits.map(count) },
    ],
    series: [
      {},
      { label: "events", stroke: "#4f46e5", fill: "rgba(79, 70, 229, 0.35)", width: 1, paths: uPlot.paths.bars({ size: [0.8, 12] }), points: { show: false } },
      { label: "users", stroke: "#059669", width: 2, points: { show: false } },
    ],
  };
}

/** A chart in `container` that follows its width; update(body) draws GET /metrics/per-minute. */
export function perMinuteChart(container) {
  let plot = null;
  const width = () => Math.max(240, container.clientWidth);
  new ResizeObserver(() => plot && plot.setSize({ width: width(), height: HEIGHT })).observe(container);
  return {
    update(body) {
      // uPlot takes columns: times in seconds, then one array per series.
      const data = [
        body.points.map((p) => Date.parse(p.minute) / 1000),
        body.points.map((p) => p.events),
        body.points.map((p) => p.users),
      ];
      if (plot) plot.setData(data);
      else plot = new uPlot(options(width()), data, container);
      container.dataset.events = String(body.events);
    },
  };
}
