"""python -m runtime exec|print|health NAME: run, show or check one process of the stack.

python -m runtime exec ingest     # what a container of infra/Dockerfile runs
python -m runtime health ingest   # its compose healthcheck
python -m runtime print ingest    # the argv and environment exec would use, as JSON
"""

from __future__ import annotations

import json
import os
import sys

from engine import config
from engine.core.errors import ConfigError
from runtime import health, processes

USAGE = f"usage: python -m runtime exec|print|health {'|'.join(processes.PROCESSES)}"


def main(argv: list[str]) -> int:
    if len(argv) != 2 or argv[0] not in ("exec", "print", "health") or argv[1] not in processes.PROCESSES:
        print(USAGE, file=sys.stderr)
        return 2
    action, name = argv
    try:
        settings = config.get_settings()
    except ConfigError as exc:
        print(f"{name}: {exc}", file=sys.stderr)
        return 2
    if action == "exec" and name in processes.TARGETS:
        try:
            config.function_settings(processes.TARGETS[name])
        except ConfigError as exc:  # one line in the container's log, not functions-framework's traceback
            print(f"{name}: {exc}", file=sys.stderr)
            return 2
    if action == "health":
        port = processes.health_port(name, settings.http_port)
        problem = health.check_scheduler(settings) if port is None else health.check_http(port)
        print(f"{name}: {problem or 'ok'}", file=sys.stderr if problem else sys.stdout)
        return 1 if problem else 0
    command, extra_env = processes.process_command(name, settings.http_host, settings.http_port)
    if action == "print":
        print(json.dumps({"argv": command, "env": extra_env}))
        return 0
    sys.stdout.flush()
    os.execvpe(command[0], command, {**config.process_environment(), **extra_env})  # noqa: S606 (the process table's own argv)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
