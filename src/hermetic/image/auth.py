"""Registry credentials: where they come from, and never where they go.

Looked up in this order, the first that has an entry for the registry wins:

1. `HERMETIC_REGISTRY_USERNAME` + `HERMETIC_REGISTRY_PASSWORD` (CI secrets);
2. `REGISTRY_AUTH_FILE` (podman/skopeo/buildah's `auth.json`), else
   `$XDG_RUNTIME_DIR/containers/auth.json`;
3. `$DOCKER_CONFIG/config.json`, else `~/.docker/config.json`: `credHelpers` for the host,
   then `credsStore`, then `auths`.

A `Credentials` object carries the secret in memory only; its repr hides it and its
`source` names where it came from, so an auth failure can say which source was tried.
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hermetic.errors import HermeticError

USER_ENV = "HERMETIC_REGISTRY_USERNAME"
PASSWORD_ENV = "HERMETIC_REGISTRY_PASSWORD"


@dataclass(frozen=True)
class Credentials:
    source: str  # e.g. "~/.docker/config.json (auths)"
    username: str | None = field(default=None, repr=False)
    password: str | None = field(default=None, repr=False)
    identity_token: str | None = field(default=None, repr=False)


def _docker_hosts(host: str) -> tuple[str, ...]:
    """The keys a config may use for `host` (Docker Hub has several spellings)."""
    if host in ("registry-1.docker.io", "docker.io", "index.docker.io"):
        return (
            "https://index.docker.io/v1/",
            "index.docker.io",
            "docker.io",
            "registry-1.docker.io",
        )
    return (host, f"https://{host}", f"http://{host}", f"https://{host}/v1/")


def find_credentials(host: str, environ: Mapping[str, str] | None = None) -> Credentials | None:
    env = os.environ if environ is None else environ
    user, password = env.get(USER_ENV), env.get(PASSWORD_ENV)
    if user and password:
        return Credentials(f"{USER_ENV}/{PASSWORD_ENV}", user, password)
    auth_file = env.get("REGISTRY_AUTH_FILE")
    candidates: list[tuple[Path, str]] = []
    if auth_file:
        candidates.append((Path(auth_file), "REGISTRY_AUTH_FILE"))
    elif env.get("XDG_RUNTIME_DIR"):
        candidates.append((Path(env["XDG_RUNTIME_DIR"]) / "containers" / "auth.json", "auth.json"))
    docker_dir = env.get("DOCKER_CONFIG")
    docker = Path(docker_dir) if docker_dir else Path(env.get("HOME", "~")).expanduser() / ".docker"
    candidates.append((docker / "config.json", "docker config"))
    for path, label in candidates:
        doc = _read(path)
        if doc is None:
            continue
        found = _from_config(doc, host, f"{path} ({label})")
        if found is not None:
            return found
    return None


def _read(path: Path) -> dict[str, Any] | None:
    try:
        doc = json.loads(path.read_text())
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        raise HermeticError(
            f"cannot read the registry credentials file {path}: {exc}",
            hint="fix or remove the file",
        ) from None
    return doc if isinstance(doc, dict) else None


def _from_config(doc: Mapping[str, Any], host: str, where: str) -> Credentials | None:
    helpers = doc.get("credHelpers") or {}
    for key in _docker_hosts(host):
        if key in helpers:
            return _from_helper(str(helpers[key]), host, f"{where}: credHelpers")
    auths = doc.get("auths") or {}
    for key in _docker_hosts(host):
        entry = auths.get(key)
        if not isinstance(entry, Mapping):
            continue
        if entry.get("identitytoken"):
            return Credentials(f"{where}: auths", identity_token=str(entry["identitytoken"]))
        if entry.get("auth"):
            try:
                user, _, password = base64.b64decode(str(entry["auth"])).decode().partition(":")
            except (ValueError, UnicodeDecodeError):
                raise HermeticError(
                    f"{where}: the auths entry for {host} is not valid base64 user:password"
                ) from None
            return Credentials(f"{where}: auths", user, password)
        if entry.get("username") and entry.get("password"):
            return Credentials(f"{where}: auths", str(entry["username"]), str(entry["password"]))
    store = doc.get("credsStore")
    if store:
        return _from_helper(str(store), host, f"{where}: credsStore")
    return None


def _from_helper(helper: str, host: str, where: str) -> Credentials | None:
    """Ask `docker-credential-<helper>`: the host goes on stdin, never on the command line."""
    exe = f"docker-credential-{helper}"
    try:
        proc = subprocess.run(
            [exe, "get"], input=host, capture_output=True, text=True, timeout=30, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise HermeticError(
            f"cannot run the credential helper {exe} named in {where}: {exc.__class__.__name__}",
            hint=f"install {exe}, or remove it from the config",
        ) from None
    if proc.returncode != 0:
        return None  # "credentials not found in native keychain": anonymous
    try:
        doc = json.loads(proc.stdout)
    except ValueError:
        raise HermeticError(
            f"the credential helper {exe} answered something else than JSON"
        ) from None
    user, secret = doc.get("Username"), doc.get("Secret")
    if not secret:
        return None
    label = f"{where} ({exe})"
    if user == "<token>":
        return Credentials(label, identity_token=str(secret))
    return Credentials(label, str(user or ""), str(secret))
