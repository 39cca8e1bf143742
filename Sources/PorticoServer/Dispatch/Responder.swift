import NIOCore
import PorticoReasons
import PorticoWire

/// Writes answers into a connection's outbound buffer, flushed once per read batch: its one job.
struct Responder {
    var buffer: ByteBuffer
    let arena: WireArena
    let maxFrameBytes: Int
    /// Answers written (a count a connection compares around a call to see whether it was answered), and
    /// the status of the last: what the connection's metrics and call log read.
    private(set) var answers = 0
    private(set) var lastStatus = StatusCode.ok

    /// Writes a successful answer; an answer that cannot be sent becomes a failure of its call.
    mutating func succeed(_ callID: UInt64, _ message: some WireMessage) {
        self.answers &+= 1
        self.lastStatus = .ok
        // A check's answer, the most frequent, in one write of the whole frame (the cast is decided when
        // this is specialized for each message type).
        if let check = message as? CheckPermissionResponse,
            Frame.writeResponse(callID: callID, check: check, into: &self.buffer, maxBytes: self.maxFrameBytes)
        {
            return
        }
        do {
            try Frame.writeResponse(
                callID: callID,
                message: message,
                into: &self.buffer,
                arena: self.arena,
                maxBytes: self.maxFrameBytes
            )
        } catch let error as WireError {
            // Too large for a frame, or (a fault) not encodable at all.
            let failure =
                error.code == .resourceExhausted
                ? CallFailure(.resourceExhausted, "the answer cannot be sent: \(error.message)", reason: .frameTooLarge)
                : CallFailure(.internal, "the answer cannot be sent: \(error.message)", reason: .encodingFailed)
            self.fail(callID, failure)
        } catch {
            self.fail(callID, CallFailure(.internal, "the answer cannot be sent", reason: .encodingFailed))
        }
    }

    /// Writes a failed answer.
    mutating func fail(_ callID: UInt64, _ failure: CallFailure) {
        self.answers &+= 1
        self.lastStatus = failure.code
        let header = FrameHeader(
            kind: .response,
            callID: callID,
            statusCode: failure.code,
            statusMessage: failure.message,
            errorDetail: failure.detail
        )
        do {
            try Frame(header: header).write(into: &self.buffer, arena: self.arena, maxBytes: self.maxFrameBytes)
        } catch {
            // Only a message with a NUL or of megabytes could fail; send the bare status instead.
            let bare = FrameHeader(kind: .response, callID: callID, statusCode: failure.code)
            try? Frame(header: bare).write(into: &self.buffer, arena: self.arena)
        }
    }

    /// Writes a GOAWAY frame.
    mutating func goAway(lastCallID: UInt64, status: StatusCode, message: String, reason: ErrorReason? = nil) {
        try? Frame(header: .goAway(lastCallID: lastCallID, status: status, message: message, reason: reason))
            .write(into: &self.buffer, arena: self.arena)
    }
}
