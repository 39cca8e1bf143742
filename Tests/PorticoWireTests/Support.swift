import Foundation
import NIOCore
import PorticoTestSupport
import PorticoWire
import Testing

/// Where the repository's files are, found from this source file so tests need no bundle resources.
enum Repository {
    static let root = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let golden = root.appendingPathComponent("Tests/PorticoWireTests/Golden")
    static let protoDir = root.appendingPathComponent("proto")

    static var protoFiles: [String] {
        let dir = protoDir.appendingPathComponent("portico/v1")
        let names = (try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? []
        return names.filter { $0.hasSuffix(".proto") }.sorted().map { "portico/v1/" + $0 }
    }
}

/// A message type as a test argument.
struct MessageType: Sendable, CustomTestStringConvertible {
    let type: any WireMessage.Type
    var testDescription: String { type.protoName }

    static let all = PorticoMessages.all.map(MessageType.init)
}

/// Runs the reference implementation, protoc, over the repository's proto files.
enum Protoc {
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    /// protoc's text for `bytes` decoded as the message `name` (`protoc --decode`).
    static func decode(_ bytes: [UInt8], as name: String) throws -> String {
        let output = try run(["--decode=\(name)"], input: bytes)
        return String(decoding: output, as: UTF8.self)
    }

    /// protoc's encoding of the text-format message `text` (`protoc --encode`).
    static func encode(_ text: String, as name: String) throws -> [UInt8] {
        try run(["--encode=\(name)"], input: Array(text.utf8))
    }

    private static func run(_ arguments: [String], input: [UInt8]) throws -> [UInt8] {
        let stdin = Pipe()
        let stdout = Pipe()
        let stderr = Pipe()
        let process = try ChildProcess(
            "/usr/bin/env", ["protoc", "-I."] + arguments + Repository.protoFiles,
            directory: Repository.protoDir.path,
            stdin: .descriptor(stdin.fileHandleForReading.fileDescriptor),
            stdout: .descriptor(stdout.fileHandleForWriting.fileDescriptor),
            stderr: .descriptor(stderr.fileHandleForWriting.fileDescriptor))
        try stdin.fileHandleForReading.close()
        try stdout.fileHandleForWriting.close()
        try stderr.fileHandleForWriting.close()
        stdin.fileHandleForWriting.write(Data(input))
        try stdin.fileHandleForWriting.close()
        let output = stdout.fileHandleForReading.readDataToEndOfFile()
        let errors = stderr.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw Failure(description: "protoc \(arguments): \(String(decoding: errors, as: UTF8.self))")
        }
        return Array(output)
    }
}

extension ByteBuffer {
    /// A buffer holding `bytes`.
    init(bytes: [UInt8]) {
        self = ByteBufferAllocator().buffer(capacity: bytes.count)
        self.writeBytes(bytes)
    }

    /// The hex of the readable bytes, two digits a byte, no separators.
    var hex: String {
        self.readableBytesView.map { String(format: "%02x", $0) }.joined()
    }
}

/// The bytes of a hex string; whitespace is ignored.
func bytes(hex: String) -> [UInt8] {
    let digits = Array(hex.filter { !$0.isWhitespace })
    return stride(from: 0, to: digits.count, by: 2).map { UInt8(String(digits[$0...$0 + 1]), radix: 16)! }
}
