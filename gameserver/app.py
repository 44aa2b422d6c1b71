"""Assembly: one port serving the game WebSocket at ``/ws`` and plain HTTP beside it.

HTTP routes (GET and HEAD):

* ``/healthz`` — ``ok`` while the server runs; 503 with a one-line reason while any
  room is paused because its match log cannot be written (a full or failing disk);
* ``/metrics`` — Prometheus text format (connections, rooms, matches by game, messages
  in/out, errors by code);
* ``/api/replays...`` — the replay API (``gameserver.replay_api``);
* everything else — files under the static directory (``client_web/``), ``index.html``
  for ``/``; paths are resolved strictly inside that directory.

Start a server in-process (tests, SDK examples) with::

    port = await nursery.start(run_server, ServerConfig(port=0, ...))
"""

from __future__ import annotations

import functools
import logging
import posixpath
import ssl
import tempfile
import time
from pathlib import Path
from urllib.parse import unquote

import attrs
import trio

from gameserver.origins import OriginPolicy
from gameserver.protocol.version import SUBPROTOCOL, WS_PATH
from gameserver.replay_api import handle_replay_request
from gameserver.rooms.metrics import CONTENT_TYPE as METRICS_CONTENT_TYPE
from gameserver.rooms.metrics import Metrics
from gameserver.rooms.recovery import recover_rooms
from gameserver.rooms.revocations import Revocations
from gameserver.rooms.service import GameService, ServiceConfig
from gameserver.rooms.tokens import TokenSigner, load_or_create_secret
from gameserver.ws.codes import CloseCode
from gameserver.ws.config import ServerConfig as WebSocketServerConfig
from gameserver.ws.http import HTTPRequest, HTTPResponse
from gameserver.ws.server import serve_websocket
from gameserver.ws.websocket import WebSocket

log = logging.getLogger(__name__)

#: The browser client shipped with the project.
DEFAULT_STATIC_DIR = Path(__file__).resolve().parent / "client_web"

# A game message is small; 1 MiB bounds per-connection memory with room to spare.
DEFAULT_WS_MESSAGE_SIZE = 2**20

# Static files are small; refuse to load anything huge into memory per request.
MAX_STATIC_FILE = 16 * 2**20

CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".mjs": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".json": "application/json; charset=utf-8",
    ".map": "application/json; charset=utf-8",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".gif": "image/gif",
    ".webp": "image/webp",
    ".ico": "image/x-icon",
    ".txt": "text/plain; charset=utf-8",
    ".md": "text/markdown; charset=utf-8",
    ".woff2": "font/woff2",
    ".woff": "font/woff",
    ".wasm": "application/wasm",
}


@attrs.frozen(kw_only=True)
class ServerConfig:
    """Everything ``gameserver serve`` can be told."""

    host: str = "127.0.0.1"
    """Interface to listen on (loopback by default; put a reverse proxy in front)."""
    port: int = 8000
    """TCP port; 0 picks a free one (reported by ``run_server``)."""
    replays_dir: Path | None = Path("replays")
    """Where match logs are written and recovered from; None disables recording."""
    data_dir: Path = Path("data")
    """Where the token secret lives."""
    static_dir: Path | None = DEFAULT_STATIC_DIR
    """Files served at ``/``; None serves none."""
    recover: bool = True
    """Rebuild unfinished matches from ``replays_dir`` at start."""
    service: ServiceConfig = attrs.field(factory=ServiceConfig)
    """Game limits and room policies (``replays_dir`` above overrides its own)."""
    websocket: WebSocketServerConfig = attrs.field(
        factory=lambda: WebSocketServerConfig(max_message_size=DEFAULT_WS_MESSAGE_SIZE)
    )
    """Transport limits (message size, handshake, keepalive, connection caps)."""
    origins: OriginPolicy = attrs.field(factory=OriginPolicy)
    """Browser origins allowed to open the game WebSocket (others get 403)."""
    certfile: Path | None = None
    """PEM certificate chain; with ``keyfile`` the port serves ``https://`` and ``wss://``."""
    keyfile: Path | None = None
    """PEM private key of ``certfile``."""

    def __attrs_post_init__(self) -> None:
        if (self.certfile is None) != (self.keyfile is None):
            raise ValueError("TLS needs both a certificate file and a key file")

    @property
    def tls(self) -> bool:
        """True when the server speaks TLS."""
        return self.certfile is not None

    def ssl_context(self) -> ssl.SSLContext | None:
        """The server's TLS context, or None without TLS.

        Raises ``TLSFileError`` naming the file that cannot be used and why.
        """
        if self.certfile is None or self.keyfile is None:
            return None
        return _load_tls(self.certfile, self.keyfile)


def _static_target(static_dir: Path, request_path: str) -> Path | None:
    """Map a URL path to a file strictly inside ``static_dir``; None if there is none."""
    path = unquote(request_path, errors="strict")
    if "\x00" in path or "\\" in path:
        return None
    if path.endswith("/"):
        path += "index.html"
    parts = [part for part in path.split("/") if part]
    if any(part in (".", "..") or part.startswith(".") for part in parts):
        return None
    normal = posixpath.normpath("/" + "/".join(parts))
    root = static_dir.resolve()
    target = (root / normal.lstrip("/")).resolve()
    if target != root and root not in target.parents:
        return None  # a symlink pointing outside
    return target if target.is_file() else None


def _read_static(target: Path) -> bytes | None:
    if target.stat().st_size > MAX_STATIC_FILE:
        return None
    return target.read_bytes()


class HTTPRoutes:
    """The plain-HTTP side of the server port."""

    def __init__(self, config: ServerConfig, metrics: Metrics) -> None:
        self.config = config
        self.metrics = metrics

    async def __call__(self, request: HTTPRequest) -> HTTPResponse:
        """Answer one request (the server closes the connection afterwards)."""
        response = await self._route(request)
        if request.method == "HEAD" and response.body:
            length = (("Content-Length", str(len(response.body))),)
            response = HTTPResponse(response.status, response.headers + length, b"")
        return response

    async def _route(self, request: HTTPRequest) -> HTTPResponse:
        replay = await handle_replay_request(request, self.config.replays_dir)
        if replay is not None:
            return replay
        if request.method not in ("GET", "HEAD"):
            return HTTPResponse.text(405, "only GET and HEAD", (("Allow", "GET, HEAD"),))
        path = request.path
        if path == "/healthz":
            return self._health()
        if path == "/metrics":
            body = self.metrics.render().encode("utf-8")
            headers = (("Content-Type", METRICS_CONTENT_TYPE), ("Cache-Control", "no-store"))
            return HTTPResponse(200, headers, body)
        if path == WS_PATH:
            return HTTPResponse.text(
                426, f"this is the WebSocket endpoint; connect with subprotocol {SUBPROTOCOL}",
                (("Upgrade", "websocket"), ("Sec-WebSocket-Version", "13")),
            )
        return await self._static(path)

    def _health(self) -> HTTPResponse:
        """200 ``ok``, or 503 naming the failing storage while rooms are paused on it."""
        no_store = (("Cache-Control", "no-store"),)
        metrics = self.metrics
        if not metrics.storage_failing:
            return HTTPResponse.text(200, "ok", no_store)
        rooms = len(metrics.storage_paused)
        return HTTPResponse.text(
            503,
            f"storage failing: cannot write match logs in {self.config.replays_dir} "
            f"({metrics.storage_error}); {rooms} room{'s' if rooms != 1 else ''} paused",
            no_store,
        )

    async def _static(self, path: str) -> HTTPResponse:
        static_dir = self.config.static_dir
        if static_dir is None or not path.startswith("/"):
            return HTTPResponse.text(404, "not found")
        try:
            target = _static_target(static_dir, path)
        except (UnicodeDecodeError, ValueError, OSError):
            return HTTPResponse.text(400, "bad path")
        if target is None:
            return HTTPResponse.text(404, "not found")
        try:
            body = await trio.to_thread.run_sync(_read_static, target)
        except OSError:
            return HTTPResponse.text(404, "not found")
        if body is None:
            return HTTPResponse.text(404, "not found")
        content_type = CONTENT_TYPES.get(target.suffix.lower(), "application/octet-stream")
        headers = (
            ("Content-Type", content_type),
            ("Cache-Control", "no-cache"),
            ("X-Content-Type-Options", "nosniff"),
        )
        return HTTPResponse(200, headers, body)


async def _serve_game_socket(service: GameService, ws: WebSocket) -> None:
    """Check path and subprotocol, then hand the connection to the game service."""
    if ws.request is not None and ws.request.path != WS_PATH:
        await ws.close(CloseCode.POLICY_VIOLATION, f"unknown path; connect to {WS_PATH}")
        return
    if ws.subprotocol != SUBPROTOCOL:
        await ws.close(CloseCode.PROTOCOL_ERROR, f"unsupported subprotocol; offer {SUBPROTOCOL}")
        return
    await service.handle(ws)


class StartupError(Exception):
    """The server cannot start; ``str(error)`` says why in one line, fit for an operator.

    ``run_server`` raises it (possibly inside nurseries' exception groups) for an address
    it cannot listen on, for a data or replays directory it cannot create or write, for
    a static directory that is not there, and (as ``TLSFileError``) for bad TLS files.
    """


class TLSFileError(StartupError):
    """A certificate or key file that cannot be used; the message names the file."""

    def __init__(self, field: str, path: Path, problem: str) -> None:
        super().__init__(f"{path}: {problem}")
        self.field = field
        """``"certfile"`` or ``"keyfile"``: the ``ServerConfig`` field holding the file."""


class _EncryptedKey(Exception):
    """Raised from OpenSSL's password callback: a server cannot ask anyone for one."""


def _no_password() -> bytes:
    raise _EncryptedKey


def _load_tls(certfile: Path, keyfile: Path) -> ssl.SSLContext:
    """Load the pair, blaming the right file: the certificate is read on its own first."""
    try:
        ssl.create_default_context(cafile=str(certfile))
    except ssl.SSLError:
        raise TLSFileError("certfile", certfile, "holds no PEM certificate") from None
    except OSError as exc:
        raise TLSFileError("certfile", certfile, _reason(exc)) from None
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    try:
        context.load_cert_chain(certfile, keyfile, password=_no_password)
    except _EncryptedKey:
        raise TLSFileError("keyfile", keyfile, "is encrypted; give an unencrypted key") from None
    except ssl.SSLError as exc:
        problem = (
            f"does not match the certificate in {certfile}"
            if exc.reason == "KEY_VALUES_MISMATCH"
            else "holds no PEM private key"
        )
        raise TLSFileError("keyfile", keyfile, problem) from None
    except OSError as exc:
        raise TLSFileError("keyfile", keyfile, _reason(exc)) from None
    return context


def check_static_dir(static_dir: Path | None) -> None:
    """Raise ``StartupError`` unless ``static_dir`` (when set) is an existing directory:
    a server that answers 404 at ``/`` looks broken to everyone who opens it."""
    if static_dir is None:
        return
    if not static_dir.exists():
        raise StartupError(f"cannot serve {static_dir} at /: no such directory")
    if not static_dir.is_dir():
        raise StartupError(f"cannot serve {static_dir} at /: not a directory")


def _reason(error: OSError) -> str:
    """``[Errno 98] Address already in use`` -> ``address already in use``."""
    text = error.strerror or str(error) or type(error).__name__
    return text[:1].lower() + text[1:]


def _first_os_error(group: BaseExceptionGroup[OSError]) -> OSError:
    for inner in group.exceptions:
        if isinstance(inner, BaseExceptionGroup):
            return _first_os_error(inner)
        return inner
    raise AssertionError("an empty exception group")  # pragma: no cover


def _writable_directory(path: Path, purpose: str) -> None:
    """Create ``path`` if needed and prove a file can be written in it, or raise
    ``StartupError``: better to refuse to start than to fail the first match."""
    if path.exists() and not path.is_dir():
        raise StartupError(f"cannot use {path} as the {purpose}: it is not a directory")
    try:
        path.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=path):
            pass
    except OSError as exc:
        raise StartupError(f"cannot use {path} as the {purpose}: {_reason(exc)}") from None


def _address(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


async def run_server(
    config: ServerConfig, *, task_status: trio.TaskStatus[int] = trio.TASK_STATUS_IGNORED
) -> None:
    """Run the game server until cancelled; report the bound TCP port via ``task_status``.

    Cancelling it (Ctrl-C, SIGTERM in ``gameserver serve``) closes every WebSocket with
    1001; match logs are closed without an end record so the matches are recovered on
    the next start. Raises ``StartupError`` before reporting the port when the address
    or a directory cannot be used.
    """
    check_static_dir(config.static_dir)
    _writable_directory(config.data_dir, "data directory")
    try:
        secret = load_or_create_secret(config.data_dir)
    except (OSError, ValueError) as exc:
        reason = _reason(exc) if isinstance(exc, OSError) else str(exc)
        raise StartupError(f"cannot read the token secret: {reason}") from None
    if config.replays_dir is not None:
        _writable_directory(config.replays_dir, "replays directory")
    service_config = attrs.evolve(
        config.service,
        rooms=attrs.evolve(config.service.rooms, replays_dir=config.replays_dir),
        data_dir=config.data_dir,
    )
    try:
        revocations = Revocations.load(
            config.data_dir, ttl=service_config.token_ttl, now=time.time()
        )
    except OSError as exc:
        raise StartupError(f"cannot read the token revocations: {_reason(exc)}") from None
    signer = TokenSigner(secret, ttl=service_config.token_ttl, revocations=revocations)
    metrics = Metrics()
    ssl_context = config.ssl_context()
    # The own origin needs the bound port; a fixed port is known before binding.
    origins = [config.origins.bind(config.host, config.port, tls=config.tls)]
    async with trio.open_nursery() as nursery:
        service = GameService(nursery, signer, service_config, metrics)
        metrics.gauge(
            "gameserver_players_known",
            "Players kept in memory: connected, or holding a seat or watching.",
            lambda: len(service.players),
        )
        if config.recover and config.replays_dir is not None:
            recovered = await recover_rooms(service, config.replays_dir)
            if recovered:
                log.info("recovered %d unfinished matches", recovered)
        try:
            server = await nursery.start(
                functools.partial(
                    serve_websocket,
                    functools.partial(_serve_game_socket, service),
                    config.host,
                    config.port,
                    subprotocols=[SUBPROTOCOL],
                    http_handler=HTTPRoutes(config, metrics),
                    origin_check=lambda origin: origins[0].permits(origin),
                    config=config.websocket,
                    ssl_context=ssl_context,
                    # The game handler always waits in receive(): one task per connection.
                    read_inline=True,
                    address_gate=service.refuse_for,
                )
            )
        except* OSError as group:
            # Binding is the only thing that can fail before the listener reports in.
            where = _address(config.host, config.port)
            raise StartupError(
                f"cannot listen on {where}: {_reason(_first_os_error(group))}"
            ) from None
        origins[0] = config.origins.bind(config.host, server.port, tls=config.tls)
        scheme = "https" if config.tls else "http"
        log.info("serving on %s://%s:%d (WebSocket at %s)", scheme, config.host, server.port, WS_PATH)
        task_status.started(server.port)
        try:
            await trio.sleep_forever()
        finally:
            service.lobby.accepting = False
