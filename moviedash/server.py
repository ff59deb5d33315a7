"""The production server: waitress, with limits a network needs and a graceful stop.

waitress (:mod:`waitress.server`) is used through its documented extension
points, the server's ``channel_class`` and the channel's ``task_class``,
``error_task_class`` and ``parser_class``:

- **Connections.** Up to ``connection_limit`` open connections (waitress's
  default of 100 let 101 idle sockets lock every client out); ``poll()`` rather
  than ``select()`` so descriptors above 1024 work.  A connection is closed
  when it has been idle for ``channel_timeout`` seconds, *or* when it has taken
  that long to send one request (a slowloris sending a header line every few
  seconds stays "active" to waitress and was never dropped); the latter is
  answered ``408`` first.
- **waitress's own answers** (a malformed request, an unsupported
  transfer-encoding, a request head or body over the limits) carry the same
  security headers as the application's and the standard JSON error shape; a
  request line over the head limit is ``414 URI Too Long``, other headers
  ``431``.  After such an answer the connection is closed gracefully: the
  server stops writing, then reads and discards what the client is still
  sending for a moment (a "lingering close"), so the client reads the answer
  instead of a TCP reset.
- **Stopping.** On SIGTERM or SIGINT the server stops listening at once (new
  connections are refused), closes idle connections, lets the requests in
  progress finish and their answers be sent for up to ``shutdown_timeout``
  seconds, then returns (exit status 0).  A second signal stops at once.
"""
from __future__ import annotations

import errno
import json
import math
import os
import re
import signal
import socket
import sys
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from types import FrameType
from typing import Any

from waitress import wasyncore
from waitress.adjustments import Adjustments
from waitress.channel import HTTPChannel
from waitress.parser import HTTPRequestParser
from waitress.server import TcpWSGIServer
from waitress.task import ErrorTask, ThreadedTaskDispatcher, WSGITask
from waitress.utilities import BadRequest, Error, RequestHeaderFieldsTooLarge

from .errors import MoviedashError

try:  # POSIX only; elsewhere the open-file limit is left as it is
    import resource
except ImportError:  # pragma: no cover - Windows
    resource = None  # type: ignore[assignment]

DEFAULT_CONNECTION_LIMIT = 1000
DEFAULT_CHANNEL_TIMEOUT = 10.0
DEFAULT_SHUTDOWN_TIMEOUT = 10.0
#: The request line and headers together (browsers send a few KiB; nginx allows 32 KiB).
MAX_REQUEST_HEAD = 64 * 1024
#: Request bodies: the dashboard's callbacks send a few KiB of JSON.
MAX_REQUEST_BODY = 1024 * 1024
#: How long a connection closed after an error answer is read from (and discarded) before it is closed.
LINGER_SECONDS = 2.0
#: Open files the process needs besides its connections (database, libraries, logs).
SPARE_FILES = 64


@dataclass(frozen=True)
class ServerOptions:
    """The serving limits of ``moviedash serve`` (and ``python app.py``)."""

    connection_limit: int = DEFAULT_CONNECTION_LIMIT
    channel_timeout: float = DEFAULT_CHANNEL_TIMEOUT
    shutdown_timeout: float = DEFAULT_SHUTDOWN_TIMEOUT


_SECONDS_RE = re.compile(r"\s*(\d+(\.\d*)?|\.\d+)\s*", re.ASCII)
_COUNT_RE = re.compile(r"\s*\d+\s*", re.ASCII)


def parse_seconds(text: str | float, name: str, *, positive: bool = False) -> float:
    """``text`` as a number of seconds ≥ 0 (> 0 with ``positive``) in plain ASCII digits;
    anything else (``nan``, ``inf``, ``-5``, ``５``) is a clear error naming ``name``."""
    value = float(text) if _SECONDS_RE.fullmatch(str(text)) else math.nan
    if not math.isfinite(value) or (positive and value == 0):
        need = "more than 0" if positive else "0 or more"
        raise MoviedashError(f"{name} must be a number of seconds, {need} (got {text!r})", parameter=name)
    return value


def parse_count(text: str | int, name: str, *, minimum: int = 1) -> int:
    """``text`` as a whole number ≥ ``minimum`` in plain ASCII digits; else a clear error naming ``name``."""
    value = int(str(text)) if _COUNT_RE.fullmatch(str(text)) else None
    if value is None or value < minimum:
        raise MoviedashError(f"{name} must be a whole number, at least {minimum} (got {text!r})", parameter=name)
    return value


def options_from_env(environ: Mapping[str, str] = os.environ) -> ServerOptions:
    """Serving limits from ``MOVIEDASH_CONNECTION_LIMIT``, ``MOVIEDASH_CHANNEL_TIMEOUT``
    and ``MOVIEDASH_SHUTDOWN_TIMEOUT`` (for ``python app.py``); unset means the default."""
    options: dict[str, Any] = {}
    if environ.get("MOVIEDASH_CONNECTION_LIMIT"):
        options["connection_limit"] = parse_count(environ["MOVIEDASH_CONNECTION_LIMIT"], "MOVIEDASH_CONNECTION_LIMIT")
    if environ.get("MOVIEDASH_CHANNEL_TIMEOUT"):
        options["channel_timeout"] = parse_seconds(
            environ["MOVIEDASH_CHANNEL_TIMEOUT"], "MOVIEDASH_CHANNEL_TIMEOUT", positive=True
        )
    if environ.get("MOVIEDASH_SHUTDOWN_TIMEOUT"):
        options["shutdown_timeout"] = parse_seconds(environ["MOVIEDASH_SHUTDOWN_TIMEOUT"], "MOVIEDASH_SHUTDOWN_TIMEOUT")
    return ServerOptions(**options)


# -- waitress's own error answers ---------------------------------------------------------------


class URITooLong(BadRequest):
    """The request line alone is over the head limit."""

    code = 414
    reason = "URI Too Long"


class RequestTimeout(BadRequest):
    """The client took longer than the channel timeout to send one request."""

    code = 408
    reason = "Request Timeout"


def _error_message(error: Error, adj: Adjustments) -> str:
    """A short message for the JSON body (waitress's own texts may quote the request: cut them)."""
    if isinstance(error, URITooLong):
        return f"request line too long (limit {adj.max_request_header_size // 1024} KiB)"
    if isinstance(error, RequestHeaderFieldsTooLarge):
        return f"request headers too large (limit {adj.max_request_header_size // 1024} KiB)"
    if error.code == 413:
        return f"request body too large (limit {adj.max_request_body_size // 1024} KiB)"
    if isinstance(error, RequestTimeout):
        return "the request was not received in time"
    if error.code >= 500 and error.code != 501:
        return "internal error"  # never a traceback
    detail = str(error.body)
    return f"{error.reason.lower()}: {detail[:200]}" if detail else error.reason.lower()


class MoviedashErrorTask(ErrorTask):
    """waitress's error answer in the standard JSON shape, with the security headers."""

    def execute(self) -> None:
        error = self.request.error
        body = json.dumps({"error": _error_message(error, self.channel.adj)}).encode()
        self.status = f"{error.code} {error.reason}"
        self.response_headers.append(("Content-Type", "application/json"))
        self.response_headers.extend(self.channel.server.security_headers)
        self.set_close_on_finish()
        self.channel.linger_on_close = True  # the client may still be sending: let it read this first
        self.content_length = len(body)
        self.write(body)


class MoviedashTask(WSGITask):
    """An application request; while the server stops, its answer says ``Connection: close``."""

    def build_response_header(self) -> bytes:
        if self.channel.server.draining:
            self.set_close_on_finish()
        return super().build_response_header()


class MoviedashParser(HTTPRequestParser):
    """waitress's parser, telling a request line over the head limit (414) from large headers (431)."""

    request_line_length: int | None = None
    _head_seen = 0
    error: Exception | None  # set by waitress's parser (untyped); declared for the checks below

    def received(self, data: bytes) -> int:
        if self.body_rcv is None and self.request_line_length is None and not self.completed:
            end = data.find(b"\n")
            if end >= 0:
                self.request_line_length = self._head_seen + end
            else:
                self._head_seen += len(data)
        consumed = super().received(data)
        if isinstance(self.error, RequestHeaderFieldsTooLarge) and (
            self.request_line_length is None or self.request_line_length >= self.adj.max_request_header_size
        ):
            self.error = URITooLong(f"exceeds {self.adj.max_request_header_size} bytes")
        return consumed


class MoviedashChannel(HTTPChannel):
    """One client connection: request timing, lingering close, closing after an answer while stopping."""

    task_class = MoviedashTask
    error_task_class = MoviedashErrorTask
    parser_class = MoviedashParser

    linger_on_close = False
    request: HTTPRequestParser | None  # the request being received (waitress's, untyped); declared for the checks
    lingering_until = 0.0  # > 0 while the connection is lingering
    request_started = 0.0  # when the first bytes of the request being received arrived

    def received(self, data: bytes) -> bool:
        if self.request is None and data:
            self.request_started = time.time()
        return super().received(data)

    def readable(self) -> bool:
        return True if self.lingering_until else super().readable()

    def writable(self) -> bool:
        return False if self.lingering_until else super().writable()

    def handle_read(self) -> None:
        if not self.lingering_until:
            super().handle_read()
            return
        try:
            data = self.socket.recv(self.adj.recv_bytes)
        except OSError:
            data = b""
        if not data:
            self.handle_close()

    def handle_close(self) -> None:
        if self.linger_on_close and not self.lingering_until and self.socket is not None:
            self.linger_on_close = False
            try:
                self.socket.shutdown(socket.SHUT_WR)  # the answer, then FIN
            except OSError:
                pass
            else:
                self.lingering_until = time.time() + LINGER_SECONDS
                self.will_close = self.close_when_flushed = False
                return
        super().handle_close()

    def service(self) -> None:
        super().service()
        # Stopping: close once this answer is sent (requests already received are served first).
        if self.server.draining:
            with self.requests_lock:
                if not self.requests:
                    self.close_when_flushed = True
            self.server.pull_trigger()

    @property
    def busy(self) -> bool:
        """A request is being received, processed, or its answer is still being sent."""
        return bool(self.requests or self.total_outbufs_len or self.request is not None or self.lingering_until)

    def time_out(self) -> None:
        """Answer the request being received with 408 and close (called by the server's maintenance)."""
        with self.requests_lock:
            request, self.request = self.request, None
            if request is None:
                return
            request.error = RequestTimeout("")
            request.completed = True
            self.requests.append(request)
            if len(self.requests) == 1:
                self.server.add_task(self)


class MoviedashServer(TcpWSGIServer):
    """waitress's TCP server with moviedash's channels and time limits."""

    channel_class = MoviedashChannel
    draining = False

    def __init__(
        self,
        *args: Any,
        security_headers: Iterable[tuple[str, str]] = (),
        channel_timeout: float = DEFAULT_CHANNEL_TIMEOUT,
        **kwargs: Any,
    ) -> None:
        self.security_headers = list(security_headers)
        self.timeout = channel_timeout
        super().__init__(*args, **kwargs)

    def maintenance(self, now: float) -> None:
        """Close idle connections, answer 408 to requests slower than the timeout, end lingering closes."""
        cutoff = now - self.timeout
        for channel in list(self.active_channels.values()):
            if channel.lingering_until:
                if now >= channel.lingering_until:
                    channel.handle_close()
            elif channel.requests:
                continue  # being processed: the query time limit bounds it
            elif channel.request is not None:
                if channel.request_started < cutoff:
                    channel.time_out()
            elif channel.last_activity < cutoff:
                channel.will_close = True

    def stop_listening(self) -> None:
        """Close the listening socket (new connections are refused); keep the wake-up pipe open."""
        self.accepting = False
        wasyncore.dispatcher.close(self)


# -- running ------------------------------------------------------------------------------------


class _StopSignals:
    """SIGTERM/SIGINT handlers that ask the loop to stop, waking it through a pipe in its map."""

    def __init__(self, socket_map: dict[int, Any]) -> None:
        self.count = 0
        self.name = ""
        self.previous: dict[int, Any] = {}
        self.previous_wakeup = -1
        self.reader: wasyncore.file_dispatcher | None = None
        self.write_fd = -1
        if threading.current_thread() is not threading.main_thread():
            return  # signals can only be handled in the main thread: leave them as they are
        read_fd, self.write_fd = os.pipe()
        os.set_blocking(self.write_fd, False)
        self.reader = _Drain(read_fd, map=socket_map)
        self.previous_wakeup = signal.set_wakeup_fd(self.write_fd, warn_on_full_buffer=False)
        for signum in (signal.SIGTERM, signal.SIGINT):
            self.previous[signum] = signal.signal(signum, self._handle)

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        self.count += 1
        self.name = self.name or signal.Signals(signum).name

    def restore(self) -> None:
        """Put back the handlers that were there before."""
        for signum, handler in self.previous.items():
            signal.signal(signum, handler)
        if self.reader is not None:
            signal.set_wakeup_fd(self.previous_wakeup)
            self.reader.close()
            os.close(self.write_fd)


class _Drain(wasyncore.file_dispatcher):
    """The read end of the signal wake-up pipe: read and forget (the handler has recorded the signal)."""

    def writable(self) -> bool:
        return False

    def handle_read(self) -> None:
        try:
            self.recv(512)
        except OSError:
            pass


def _raise_file_limit(connections: int, say: Callable[[str], None]) -> int:
    """Make room for ``connections`` open sockets (raise the soft open-file limit); returns the usable limit."""
    if resource is None:  # pragma: no cover - Windows
        return connections
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    needed = connections + SPARE_FILES
    if soft != resource.RLIM_INFINITY and soft < needed:
        target = needed if hard == resource.RLIM_INFINITY else min(needed, hard)
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
            soft = target
        except (ValueError, OSError):
            pass
        if soft < needed:
            usable = max(1, soft - SPARE_FILES)
            say(
                f"warning: the open-file limit ({soft}) allows {usable} connections, not {connections}; "
                "raise it (ulimit -n) for more"
            )
            return usable
    return connections


def bind(
    wsgi_app: Callable[..., Any],
    host: str,
    port: int,
    threads: int,
    options: ServerOptions,
    security_headers: Iterable[tuple[str, str]] = (),
    say: Callable[[str], None] = lambda line: print(line, file=sys.stderr),
) -> Serving:
    """Bind ``host:port`` for ``wsgi_app``; a busy port or a bad address is a :class:`MoviedashError`."""
    connection_limit = _raise_file_limit(options.connection_limit, say)
    try:
        adj = Adjustments(
            host=host,
            port=port,
            threads=threads,
            ident="moviedash",
            connection_limit=connection_limit,  # plus waitress's own sockets: see Serving.run
            cleanup_interval=1,  # how often the time limits are checked
            channel_timeout=max(1, math.ceil(options.channel_timeout)),  # ours is MoviedashServer.timeout
            max_request_header_size=MAX_REQUEST_HEAD,
            max_request_body_size=MAX_REQUEST_BODY,
            asyncore_use_poll=True,  # select() fails on descriptors above 1024
            expose_tracebacks=False,
        )
    except ValueError:
        raise MoviedashError(
            f"cannot listen on {host}:{port}: not a valid host name or address", parameter="host"
        ) from None
    socket_map: dict[int, Any] = {}
    dispatcher = ThreadedTaskDispatcher()
    servers: list[MoviedashServer] = []
    try:
        for sockinfo in adj.listen:
            servers.append(
                MoviedashServer(
                    wsgi_app,
                    socket_map,
                    dispatcher=dispatcher,
                    adj=adj,
                    sockinfo=sockinfo,
                    security_headers=security_headers,
                    channel_timeout=options.channel_timeout,
                )
            )
    except OSError as exc:
        wasyncore.close_all(socket_map)
        if exc.errno == errno.EADDRINUSE:
            message = (
                f"port {port} on {host} is already in use (is another server running?); choose another with --port"
            )
        elif exc.errno == errno.EACCES:
            message = (
                f"not allowed to listen on {host}:{port} (ports below 1024 need privileges); choose another with --port"
            )
        else:
            message = f"cannot listen on {host}:{port}: {exc.strerror or exc}"
        raise MoviedashError(message, parameter="port") from None
    dispatcher.set_thread_count(threads)
    return Serving(servers, socket_map, dispatcher, adj, options, say)


class Serving:
    """Bound servers sharing one socket map and one pool of worker threads."""

    def __init__(
        self,
        servers: list[MoviedashServer],
        socket_map: dict[int, Any],
        dispatcher: ThreadedTaskDispatcher,
        adj: Adjustments,
        options: ServerOptions,
        say: Callable[[str], None],
    ) -> None:
        self.servers = servers
        self.map = socket_map
        self.dispatcher = dispatcher
        self.adj = adj
        self.options = options
        self.options_limit = adj.connection_limit
        self.say = say

    @property
    def addresses(self) -> list[tuple[str, int]]:
        """Where the servers listen, as (host, port)."""
        return [(s.effective_host, int(s.effective_port)) for s in self.servers]

    def channels(self) -> list[MoviedashChannel]:
        """The open client connections."""
        return [obj for obj in list(self.map.values()) if isinstance(obj, MoviedashChannel)]

    def run(self) -> None:
        """Serve until SIGTERM/SIGINT, then stop gracefully (see the module's docstring)."""
        signals = _StopSignals(self.map)
        # waitress compares every socket in its map with the limit: its listening sockets and
        # wake-up pipes (all there now) are not connections.
        self.adj.connection_limit = self.options_limit + len(self.map)
        try:
            while not signals.count:
                wasyncore.loop(timeout=self.adj.asyncore_loop_timeout, map=self.map, use_poll=True, count=1)
            self.drain(signals)
        finally:
            signals.restore()
            self.dispatcher.shutdown(cancel_pending=True, timeout=0.5)
            wasyncore.close_all(self.map)

    def drain(self, signals: _StopSignals) -> None:
        """Stop listening, finish the requests in progress within the shutdown timeout."""
        deadline = time.monotonic() + self.options.shutdown_timeout
        for server in self.servers:
            server.draining = True
            server.stop_listening()
        busy = [c for c in self.channels() if c.busy]
        self.say(
            f"moviedash: {signals.name} received: not accepting connections; finishing "
            f"{len(busy)} request(s) in progress (up to {self.options.shutdown_timeout:g} s)"
        )
        while True:
            for channel in self.channels():
                if not channel.busy:
                    channel.handle_close()
            busy = [c for c in self.channels() if c.busy]
            if not busy or time.monotonic() >= deadline or signals.count > 1:
                break
            now = time.time()
            for channel in busy:
                if channel.lingering_until and now >= channel.lingering_until:
                    channel.handle_close()
            wasyncore.loop(
                timeout=min(0.2, max(0.0, deadline - time.monotonic())), map=self.map, use_poll=True, count=1
            )
        if busy:
            self.say(f"moviedash: stopped with {len(busy)} request(s) unfinished (shutdown timeout)")
        else:
            self.say("moviedash: stopped")
