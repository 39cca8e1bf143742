import Foundation
import PorticoWire

/// A command that failed at run time: the server refused the call, it could not be reached, a file
/// could not be read. `portico` prints it as one line (or one JSON object with `--json`) on standard
/// error and exits 1; usage errors are ArgumentParser's and exit 64.
struct CommandFailure: Error, CustomStringConvertible {
    /// The line a person reads, without the `portico: ` prefix.
    let message: String
    /// The server's status, when the server refused the call.
    let status: PorticoStatusError?

    init(_ message: String) {
        self.message = message
        self.status = nil
    }

    /// A call the server (or the client, for a server it could not reach) answered with a status.
    /// - Parameter address: the server's `host:port`, to name it when it could not be reached.
    init(status: PorticoStatusError, address: String) {
        self.status = status
        let code = Render.shortName(status.code)
        if status.code == .unavailable, status.detail == nil, status.message.hasPrefix("cannot connect to ") {
            // The client's own words for a failed connect; the likeliest cause follows.
            self.message = status.message + " — is `portico serve` running at \(address)?"
            return
        }
        var line = "\(code): \(status.message)"
        if let detail = status.detail {
            var facts: [String] = []
            if !detail.reason.isEmpty { facts.append("reason \(detail.reason)") }
            if detail.metaCode != 0 {
                facts.append("Meta code \(detail.metaCode)" + (detail.metaSubcode != 0 ? "/\(detail.metaSubcode)" : ""))
            }
            if !detail.field.isEmpty { facts.append("field \(detail.field)") }
            if detail.resumeRevision != 0 { facts.append("resume with --after \(detail.resumeRevision)") }
            if !facts.isEmpty { line += " (" + facts.joined(separator: ", ") + ")" }
        }
        self.message = line
    }

    var description: String { self.message }
}

/// The JSON printed on standard error for a failure under `--json`: the proto's JSON names
/// (`statusCode`, `errorDetail.metaCode`...), as the answers use.
struct FailureReport: Encodable {
    struct Body: Encodable {
        let message: String
        let exitCode: Int32
        let statusCode: StatusCode?
        let statusMessage: String?
        let errorDetail: ErrorDetail?
    }

    let error: Body

    init(message: String, exitCode: Int32, status: PorticoStatusError? = nil) {
        self.error = Body(
            message: message,
            exitCode: exitCode,
            statusCode: status?.code,
            statusMessage: status?.message,
            errorDetail: status?.detail
        )
    }

    /// One line of JSON, keys sorted.
    var line: String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let data = (try? encoder.encode(self)) ?? Data(#"{"error":{"message":"unprintable failure"}}"#.utf8)
        return String(decoding: data, as: UTF8.self)
    }
}
