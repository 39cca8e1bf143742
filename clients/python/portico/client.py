"""A synchronous Portico client: one TCP connection, calls multiplexed by call id.

    from portico import Client
    from portico.v1 import checks_pb2

    with Client("127.0.0.1", 7700, credential="pok_...") as client:
        answer = client.check_permission(checks_pb2.CheckPermissionRequest(
            system_user_id=6, asset_id=5, task=types_pb2.ASSET_TASK_ANALYZE))
        print(answer.allowed)

Every RPC of `service Portico` is a method named in snake_case (CheckPermission -> check_permission);
it takes the request message (or its fields as keyword arguments) and returns the response message.
A call answered with a status other than OK raises PorticoError.

A change may carry an idempotency key (`idempotency_key="order-17"`, 1 to 128 printable ASCII
characters): sent again with the same key after a lost answer, the server answers it as the first
and applies nothing (docs/protocol.md, "Idempotent changes"). This client never resends by itself.

Watch, the one server stream, is a generator: `for event in client.watch(after_revision=0): ...` yields
each WatchEvent as it commits, until the server ends the stream (PorticoError, whose resume_revision is
the after_revision to watch from next) or the generator is closed (the client then cancels the stream).
"""

import collections
import re
import socket
import struct
import threading

from portico.v1 import frame_pb2, service_pb2

PREFACE = b"PORTICO\x01"
DEFAULT_MAX_FRAME_BYTES = 4 * 1024 * 1024


def _snake(name):
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def _upper_snake(name):
    return _snake(name).upper()


def _methods():
    """Every RPC: snake_case name -> (RPC name, method number, request class, response class)."""
    from google.protobuf import symbol_database

    database = symbol_database.Default()
    service = service_pb2.DESCRIPTOR.services_by_name["Portico"]
    table = {}
    for method in service.methods:
        if method.server_streaming:
            continue  # Watch: the watch() generator
        number = frame_pb2.Method.Value("METHOD_" + _upper_snake(method.name))
        request = database.GetSymbol(method.input_type.full_name)
        response = database.GetSymbol(method.output_type.full_name)
        table[_snake(method.name)] = (method.name, number, request, response)
    return table


METHODS = _methods()


class PorticoError(Exception):
    """A call answered with a status other than OK.

    code is the status name without its prefix ("PERMISSION_DENIED"), number its gRPC number, message
    the server's text, and reason / meta_code / meta_subcode / field come from ErrorDetail.
    """

    def __init__(self, number, message, detail=None):
        self.number = number
        self.code = frame_pb2.StatusCode.Name(number).replace("STATUS_CODE_", "") if number in frame_pb2.StatusCode.values() else str(number)
        self.message = message
        self.reason = detail.reason if detail is not None else ""
        self.meta_code = detail.meta_code if detail is not None else 0
        self.meta_subcode = detail.meta_subcode if detail is not None else 0
        self.field = detail.field if detail is not None else ""
        # Where a Watch stream that ended resumes: the after_revision of the next watch().
        self.resume_revision = detail.resume_revision if detail is not None else 0
        super().__init__("%s%s: %s" % (self.code, " [%s]" % self.reason if self.reason else "", message))


class Client:
    """One connection to a Portico server. Thread-safe: calls from several threads share the
    connection, each waits for the answer with its own call id."""

    def __init__(self, host="127.0.0.1", port=7700, credential="", on_behalf_of_person_id=0,
                 timeout=30.0, max_frame_bytes=DEFAULT_MAX_FRAME_BYTES, tls=None):
        """`tls`: an `ssl.SSLContext` for a server started with --tls-cert, e.g.
        `ssl.create_default_context(cafile="ca.pem")`, plus `load_cert_chain(cert, key)` for mutual TLS.
        The server's certificate is checked against `host` (a name or an IP address)."""
        self.credential = credential
        self.on_behalf_of_person_id = on_behalf_of_person_id
        self.timeout = timeout
        self.max_frame_bytes = max_frame_bytes
        self._socket = socket.create_connection((host, port), timeout=timeout)
        self._socket.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if tls is not None:
            self._socket = tls.wrap_socket(self._socket, server_hostname=host)
        self._socket.sendall(PREFACE)
        self._lock = threading.Lock()
        self._read_lock = threading.Lock()
        self._next_id = 1
        # Frames read for calls other than the reader's: call id -> frames, oldest first.
        self._answers = collections.defaultdict(collections.deque)
        # Streams cancelled by this client: their frames still on the way are dropped.
        self._cancelled = set()
        self._going_away = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self):
        try:
            self._socket.close()
        except OSError:
            pass

    def __getattr__(self, name):
        if name not in METHODS:
            raise AttributeError(name)

        def method(request=None, credential=None, on_behalf_of_person_id=None, timeout=None, idempotency_key=None,
                   **fields):
            _, number, request_class, _ = METHODS[name]
            if request is None:
                request = request_class(**fields)
            return self.call(name, request, credential=credential,
                             on_behalf_of_person_id=on_behalf_of_person_id, timeout=timeout,
                             idempotency_key=idempotency_key)

        method.__name__ = name
        return method

    def watch(self, request=None, after_revision=0, portfolio_id=0, credential=None, on_behalf_of_person_id=None,
              timeout=None):
        """Yields every change after `after_revision` (of `portfolio_id` only, unless 0), then each new one
        as it commits, as WatchEvent messages. Waits as long as it takes for the next change; `timeout`
        (seconds), when given, is the stream's deadline. Raises PorticoError when the server ends the
        stream; its resume_revision is where to watch from next. Closing the generator cancels the stream."""
        from portico.v1 import changes_pb2

        if request is None:
            request = changes_pb2.WatchRequest(after_revision=after_revision, portfolio_id=portfolio_id)
        call_id = self._send(frame_pb2.METHOD_WATCH, request, credential, on_behalf_of_person_id,
                             0 if timeout is None else timeout, "")
        ended = False
        try:
            while True:
                header, body = self._await(call_id, patient=True)
                if header.kind == frame_pb2.FRAME_KIND_STREAM_ITEM:
                    yield changes_pb2.WatchEvent.FromString(body)
                    continue
                ended = True
                if header.status_code != frame_pb2.STATUS_CODE_OK:
                    raise PorticoError(header.status_code, header.status_message,
                                       header.error_detail if header.HasField("error_detail") else None)
                return
        finally:
            if not ended:
                self._cancel(call_id)

    def _cancel(self, call_id):
        with self._lock:
            self._cancelled.add(call_id)
            self._answers.pop(call_id, None)
            header = frame_pb2.FrameHeader(kind=frame_pb2.FRAME_KIND_CANCEL, call_id=call_id)
            try:
                self._socket.sendall(self._frame(header.SerializeToString(), b""))
            except OSError:
                pass

    def _send(self, number, request, credential, on_behalf_of_person_id, timeout, idempotency_key):
        """Writes one REQUEST frame; returns its call id."""
        with self._lock:
            if self._going_away is not None:
                raise PorticoError(14, "the server is going away: %s" % self._going_away)
            call_id = self._next_id
            self._next_id += 1
            header = frame_pb2.FrameHeader(
                kind=frame_pb2.FRAME_KIND_REQUEST,
                call_id=call_id,
                method=number,
                credential=self.credential if credential is None else credential,
                on_behalf_of_person_id=self.on_behalf_of_person_id if on_behalf_of_person_id is None else on_behalf_of_person_id,
                timeout_micros=int(timeout * 1_000_000),
                idempotency_key=idempotency_key or "",
            )
            self._socket.sendall(self._frame(header.SerializeToString(), request.SerializeToString()))
            return call_id

    def call(self, name, request, credential=None, on_behalf_of_person_id=None, timeout=None, method_number=None,
             idempotency_key=None):
        """Sends one call and waits for its answer; raises PorticoError for a status other than OK."""
        rpc, number, _, response_class = METHODS[name] if name in METHODS else (name, method_number, None, None)
        if method_number is not None:
            number = method_number
        timeout = self.timeout if timeout is None else timeout
        call_id = self._send(number, request, credential, on_behalf_of_person_id, timeout, idempotency_key)
        header, body = self._await(call_id)
        if header.status_code != frame_pb2.STATUS_CODE_OK:
            raise PorticoError(header.status_code, header.status_message,
                               header.error_detail if header.HasField("error_detail") else None)
        if response_class is None:
            return body
        return response_class.FromString(body)

    def _frame(self, header, body):
        length = 4 + len(header) + len(body)
        if length + 4 > self.max_frame_bytes:
            raise PorticoError(8, "a frame of %d bytes exceeds the limit of %d" % (length + 4, self.max_frame_bytes))
        return struct.pack(">II", length, len(header)) + header + body

    def _await(self, call_id, patient=False):
        """Reads frames until the next one of call_id arrives (a stream's item or a final answer); other
        calls' frames are kept for their callers. `patient`: wait past the socket's timeout (a stream)."""
        while True:
            with self._read_lock:
                queued = self._answers.get(call_id)
                if queued:
                    return queued.popleft()
                header, body = self._read_frame(patient)
                if header.kind == frame_pb2.FRAME_KIND_GOAWAY:
                    self._going_away = header.status_message
                    if call_id > header.last_call_id:
                        raise PorticoError(14, "the server is going away: %s" % header.status_message)
                    continue
                if header.call_id == call_id:
                    return header, body
                with self._lock:
                    if header.call_id in self._cancelled:
                        if header.kind == frame_pb2.FRAME_KIND_RESPONSE:
                            self._cancelled.discard(header.call_id)
                        continue
                    self._answers[header.call_id].append((header, body))

    def _read_frame(self, patient=False):
        prefix = self._read_exactly(8, patient)
        length, header_length = struct.unpack(">II", prefix)
        if length + 4 > self.max_frame_bytes or header_length > length - 4:
            raise PorticoError(13, "the server sent a malformed frame")
        rest = self._read_exactly(length - 4)
        header = frame_pb2.FrameHeader.FromString(rest[:header_length])
        return header, rest[header_length:]

    def _read_exactly(self, count, patient=False):
        data = bytearray()
        while len(data) < count:
            try:
                chunk = self._socket.recv(count - len(data))
            except socket.timeout:
                if patient:
                    continue
                raise
            if not chunk:
                raise PorticoError(14, "the connection closed")
            data += chunk
        return bytes(data)
