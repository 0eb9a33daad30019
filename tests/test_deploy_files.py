"""The deployment files, read as Docker Compose and Docker would read them.

No Docker daemon is needed: the compose file is parsed (PyYAML, with its `<<` merges),
the Dockerfile read line by line, and the image's health check command is run as a
subprocess against the bot's real HTTP server.
"""

from __future__ import annotations

import asyncio
import re
import shlex
import socket
import sys
from typing import Any

import pytest
import yaml
from aiohttp import web
from pydantic import AliasChoices

from bot.http import http_server
from bot.settings import Environment
from tests.conftest import ROOT

BOTS = ("bot-1", "bot-2")
# Read by docker-compose.yml itself (interpolation), not by the bot.
COMPOSE_ONLY = {"POSTGRES_PASSWORD", "THIDUA_DOMAIN"}
SECRET_WORDS = ("TOKEN", "SECRET", "PASSWORD", "KEY", "DSN")


def _compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text("utf-8"))
    return loaded


def _bot_variables() -> set[str]:
    """Every environment variable name `bot/settings.py` reads."""
    names: set[str] = set()
    for info in Environment.model_fields.values():
        alias = info.validation_alias
        if isinstance(alias, str):
            names.add(alias)
        elif isinstance(alias, AliasChoices):
            names.update(str(choice) for choice in alias.choices)
    return names


def _readme_variables() -> set[str]:
    """The variables of README's environment table (its rows start with `| `NAME` |`)."""
    text = (ROOT / "README.md").read_text("utf-8")
    return set(re.findall(r"^\| `([A-Z][A-Z0-9_]+)` \|", text, flags=re.MULTILINE))


def _dockerfile() -> list[str]:
    """The Dockerfile's instructions, continuation lines joined, comments dropped."""
    joined = (ROOT / "Dockerfile").read_text("utf-8").replace("\\\n", " ")
    return [line.strip() for line in joined.splitlines()
            if line.strip() and not line.lstrip().startswith("#")]


def test_compose_runs_postgres_and_two_webhook_bots_behind_a_proxy() -> None:
    services = _compose()["services"]
    assert set(services) == {"postgres", *BOTS, "proxy"}
    pg = services["postgres"]
    assert any(v.endswith(":/var/lib/postgresql/data") for v in pg["volumes"])
    assert "pg_isready" in " ".join(pg["healthcheck"]["test"])
    for name in BOTS:
        bot = services[name]
        assert bot["command"] == ["run", "--webhook"]
        assert bot["depends_on"]["postgres"]["condition"] == "service_healthy"
        assert bot["env_file"] == ".env"
        assert "healthcheck" not in bot  # the image's HEALTHCHECK applies
        assert bot["environment"]["THIDUA_DATABASE_URL"].startswith("postgresql+asyncpg://")
        assert "@postgres:5432/" in bot["environment"]["THIDUA_DATABASE_URL"]
    assert services["bot-1"] == services["bot-2"]  # one design: the instances share the work


def test_the_proxy_sends_the_webhook_paths_to_both_bots() -> None:
    services = _compose()["services"]
    proxy = services["proxy"]
    assert "443:443" in proxy["ports"]
    assert "./deploy/Caddyfile:/etc/caddy/Caddyfile:ro" in proxy["volumes"]
    caddyfile = (ROOT / "deploy" / "Caddyfile").read_text("utf-8")
    upstreams = re.search(r"reverse_proxy ([^{]+)\{", caddyfile)
    assert upstreams is not None
    port = services["bot-1"]["environment"]["THIDUA_HTTP_LISTEN"].rpartition(":")[2]
    assert upstreams.group(1).split() == [f"{b}:{port}" for b in BOTS]
    assert "health_uri /healthz" in caddyfile
    example = _env_example()
    for variable in ("THIDUA_WEBHOOK_URL", "ZALO_WEBHOOK_URL"):
        path = "/" + example[variable].split("/", 3)[3]
        prefix = path.split("/")[1]
        assert f"/{prefix}/*" in caddyfile, f"{variable}'s path {path} is not proxied"


def test_compose_names_only_variables_the_bot_reads_and_no_secret_inline() -> None:
    compose = _compose()
    known = _bot_variables()
    for name in BOTS:
        assert set(compose["services"][name]["environment"]) <= known
    for service in compose["services"].values():
        for key, value in (service.get("environment") or {}).items():
            if any(word in key for word in SECRET_WORDS):
                assert re.fullmatch(r"\$\{[A-Z_]+(:\?[^}]*)?\}", str(value)), key
    text = (ROOT / "docker-compose.yml").read_text("utf-8")
    # A password in a URL is always an interpolation, never written here.
    for user_password in re.findall(r"://[^:@/\s]+:([^@\s]+)@", text):
        assert user_password.startswith("${"), user_password
    assert not re.search(r"\d{6,}:[A-Za-z0-9_-]{30,}", text)  # no bot token pasted in


def _env_example() -> dict[str, str]:
    """.env.example's variables, the commented-out ones too (value '' when commented)."""
    found: dict[str, str] = {}
    for line in (ROOT / ".env.example").read_text("utf-8").splitlines():
        match = re.fullmatch(r"(# )?([A-Z][A-Z0-9_]+)=(.*)", line.strip())
        if match:
            found[match.group(2)] = "" if match.group(1) else match.group(3)
    return found


def test_env_example_lists_every_variable_and_holds_no_secret() -> None:
    example = _env_example()
    assert _readme_variables() <= set(example), "README's environment table has more"
    assert set(example) <= _bot_variables() | COMPOSE_ONLY
    interpolated = set(re.findall(r"\$\{([A-Z_]+)", (ROOT / "docker-compose.yml")
                                  .read_text("utf-8")))
    assert interpolated <= set(example)
    for key, value in example.items():
        if any(word in key for word in SECRET_WORDS):
            assert value == "", f"{key} has a value in .env.example"
    ignored = (ROOT / ".gitignore").read_text("utf-8").split()
    assert ".env" in ignored


def test_dockerfile_is_slim_non_root_with_a_health_check_and_no_secrets() -> None:
    lines = _dockerfile()
    froms = [line.split()[1] for line in lines if line.startswith("FROM ")]
    assert froms and all(image == "python:3.11-slim" for image in froms)
    users = [line.split()[1] for line in lines if line.startswith("USER ")]
    assert users and users[-1].split(":")[0] not in {"root", "0"}
    assert sum(line.startswith("HEALTHCHECK ") for line in lines) == 1
    assert any(line.startswith('ENTRYPOINT ["thidua"]') for line in lines)
    assert 'CMD ["run", "--webhook"]' in lines
    for line in lines:
        if line.startswith(("ADD ", "COPY ")):
            assert ".env" not in line, line
        if line.startswith(("ENV ", "ARG ")):
            assert not any(word in line for word in ("TOKEN", "SECRET", "PASSWORD")), line
    assert not any(line.startswith("ADD ") for line in lines)  # COPY: no URLs, no tarballs
    ignored = (ROOT / ".dockerignore").read_text("utf-8").split()
    assert {".env", ".git", "*.db"} <= set(ignored)


def _healthcheck_command() -> list[str]:
    [line] = [x for x in _dockerfile() if x.startswith("HEALTHCHECK ")]
    command = line.split(" CMD ", 1)[1]
    argv = shlex.split(command)
    assert argv[:2] == ["python", "-c"]
    return [sys.executable, "-c", argv[2]]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def _check(listen: str) -> int:
    proc = await asyncio.create_subprocess_exec(
        *_healthcheck_command(), env={"THIDUA_HTTP_LISTEN": listen},
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL)
    return await proc.wait()


@pytest.mark.parametrize("host", ["0.0.0.0", "127.0.0.1"])  # noqa: S104 - the bind address
async def test_the_image_health_check_asks_healthz_on_the_listen_address(host: str) -> None:
    listen = f"{host}:{_free_port()}"
    assert await _check(listen) != 0  # nothing listening yet: unhealthy
    async with http_server(listen) as server:
        assert await _check(listen) == 0

        async def failing(_: web.Request) -> web.Response:
            return web.Response(status=503, text="database unreachable")

        server.mount("GET", "/healthz", failing)
        assert await _check(listen) != 0  # a 503 fails the check
