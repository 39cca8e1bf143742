public import GRPCCore
import PorticoServer
public import PorticoWire

/// The metadata keys of Portico's gRPC endpoint beside gRPC's own (docs/clients.md, "gRPC"): what the
/// native protocol's frame header carries travels in these.
public enum GRPCMetadataKeys {
    /// The caller's secret, as `Bearer <secret>`: an operator key, a service credential or a token.
    public static let authorization = "authorization"
    /// With a service credential, the person the service acts for, in decimal.
    public static let onBehalfOfPersonID = "portico-on-behalf-of-person-id"
    /// A change's idempotency key (1 to 128 printable ASCII characters), as the frame header's
    /// `idempotency_key`: the server applies the change once however often it is sent.
    public static let idempotencyKey = "portico-idempotency-key"
    /// Trailing metadata of a failed call: its `ErrorDetail` (reason, Meta code and subcode, field),
    /// encoded as protobuf (a `-bin` key: base64 on the wire, bytes in every gRPC library's API).
    public static let errorDetail = "portico-error-detail-bin"
    /// gRPC's deadline header, which grpc-swift reads but does not expose.
    static let timeout = "grpc-timeout"
}

extension CallFailure {
    /// The failure as grpc-swift's error: the same status code and message, and the `ErrorDetail` in
    /// the trailing metadata.
    var rpcError: RPCError {
        var metadata: Metadata = [:]
        if let detail = try? self.detail.encoded(), !detail.isEmpty {
            metadata.addBinary(detail, forKey: GRPCMetadataKeys.errorDetail)
        }
        // StatusCode has gRPC's numbers; OK is never a failure, so the fallback only guards a fault.
        let code = Status.Code(rawValue: Int(self.code.rawValue)).flatMap(RPCError.Code.init) ?? .internalError
        return RPCError(code: code, message: self.message, metadata: metadata)
    }
}

extension RPCError {
    /// The `ErrorDetail` a Portico server sent in the trailing metadata, if any.
    public var porticoErrorDetail: ErrorDetail? {
        guard let bytes = self.metadata[binaryValues: GRPCMetadataKeys.errorDetail].first(where: { _ in true })
        else { return nil }
        return try? ErrorDetail(decoding: bytes)
    }
}
