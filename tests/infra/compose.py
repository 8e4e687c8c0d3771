"""Read the deployment files as docker compose and docker build would: the compose file with
its ${VAR} interpolation, the Dockerfile's stages, .env.example and .dockerignore.
"""

from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
INFRA = ROOT / "infra"
COMPOSE_FILE = INFRA / "docker-compose.yml"
DOCKERFILE = INFRA / "Dockerfile"
ENV_EXAMPLE = INFRA / ".env.example"
SCHEMA = INFRA / "schema" / "compose-spec.json"

# ${NAME}, ${NAME:-default}, ${NAME-default}, ${NAME:?message}, ${NAME?message}, ${NAME:+alt}, $NAME, $$;
# the default, message or alternative may hold interpolations of its own (Compose's nested interpolation).
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_OPERATOR = re.compile(r":?[-?+]")


class MissingVariable(Exception):
    """What `docker compose` stops with when a ${VAR:?message} is unset or empty."""


def _closing_brace(text: str, opening: int) -> int:
    """The index of the } that closes the { at `opening`."""
    depth = 0
    for i in range(opening, len(text)):
        depth += {"{": 1, "}": -1}.get(text[i], 0)
        if depth == 0:
            return i
    raise ValueError(f"invalid interpolation format: no closing brace in {text!r}")


def _braced(inner: str, env: dict[str, str]) -> str:
    """One ${...}, given what stands between the braces."""
    name = _NAME.match(inner)
    operator = _OPERATOR.match(inner, name.end()) if name else None
    if name is None or (operator is None and name.end() != len(inner)):
        raise ValueError(f"invalid interpolation format: ${{{inner}}}")
    op = operator.group() if operator else None
    value = env.get(name.group())
    present = value is not None and (value != "" or (op or ":")[0] != ":")
    if op is None:
        return value or ""
    arg = inner[operator.end() :]
    if op in (":-", "-"):
        return value if present else interpolate(arg, env)
    if op in (":?", "?"):
        if not present:
            raise MissingVariable(f"required variable {name.group()} is missing a value: {interpolate(arg, env)}")
        return value
    return interpolate(arg, env) if present else ""


def interpolate(text: str, env: dict[str, str]) -> str:
    """Compose's interpolation of one string value."""
    out, i = [], 0
    while i < len(text):
        following = text[i + 1 : i + 2]
        if text[i] != "$":
            out.append(text[i])
            i += 1
        elif following == "$":
            out.append("$")
            i += 2
        elif following == "{":
            end = _closing_brace(text, i + 1)
            out.append(_braced(text[i + 2 : end], env))
            i = end + 1
        elif bare := _NAME.match(text, i + 1):
            out.append(env.get(bare.group()) or "")
            i = bare.end()
        else:
            out.append("$")
            i += 1
    return "".join(out)


def _walk(node, env: dict[str, str]):
    if isinstance(node, dict):
        return {key: _walk(value, env) for key, value in node.items()}
    if isinstance(node, list):
        return [_walk(value, env) for value in node]
    if isinstance(node, str):
        return interpolate(node, env)
    return node


def raw_compose() -> dict:
    """The compose file as YAML, anchors and merge keys resolved, before interpolation."""
    return yaml.safe_load(COMPOSE_FILE.read_text())


def load_compose(env: dict[str, str]) -> dict:
    """The compose file as `docker compose config` would see it with this environment."""
    return _walk(raw_compose(), env)


def env_example() -> dict[str, str]:
    """The variables .env.example sets (commented-out optional ones left out)."""
    values = {}
    for line in ENV_EXAMPLE.read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            name, _, value = line.partition("=")
            values[name.strip()] = value
    return values


def filled_env() -> dict[str, str]:
    """.env.example with every secret filled, as an operator's infra/.env would be."""
    return {name: value or f"{name.lower()}-0123456789abcdef" for name, value in env_example().items()}


def strings(node) -> list[str]:
    """Every string value of a YAML document (comments are not values)."""
    if isinstance(node, dict):
        return [text for value in node.values() for text in strings(value)]
    if isinstance(node, list):
        return [text for value in node for text in strings(value)]
    return [node] if isinstance(node, str) else []


def required_variables() -> set[str]:
    """Every variable the compose file demands with ${VAR:?...}."""
    return {name for text in strings(raw_compose()) for name in re.findall(r"\$\{([A-Za-z_][A-Za-z0-9_]*):\?", text)}


@dataclasses.dataclass
class Stage:
    """One FROM ... AS name stage of a Dockerfile."""

    name: str
    base: str
    user: str | None = None
    cmd: list[str] | None = None
    copies: list[list[str]] = dataclasses.field(default_factory=list)
    instructions: list[tuple[str, str]] = dataclasses.field(default_factory=list)


def dockerfile_stages() -> dict[str, Stage]:
    """The Dockerfile's stages, each with the USER it runs as (inherited from its base stage)."""
    text = re.sub(r"\\\n", " ", DOCKERFILE.read_text())
    stages: dict[str, Stage] = {}
    stage = None
    args: dict[str, str] = {}  # ARGs before the first FROM, with their defaults
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        keyword, _, rest = line.partition(" ")
        keyword = keyword.upper()
        if keyword == "ARG" and stage is None:
            name, _, default = rest.partition("=")
            args[name.strip()] = default.strip()
            continue
        if keyword == "FROM":
            rest = re.sub(r"\$\{(\w+)\}", lambda m: args[m.group(1)], rest)
            base, _, name = rest.partition(" AS ")
            parent = stages.get(base.strip())
            stage = Stage(name.strip(), base.strip(), user=parent.user if parent else None)
            stages[stage.name] = stage
            continue
        stage.instructions.append((keyword, rest))
        if keyword == "USER":
            stage.user = rest.strip()
        elif keyword == "CMD":
            stage.cmd = json.loads(rest)
        elif keyword == "COPY":
            stage.copies.append(rest.split())
    return stages


def dockerignore_rules() -> list[str]:
    return [line.strip() for line in (ROOT / ".dockerignore").read_text().splitlines() if line.strip() and not line.startswith("#")]
