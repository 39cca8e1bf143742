import CPorticoProto
import CProtobufC

/// The check's request decoded where its bytes lie: the hot path's most frequent body.
extension CheckPermissionRequest {
    /// - Throws: what the codec of record (validation, then protobuf-c) throws for the same bytes.
    static func decodeInPlace(_ bytes: UnsafeRawBufferPointer, arena: WireArena) throws(WireError)
        -> CheckPermissionRequest?
    {
        guard !bytes.isEmpty else { return CheckPermissionRequest() }
        // Fields in locals, the value built once at the end (as FrameHeader's: no copies on the way out).
        var subject: Subject?
        var assetID: UInt64 = 0
        var task = AssetTask.unspecified
        var explain = false
        var minRevision: UInt64 = 0
        var fields = InPlaceFieldReader(bytes, Self.cDescriptor, arena: arena)
        // As protobuf-c: the last occurrence of a field wins, and the oneof holds its last member.
        while let (number, _, value) = try fields.next() {
            switch number {
            case 1: subject = .personID(InPlaceFieldReader.varint(value))
            case 2: subject = .systemUserID(InPlaceFieldReader.varint(value))
            case 3: subject = .token(fields.string(value, field: "portico.v1.CheckPermissionRequest.token"))
            case 4: assetID = InPlaceFieldReader.varint(value)
            case 5: task = InPlaceFieldReader.enumValue(value, AssetTask.self)
            case 6: explain = InPlaceFieldReader.varint(value) != 0
            case 7: minRevision = InPlaceFieldReader.varint(value)
            // A field this decoder does not take (external references): protobuf-c decodes the message.
            default: return nil
            }
        }
        return CheckPermissionRequest(
            assetID: assetID, task: task, explain: explain, minRevision: minRevision, subject: subject)
    }
}

/// A batch's items decoded where their bytes lie, with the batch's own fields.
extension BatchCheckPermissionsRequest {
    /// - Throws: what the codec of record (validation, then protobuf-c) throws for the same bytes.
    static func decodeInPlace(_ bytes: UnsafeRawBufferPointer, arena: WireArena) throws(WireError)
        -> BatchCheckPermissionsRequest?
    {
        var message = BatchCheckPermissionsRequest()
        guard !bytes.isEmpty else { return message }
        var fields = InPlaceFieldReader(bytes, Self.cDescriptor, arena: arena)
        while let (number, field, value) = try fields.next() {
            switch number {
            case 1:
                guard case .bytes(let start, let count) = value else { continue }
                let item = field.pointee.descriptor.assumingMemoryBound(to: ProtobufCMessageDescriptor.self)
                guard let decoded = try CheckItem.decodeInPlace(start, count, item, arena: arena) else { return nil }
                message.checks.append(decoded)
            case 2: message.explain = InPlaceFieldReader.varint(value) != 0
            case 3: message.minRevision = InPlaceFieldReader.varint(value)
            default: return nil
            }
        }
        return message
    }
}

extension CheckItem {
    /// An item of a batch, from its bytes inside the batch's (one level down, as the validator counts).
    static func decodeInPlace(
        _ start: UnsafePointer<UInt8>,
        _ count: Int,
        _ descriptor: UnsafePointer<ProtobufCMessageDescriptor>,
        arena: WireArena
    ) throws(WireError) -> CheckItem? {
        var item = CheckItem()
        var fields = InPlaceFieldReader(start, count, descriptor, arena)
        while let (number, _, value) = try fields.next() {
            switch number {
            case 1: item.subject = .personID(InPlaceFieldReader.varint(value))
            case 2: item.subject = .systemUserID(InPlaceFieldReader.varint(value))
            case 3: item.subject = .token(fields.string(value, field: "portico.v1.CheckItem.token"))
            case 4: item.assetID = InPlaceFieldReader.varint(value)
            case 5: item.task = InPlaceFieldReader.enumValue(value, AssetTask.self)
            default: return nil
            }
        }
        return item
    }
}
