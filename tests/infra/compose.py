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

# ${NAME}, ${NAME:-default}, ${NAME-default}, ${NAME:?message}, ${NAME?message}, ${NAME:+alt}, $NAME, $$.
_INTERPOLATION = re.compile(
    r"\$(?:(?P<escaped>\$)"
    r"|\{(?P<braced>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?[-?+])(?P<arg>[^}]*))?\}"
    r"|(?P<bare>[A-Za-z_][A-Za-z0-9_]*))"
)


class MissingVariable(Exception):
    """What `docker compose` stops with when a ${VAR:?message} is unset or empty."""


def interpolate(text: str, env: dict[str, str]) -> str:
    """Compose's interpolation of one string value."""

    def one(match: re.Match) -> str:
        if match.group("escaped"):
            return "$"
        name = match.group("braced") or match.group("bare")
        op, arg = match.group("op"), match.group("arg")
        value = env.get(name)
        present = value is not None and (value != "" or (op or ":")[0] != ":")
        if op in (":-", "-"):
            return value if present else arg
        if op in (":?", "?"):
            if not present:
                raise MissingVariable(f"required variable {name} is missing a value: {arg}")
            return value
        if op in (":+", "+"):
            return arg if present else ""
        return value or ""

    return _INTERPOLATION.sub(one, text)


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
