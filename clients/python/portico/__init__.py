"""Portico's Python client: the framing of docs/protocol.md over the messages protoc generates.

The message classes (portico/v1/*_pb2.py) are generated from proto/ when the client is built
(`make python-client`, or `protoc -I../../proto --python_out=. ../../proto/portico/v1/*.proto` here);
this package adds the connection, call ids, frame headers and statuses as exceptions.
"""

from .client import Client, PorticoError, METHODS

__all__ = ["Client", "PorticoError", "METHODS"]
