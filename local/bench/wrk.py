"""Drive a Load with wrk (a Lua script cycles the bodies and prints the summary as JSON)."""

from __future__ import annotations

import json
import subprocess
import tempfile
from pathlib import Path

from local.bench.load import Load, LoadResult, wrk_path

MARK = "BENCH-JSON "
TIMEOUT_SECONDS = 10

_DONE = """
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format('%s{"requests": %.0f, "duration_us": %.0f, "connect": %.0f, "read": %.0f, "write": %.0f, '
    .. '"status": %.0f, "timeout": %.0f, "p50_us": %.0f, "p90_us": %.0f, "p99_us": %.0f, "max_us": %.0f}\\n',
    "MARK", summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max))
end
"""


def lua_string(text: str) -> str:
    """A Lua long-bracket literal holding text verbatim."""
    level = 1
    while f"]{'=' * level}]" in text:
        level += 1
    return f"[{'=' * level}[{text}]{'=' * level}]"


def lua_script(load: Load) -> str:
    """A wrk script that prebuilds every request once per thread and cycles through them."""
    headers = ", ".join(f"[ {lua_string(k)} ] = {lua_string(v)}" for k, v in load.headers)
    bodies = ", ".join(lua_string(b.decode()) for b in load.bodies) if load.bodies else ""
    return f"""
local bodies = {{ {bodies} }}
local headers = {{ {headers} }}
local prepared = {{}}
local n = 0
init = function(args)
  if #bodies == 0 then
    prepared[1] = wrk.format({lua_string(load.method)}, {lua_string(load.path)}, headers, nil)
  else
    for i, body in ipairs(bodies) do
      prepared[i] = wrk.format({lua_string(load.method)}, {lua_string(load.path)}, headers, body)
    end
  end
end
request = function()
  n = n % #prepared + 1
  return prepared[n]
end
{_DONE.replace('"MARK"', lua_string(MARK))}
"""


def parse_output(stdout: str, stderr: str = "") -> dict:
    for line in stdout.splitlines():
        if line.startswith(MARK):
            return json.loads(line[len(MARK) :])
    raise RuntimeError(f"wrk printed no summary (its script failed?): {stderr.strip()[-500:]}\n{stdout[-1000:]}")


def result_from(summary: dict) -> LoadResult:
    errors = sum(summary[k] for k in ("connect", "read", "write", "status", "timeout"))
    return LoadResult(
        generator="wrk",
        requests=int(summary["requests"]),
        seconds=summary["duration_us"] / 1e6,
        errors=int(errors),
        latency_ms={k: summary[f"{k}_us"] / 1000 for k in ("p50", "p90", "p99", "max")},
    )


def run(load: Load) -> LoadResult:
    binary = wrk_path()
    if binary is None:
        raise RuntimeError("wrk is not installed")
    with tempfile.TemporaryDirectory(prefix="bench-wrk-") as tmp:
        script = Path(tmp) / "load.lua"
        script.write_text(lua_script(load))
        threads = max(1, min(load.threads, load.connections))
        command = [
            binary, f"-t{threads}", f"-c{load.connections}", f"-d{load.seconds}s",
            f"--timeout={TIMEOUT_SECONDS}s", "-s", str(script), load.url,
        ]  # fmt: skip
        done = subprocess.run(command, capture_output=True, text=True, timeout=load.seconds + 60)
    if done.returncode != 0:
        raise RuntimeError(f"wrk exited with {done.returncode}: {done.stderr.strip()[-500:]}")
    return result_from(parse_output(done.stdout, done.stderr))
