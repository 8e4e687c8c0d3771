// Events (bars) and users (line) per minute over the last hour, drawn by the vendored uPlot.

import { count } from "./format.js";

const HEIGHT = 220;

function options(width, tz) {
  return {
    width,
    height: HEIGHT,
    ...(tz ? { tzDate: (ts) => uPlot.tzDate(new Date(ts * 1e3), tz) } : {}),
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

/** The explore view's chart of GET /metrics/timeseries: events (bars) and users (line) per bucket, axis in tz. */
export function rangeChart(container) {
  let plot = null;
  let zone = "";
  const width = () => Math.max(240, container.clientWidth);
  new ResizeObserver(() => plot && plot.setSize({ width: width(), height: HEIGHT })).observe(container);
  return {
    update(body, tz) {
      const data = [
        body.points.map((p) => Date.parse(p.t) / 1000),
        body.points.map((p) => p.events),
        body.points.map((p) => p.users),
      ];
      if (plot && zone !== tz) {
        plot.destroy();
        plot = null;
      }
      zone = tz;
      if (plot) plot.setData(data);
      else plot = new uPlot(options(width(), tz), data, container);
      container.dataset.events = String(body.points.reduce((sum, p) => sum + p.events, 0));
      container.dataset.points = String(body.points.length);
    },
  };
}
