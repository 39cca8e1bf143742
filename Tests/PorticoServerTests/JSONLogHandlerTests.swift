import Foundation
import Logging
import PorticoServer
import Synchronization
import Testing

/// `--log-format json`: one JSON object per line, whatever the message and fields hold.
@Suite("JSON log lines")
struct JSONLogHandlerTests {
    @Test("quotes, backslashes, newlines, control characters and non-ASCII survive; fields nest; one line each")
    func escapes() throws {
        let lines = Mutex<[String]>([])
        var logger = Logger(label: "portico \"test\"") { label in
            JSONLogHandler(label: label) { line in lines.withLock { $0.append(line) } }
        }
        logger.logLevel = .debug
        logger[metadataKey: "peer"] = "127.0.0.1"
        let tricky = "a \"quoted\" \\ back\nnew\r\t\u{01}\u{7F} é 🚀"
        logger.info(
            "\(tricky)",
            metadata: ["list": ["1", "two"], "object": ["k": "v\n"], "peer": "10.0.0.1", tricky: "key"]
        )
        logger.trace("not logged below the level")
        let written = lines.withLock { $0 }
        try #require(written.count == 1)
        let line = written[0]
        #expect(line.hasSuffix("}\n"))
        #expect(line.dropLast().firstIndex(of: "\n") == nil, "one line: \(line)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        #expect(object["message"] as? String == tricky)
        #expect(object["level"] as? String == "info")
        #expect(object["label"] as? String == "portico \"test\"")
        let timestamp = try #require(object["timestamp"] as? String)
        #expect(timestamp.wholeMatch(of: /\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z/) != nil, "\(timestamp)")
        let fields = try #require(object["fields"] as? [String: Any])
        #expect(fields["peer"] as? String == "10.0.0.1", "the call's field wins over the logger's")
        #expect(fields["list"] as? [String] == ["1", "two"])
        #expect((fields["object"] as? [String: String])?["k"] == "v\n")
        #expect(fields[tricky] as? String == "key")
    }
}
