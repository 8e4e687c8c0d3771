// Numbers for people: 1.2k, 8.2 s, "3 min ago". Formatting only; every number comes from the API.

const trim = (text) => text.replace(/\.0$/, "");

/** A count: 950, 1.2k, 12k, 125k, 1.2M. */
export function count(value) {
  if (value == null || Number.isNaN(value)) return "–";
  const n = Math.abs(value);
  const sign = value < 0 ? "-" : "";
  if (n < 1000) return sign + trim(n.toFixed(Number.isInteger(n) ? 0 : 1));
  for (const [size, unit] of [[1e9, "B"], [1e6, "M"], [1e3, "k"]]) {
    if (n >= size * 0.9995) {
      const scaled = n / size;
      return sign + trim(scaled.toFixed(scaled < 9.95 ? 1 : 0)) + unit;
    }
  }
  return sign + String(n);
}

/** A rate such as events per minute: 0.2, 42.4, 1.2k. */
export function rate(value) {
  if (value == null || Number.isNaN(value)) return "–";
  return value < 1000 ? trim(value.toFixed(value < 100 ? 1 : 0)) : count(value);
}

/** A duration given in seconds: 0.4 s, 8.2 s, 12 s, 2.5 min, 1.5 h, 3.2 d. */
export function seconds(value) {
  if (value == null || Number.isNaN(value)) return "–";
  if (value < 10) return `${trim(value.toFixed(1))} s`;
  if (value < 60) return `${Math.round(value)} s`;
  if (value < 3600) return `${trim((value / 60).toFixed(1))} min`;
  if (value < 86400) return `${trim((value / 3600).toFixed(1))} h`;
  return `${trim((value / 86400).toFixed(1))} d`;
}

/** How long ago, from an age in seconds: just now, 3 s ago, 2 min ago, 5 h ago, 2 d ago. */
export function ago(age) {
  if (age == null || Number.isNaN(age)) return "never";
  if (age < 1) return "just now";
  if (age < 60) return `${Math.floor(age)} s ago`;
  if (age < 3600) return `${Math.floor(age / 60)} min ago`;
  if (age < 86400) return `${Math.floor(age / 3600)} h ago`;
  return `${Math.floor(age / 86400)} d ago`;
}

/** A window length in seconds as words: 300 -> "5 min". */
export function span(total) {
  return total % 3600 === 0 ? `${total / 3600} h` : total % 60 === 0 ? `${total / 60} min` : `${total} s`;
}

export const WEEKDAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
