"""The stubs grpcio-tools generates from proto/, behind the native Python client's interface, so that
one test suite (interop.py) runs over both transports and compares their answers.

Nothing here frames anything: each call is the generated stub's method. What it adds is the test
suite's calling convention: keyword fields, `credential=`, and failures as the native client's
PorticoError, built from the gRPC status and the ErrorDetail of the trailing metadata
`portico-error-detail-bin`.

    GrpcClient("127.0.0.1", 7701, credential="pok_...").check_permission(asset_id=5, ...)
"""

import grpc

from portico import PorticoError
from portico.client import METHODS
from portico.v1 import frame_pb2, service_pb2_grpc

ERROR_DETAIL_KEY = "portico-error-detail-bin"


def error_detail(error):
    """The ErrorDetail a failed call carries in its trailing metadata, or None."""
    for key, value in error.trailing_metadata() or ():
        if key == ERROR_DETAIL_KEY:
            return frame_pb2.ErrorDetail.FromString(value)
    return None


def portico_error(error):
    """A grpc.RpcError as the native client's PorticoError: the same code names and detail fields."""
    return PorticoError(error.code().value[0], error.details() or "", error_detail(error))


class GrpcClient:
    """One gRPC channel to a Portico server; every RPC of `service Portico` is a method in snake_case."""

    def __init__(self, host="127.0.0.1", port=7701, credential="", on_behalf_of_person_id=0, timeout=30.0):
        self.credential = credential
        self.on_behalf_of_person_id = on_behalf_of_person_id
        self.timeout = timeout
        self.channel = grpc.insecure_channel("%s:%d" % (host, port))
        self.stub = service_pb2_grpc.PorticoStub(self.channel)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self):
        self.channel.close()

    def metadata(self, credential=None, on_behalf_of_person_id=None):
        credential = self.credential if credential is None else credential
        person = self.on_behalf_of_person_id if on_behalf_of_person_id is None else on_behalf_of_person_id
        pairs = []
        if credential:
            pairs.append(("authorization", "Bearer " + credential))
        if person:
            pairs.append(("portico-on-behalf-of-person-id", str(person)))
        return pairs

    def __getattr__(self, name):
        if name not in METHODS:
            raise AttributeError(name)
        rpc, _, request_class, _ = METHODS[name]

        def method(request=None, credential=None, on_behalf_of_person_id=None, timeout=None, idempotency_key=None,
                   **fields):
            if request is None:
                request = request_class(**fields)
            metadata = self.metadata(credential, on_behalf_of_person_id)
            if idempotency_key:
                metadata.append(("portico-idempotency-key", idempotency_key))
            try:
                return getattr(self.stub, rpc)(
                    request,
                    metadata=metadata,
                    timeout=self.timeout if timeout is None else timeout,
                )
            except grpc.RpcError as error:
                raise portico_error(error) from None

        method.__name__ = name
        return method

    def watch(self, request, credential=None, on_behalf_of_person_id=None, timeout=None):
        """Watch through the generated stub: each WatchEvent; closing the generator cancels the call."""
        call = self.stub.Watch(request, metadata=self.metadata(credential, on_behalf_of_person_id), timeout=timeout)
        try:
            for event in call:
                yield event
        except grpc.RpcError as error:
            raise portico_error(error) from None
        finally:
            call.cancel()

    def call(self, name, request, credential=None, on_behalf_of_person_id=None, timeout=None, method_number=None):
        """A call by name; an RPC the service does not have is sent to its path all the same."""
        if name in METHODS:
            return getattr(self, name)(request, credential=credential, on_behalf_of_person_id=on_behalf_of_person_id,
                                       timeout=timeout)
        unknown = self.channel.unary_unary(
            "/portico.v1.Portico/" + "".join(part.title() for part in name.split("_")),
            request_serializer=lambda message: message.SerializeToString(),
            response_deserializer=lambda data: data,
        )
        try:
            return unknown(request, metadata=self.metadata(credential, on_behalf_of_person_id),
                           timeout=self.timeout if timeout is None else timeout)
        except grpc.RpcError as error:
            raise portico_error(error) from None
