"""An OCI distribution-API client: pull a base, push an image, attach referrers.

* TLS always, except for localhost and hosts named with `--insecure-registry` (those try
  HTTPS first and fall back to plain HTTP). A private CA is trusted via `SSL_CERT_FILE`.
* Auth: anonymous first; on a 401 the challenge decides: Bearer (token from the realm, with
  the credentials of `hermetic.image.auth` when there are any) or Basic.
* Retries with exponential backoff on connection errors, 429 and 5xx.
* Blobs the registry has are never uploaded again (HEAD first; cross-repository mount from
  the base's repository when it lives on the same registry).
* Credentials live in request headers only: never in a URL, a log line or an error.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hermetic.errors import HermeticError, UsageError
from hermetic.image import oci
from hermetic.image.auth import Credentials, find_credentials

ACCEPT_MANIFESTS = ", ".join((*oci.INDEX_TYPES, *oci.MANIFEST_TYPES))
DOCKER_HUB = "registry-1.docker.io"
_RETRY_STATUSES = (429, 500, 502, 503, 504)
RETRIES = 4
Reporter = Callable[[str], None]


@dataclass(frozen=True)
class Reference:
    registry: str  # host[:port]
    repository: str
    tag: str | None = None
    digest: str | None = None

    @property
    def reference(self) -> str:
        return self.digest or self.tag or "latest"

    def __str__(self) -> str:
        out = f"{self.registry}/{self.repository}"
        if self.tag:
            out += f":{self.tag}"
        if self.digest:
            out += f"@{self.digest}"
        return out


_REPO = re.compile(
    r"^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$"
)
_TAG = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")


def parse_reference(text: str) -> Reference:
    """`[host[:port]/]repo[:tag][@sha256:...]`, with Docker Hub's defaults."""
    rest = text[len("docker://") :] if text.startswith("docker://") else text
    digest = None
    if "@" in rest:
        rest, digest = rest.split("@", 1)
        try:
            oci.digest_hex(digest)
        except HermeticError:
            raise UsageError(f"{text}: {digest!r} is not a sha256 digest") from None
    first, sep, remainder = rest.partition("/")
    if sep and ("." in first or ":" in first or first == "localhost"):
        host, path = first, remainder
    else:
        host, path = DOCKER_HUB, rest
    if host in ("docker.io", "index.docker.io"):
        host = DOCKER_HUB  # how people write Docker Hub; its API lives here
    tag = None
    last = path.rsplit("/", 1)[-1]
    if ":" in last:
        path, tag = path.rsplit(":", 1)
    if host == DOCKER_HUB and "/" not in path:
        path = f"library/{path}"
    if not _REPO.match(path) or (tag is not None and not _TAG.match(tag)):
        raise UsageError(
            f"{text!r} is not an image reference",
            hint="write [host[:port]/]name[:tag][@sha256:...], or oci:DIR[:TAG], "
            "docker-archive:FILE, scratch",
        )
    if tag is None and digest is None:
        tag = "latest"
    return Reference(host, path, tag, digest)


def _is_local(host: str) -> bool:
    name = host.rsplit(":", 1)[0] if not host.startswith("[") else host.split("]")[0][1:]
    return name in ("localhost", "127.0.0.1", "::1") or name.startswith("127.")


class RegistryError(HermeticError):
    pass


class Client:
    """One registry host, one repository's token scope at a time."""

    def __init__(
        self,
        host: str,
        *,
        insecure: tuple[str, ...] = (),
        reporter: Reporter | None = None,
        environ: dict[str, str] | None = None,
    ) -> None:
        import httpx

        self.host = host
        self.insecure = _is_local(host) or host in insecure
        self.scheme = "https"
        self._creds: Credentials | None = find_credentials(host, environ)
        self._auth: dict[str, str] = {}  # scope -> Authorization header value
        self._say = reporter or (lambda _m: None)
        self.requests = 0
        self._http = httpx.Client(
            timeout=httpx.Timeout(60.0, connect=10.0), follow_redirects=True, trust_env=True
        )

    def close(self) -> None:
        self._http.close()

    @property
    def credential_source(self) -> str:
        return self._creds.source if self._creds else "no credentials (anonymous)"

    # -- transport ------------------------------------------------------------------------

    def request(
        self,
        method: str,
        path: str,
        *,
        scope: str,
        headers: dict[str, str] | None = None,
        content: bytes | Callable[[], Iterator[bytes]] | None = None,
        ok: tuple[int, ...] = (200,),
        what: str,
    ) -> Any:
        """One request with auth and retries; raises a RegistryError naming `what`."""
        import httpx

        url = path if "://" in path else f"{self.scheme}://{self.host}{path}"
        attempt = 0
        authed_once = False
        while True:
            hdrs = dict(headers or {})
            if scope in self._auth:
                hdrs["Authorization"] = self._auth[scope]
            body = content() if callable(content) else content
            try:
                self.requests += 1
                resp = self._http.request(method, url, headers=hdrs, content=body)
            except (httpx.ConnectError, httpx.TimeoutException, httpx.RemoteProtocolError) as exc:
                if self.scheme == "https" and self.insecure and isinstance(exc, httpx.ConnectError):
                    self.scheme = "http"
                    url = url.replace("https://", "http://", 1)
                    continue
                if attempt < RETRIES and not isinstance(exc, httpx.ConnectError):
                    attempt += 1
                    time.sleep(0.25 * 2**attempt)
                    continue
                raise RegistryError(
                    f"cannot reach the registry {self.host} ({what}): {_reason(exc)}",
                    hint="check the host name and port, the network, and that the registry runs"
                    + (
                        ""
                        if self.insecure
                        else "; it must speak HTTPS (or use --insecure-registry)"
                    ),
                ) from None
            except httpx.HTTPError as exc:
                raise RegistryError(f"{what}: {exc.__class__.__name__}") from None
            if resp.status_code == 401 and not authed_once:
                authed_once = True
                self._authenticate(resp, scope, what)
                continue
            if resp.status_code in _RETRY_STATUSES and attempt < RETRIES:
                attempt += 1
                time.sleep(0.25 * 2**attempt)
                continue
            if resp.status_code in ok:
                return resp
            if resp.status_code in (401, 403):
                raise RegistryError(
                    f"{what}: the registry {self.host} refused access ({resp.status_code})",
                    hint=f"credentials tried: {self.credential_source}; log in with "
                    "`podman login`/`docker login`, or set "
                    "HERMETIC_REGISTRY_USERNAME and HERMETIC_REGISTRY_PASSWORD",
                )
            raise RegistryError(
                f"{what}: the registry {self.host} answered {resp.status_code}"
                + _error_detail(resp)
            )

    def _authenticate(self, resp: Any, scope: str, what: str) -> None:
        import httpx

        challenge = resp.headers.get("WWW-Authenticate", "")
        scheme, _, params_text = challenge.partition(" ")
        params = dict(re.findall(r'(\w+)="([^"]*)"', params_text))
        creds = self._creds
        if scheme.lower() == "basic":
            if creds is None or creds.username is None:
                raise RegistryError(
                    f"{what}: the registry {self.host} requires a login",
                    hint=f"credentials tried: {self.credential_source}",
                )
            self._auth[scope] = "Basic " + _b64(f"{creds.username}:{creds.password or ''}")
            return
        if scheme.lower() != "bearer" or "realm" not in params:
            raise RegistryError(f"{what}: unsupported auth challenge from {self.host}")
        query = {"service": params.get("service", ""), "scope": params.get("scope", scope)}
        headers = {}
        if creds is not None and creds.username is not None:
            headers["Authorization"] = "Basic " + _b64(f"{creds.username}:{creds.password or ''}")
        realm = params["realm"]
        if not realm.startswith("https://") and not (self.insecure and realm.startswith("http://")):
            raise RegistryError(f"{what}: the token realm of {self.host} is not HTTPS")
        try:
            if creds is not None and creds.identity_token:
                tok = self._http.post(
                    realm,
                    data={
                        "grant_type": "refresh_token",
                        "refresh_token": creds.identity_token,
                        "service": query["service"],
                        "scope": query["scope"],
                    },
                )
            else:
                tok = self._http.get(realm, params=query, headers=headers)
        except httpx.HTTPError as exc:
            raise RegistryError(
                f"{what}: cannot reach the token service of {self.host}: {_reason(exc)}"
            ) from None
        if tok.status_code != 200:
            raise RegistryError(
                f"{what}: the token service of {self.host} refused ({tok.status_code})",
                hint=f"credentials tried: {self.credential_source}",
            )
        body = tok.json()
        token = body.get("token") or body.get("access_token")
        if not token:
            raise RegistryError(f"{what}: the token service of {self.host} sent no token")
        self._auth[scope] = f"Bearer {token}"


def _b64(text: str) -> str:
    import base64

    return base64.b64encode(text.encode()).decode()


def _reason(exc: BaseException) -> str:
    text = str(exc) or exc.__class__.__name__
    return text.splitlines()[0][:200]


def _error_detail(resp: Any) -> str:
    try:
        errors = resp.json().get("errors") or []
        return ": " + "; ".join(f"{e.get('code')}: {e.get('message')}" for e in errors)
    except (ValueError, AttributeError):
        return ""


def scope_pull(repo: str) -> str:
    return f"repository:{repo}:pull"


def scope_push(repo: str) -> str:
    return f"repository:{repo}:pull,push"


# ---------------------------------------------------------------------------------------------
# pulling a base


def pull_image(
    ref_text: str, platform: oci.Platform, store: Any, *, insecure: tuple[str, ...] = ()
) -> Any:
    """The base image `ref_text` for `platform`, its blobs in `store` (fetched once)."""
    from hermetic.image.base import BaseImage, BaseLayer, _config, _layers, pick_manifest

    ref = parse_reference(ref_text)
    client = Client(ref.registry, insecure=insecure)
    scope = scope_pull(ref.repository)
    try:
        data, media_type, digest = get_manifest(client, ref, ref.reference, scope, ref_text)
        if media_type in oci.INDEX_TYPES:
            desc = pick_manifest(oci.Index.from_bytes(data, ref_text), platform, ref_text)
            data, media_type, digest = get_manifest(client, ref, desc.digest, scope, ref_text)
        manifest = oci.Manifest.from_bytes(data, ref_text)
        config_path = fetch_blob(client, ref, manifest.config, store, scope, ref_text)
        config = _config(config_path.read_bytes(), ref_text)
        if not oci.config_platform(config).matches(platform):
            raise UsageError(
                f"base {ref_text} is for {oci.config_platform(config)}, not {platform}",
                hint="pick a base built for that platform (or a multi-platform one)",
            )
        for layer in manifest.layers:
            fetch_blob(client, ref, layer, store, scope, ref_text)
        layers: tuple[BaseLayer, ...] = _layers(manifest, config, ref_text, store.blob)
    finally:
        client.close()
    name = f"{ref.registry}/{ref.repository}" + (f":{ref.tag}" if ref.tag else "")
    return BaseImage(ref_text, name, digest, oci.config_platform(config), layers, config)


def get_manifest(
    client: Client, ref: Reference, reference: str, scope: str, label: str
) -> tuple[bytes, str, str]:
    resp = client.request(
        "GET",
        f"/v2/{ref.repository}/manifests/{reference}",
        scope=scope,
        headers={"Accept": ACCEPT_MANIFESTS},
        ok=(200, 404),
        what=f"fetching {label}",
    )
    if resp.status_code == 404:
        raise UsageError(
            f"image {label} not found on {ref.registry}",
            hint="check the name and tag (e.g. with `skopeo inspect docker://...`)",
        )
    data = resp.content
    digest = oci.sha256_digest(data)
    if reference.startswith("sha256:") and digest != reference:
        raise RegistryError(
            f"{label}: the registry sent a manifest that does not match {reference}"
        )
    media_type = resp.headers.get("Content-Type", "").split(";")[0] or oci.media_type_of(data) or ""
    return data, media_type, digest


def fetch_blob(
    client: Client, ref: Reference, desc: oci.Descriptor, store: Any, scope: str, label: str
) -> Path:
    """A blob into the store, checked against its digest while streaming; cached by digest."""
    if store.has_blob(desc.digest, desc.size):
        return Path(store.blob(desc.digest))
    import hashlib

    url = f"{client.scheme}://{client.host}/v2/{ref.repository}/blobs/{desc.digest}"
    # authenticate (and follow the redirect to storage) with a HEAD-less GET
    resp = client.request("GET", url, scope=scope, what=f"fetching a layer of {label}")
    tmp = store.new_blob_path("pull")
    h = hashlib.sha256()
    with open(tmp, "wb") as fh:
        for chunk in resp.iter_bytes(1 << 20):
            h.update(chunk)
            fh.write(chunk)
    if "sha256:" + h.hexdigest() != desc.digest:
        tmp.unlink(missing_ok=True)
        raise RegistryError(f"{label}: blob {desc.digest} arrived damaged (digest mismatch)")
    return Path(store.adopt(tmp, desc.digest))
