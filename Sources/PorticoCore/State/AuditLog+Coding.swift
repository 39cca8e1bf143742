/// The byte form of one audit event in an `AuditLog` (its revision is its place, so not written):
/// time, caller, operation, portfolio, target kind and id, target text, effects. Integers are LEB128
/// varints, strings a length then UTF-8. Only this file reads and writes it, and it never leaves memory.
struct AuditEventWriter {
    var bytes: [UInt8]

    mutating func write(_ event: AuditEvent) {
        varint(UInt64(bitPattern: event.time.milliseconds))
        switch event.caller {
        case .operator:
            bytes.append(0)
        case .service(let credential, nil):
            bytes.append(1)
            varint(credential.rawValue)
        case .service(let credential, let person?):
            bytes.append(2)
            varint(credential.rawValue)
            varint(person.rawValue)
        case .systemUser(let token):
            bytes.append(3)
            varint(token.rawValue)
        }
        string(event.operation)
        if let portfolio = event.portfolio {
            bytes.append(1)
            varint(portfolio.rawValue)
        } else {
            bytes.append(0)
        }
        bytes.append(event.targetKind.rawValue)
        varint(event.targetID)
        string(event.target)
        varint(UInt64(event.effects.count))
        for effect in event.effects { string(effect) }
    }

    private mutating func varint(_ value: UInt64) {
        var value = value
        while value >= 0x80 {
            bytes.append(UInt8(truncatingIfNeeded: value) | 0x80)
            value >>= 7
        }
        bytes.append(UInt8(value))
    }

    private mutating func string(_ text: String) {
        varint(UInt64(text.utf8.count))
        bytes.append(contentsOf: text.utf8)
    }
}

/// Reads what `AuditEventWriter` wrote.
struct AuditEventReader {
    let bytes: ArraySlice<UInt8>
    private var position: Int

    init(bytes: ArraySlice<UInt8>) {
        self.bytes = bytes
        position = bytes.startIndex
    }

    /// The event, or nil if the bytes are not one (they always are: only the writer makes them).
    mutating func event(revision: Revision) -> AuditEvent? {
        guard let time = varint(), let callerTag = byte() else { return nil }
        let caller: Caller
        switch callerTag {
        case 0: caller = .operator
        case 1:
            guard let credential = varint() else { return nil }
            caller = .service(CredentialID(credential))
        case 2:
            guard let credential = varint(), let person = varint() else { return nil }
            caller = .service(CredentialID(credential), onBehalfOf: PrincipalID(person))
        case 3:
            guard let token = varint() else { return nil }
            caller = .systemUser(TokenID(token))
        default: return nil
        }
        guard let operation = string(), let hasPortfolio = byte() else { return nil }
        var portfolio: PortfolioID?
        if hasPortfolio == 1 {
            guard let id = varint() else { return nil }
            portfolio = PortfolioID(id)
        }
        guard let kindByte = byte(), let targetKind = AuditEvent.TargetKind(rawValue: kindByte),
              let targetID = varint(), let target = string(), let effectCount = varint()
        else { return nil }
        var effects: [String] = []
        for _ in 0..<effectCount {
            guard let effect = string() else { return nil }
            effects.append(effect)
        }
        return AuditEvent(revision: revision, time: Timestamp(milliseconds: Int64(bitPattern: time)), caller: caller,
                          operation: operation, portfolio: portfolio, targetKind: targetKind, targetID: targetID,
                          target: target, effects: effects)
    }

    private mutating func byte() -> UInt8? {
        guard position < bytes.endIndex else { return nil }
        defer { position += 1 }
        return bytes[position]
    }

    private mutating func varint() -> UInt64? {
        var value: UInt64 = 0
        var shift: UInt64 = 0
        while let next = byte(), shift < 64 {
            value |= UInt64(next & 0x7F) << shift
            if next < 0x80 { return value }
            shift += 7
        }
        return nil
    }

    private mutating func string() -> String? {
        guard let length = varint(), length <= UInt64(bytes.endIndex - position) else { return nil }
        defer { position += Int(length) }
        return String(decoding: bytes[position..<position + Int(length)], as: UTF8.self)
    }
}
