import Foundation
import Histogram
import NIOCore
import NIOPosix
import NIOSSL
import PorticoWire

/// One request the generator can send: the method, its encoded body, and how many checks it carries
/// (0 for a ping or a write, 100 for a batch of 100).
struct PreparedCall: Sendable {
    let method: UInt32
    let body: ByteBuffer
    let checks: Int
    let isWrite: Bool
}

/// How calls are paced on one connection.
enum Pacing: Sendable {
    /// Keep `depth` calls in flight: a new call the moment an answer arrives.
    case closed(depth: Int)
    /// Send at `perSecond` calls per second whatever the answers do; each call's latency counts from
    /// the moment it was due, so a stall delays the calls behind it and shows in their latency
    /// (no coordinated omission).
    case open(perSecond: Double)
}

/// What one connection measured inside the window.
struct ConnectionTally: Sendable {
    var latency = Histogram<UInt64>(lowestDiscernibleValue: 1, highestTrackableValue: 120_000_000_000, numberOfSignificantValueDigits: .three)
    var calls = 0
    var checks = 0
    var writes = 0
    var errors = 0
    /// Calls due in the window with no answer by the end of the drain (open loop past saturation).
    var unanswered = 0
    /// Status codes of the failures, by code.
    var errorCodes: [UInt32: Int] = [:]

    mutating func add(_ other: ConnectionTally) {
        self.latency.add(other.latency)
        self.calls += other.calls
        self.checks += other.checks
        self.writes += other.writes
        self.errors += other.errors
        self.unanswered += other.unanswered
        self.errorCodes.merge(other.errorCodes, uniquingKeysWith: +)
    }
}

/// A load connection written straight on SwiftNIO, in the manner of redis-benchmark: request frames are
/// built from pre-encoded bodies and a fixed header prefix, and answers are parsed only for their call
/// id and status. The generator so spends little of the machine that the server is measured on.
final class LoadHandler: ChannelDuplexHandler, @unchecked Sendable {
    typealias InboundIn = ByteBuffer
    typealias OutboundIn = Never
    typealias OutboundOut = ByteBuffer

    /// Calls in flight are tracked in a ring indexed by call id; the ring bounds them.
    static let ringSize = 1 << 16
    /// Open loop: at most this many calls in flight per connection; more waits, still timed from when it was due.
    static let maxBacklog = 4096
    /// How long after the window answers are waited for.
    static let drainLimit: UInt64 = 2_000_000_000

    private let calls: [PreparedCall]
    private let pacing: Pacing
    /// The header's credential field (4), encoded once.
    private let credentialField: [UInt8]
    private let window: (start: UInt64, end: UInt64)
    private let done: EventLoopPromise<ConnectionTally>

    @exclusivity(unchecked) private var tally = ConnectionTally()
    @exclusivity(unchecked) private var nextCallID: UInt64 = 1
    @exclusivity(unchecked) private var nextCall: Int
    @exclusivity(unchecked) private var inFlight = 0
    @exclusivity(unchecked) private var dueAt: [UInt64]
    @exclusivity(unchecked) private var writesOf: [Bool]
    @exclusivity(unchecked) private var checksOf: [Int32]
    @exclusivity(unchecked) private var pending = ByteBuffer()
    @exclusivity(unchecked) private var outgoing = ByteBuffer()
    @exclusivity(unchecked) private var context: ChannelHandlerContext?
    /// Open loop: when the first call was due, and how many calls have been made due so far.
    @exclusivity(unchecked) private var openStart: UInt64 = 0
    @exclusivity(unchecked) private var openIssued = 0
    @exclusivity(unchecked) private var stopped = false

    init(calls: [PreparedCall], firstCall: Int, pacing: Pacing, credential: String,
         window: (start: UInt64, end: UInt64), done: EventLoopPromise<ConnectionTally>) {
        self.calls = calls
        self.nextCall = firstCall % calls.count
        self.pacing = pacing
        var field: [UInt8] = []
        if !credential.isEmpty {
            field.append(0x22)
            appendVarint(UInt64(credential.utf8.count), to: &field)
            field.append(contentsOf: credential.utf8)
        }
        self.credentialField = field
        self.window = window
        self.done = done
        self.dueAt = Array(repeating: 0, count: Self.ringSize)
        self.writesOf = Array(repeating: false, count: Self.ringSize)
        self.checksOf = Array(repeating: 0, count: Self.ringSize)
    }

    static func now() -> UInt64 { DispatchTime.now().uptimeNanoseconds }

    func channelActive(context: ChannelHandlerContext) {
        self.context = context
        self.outgoing = context.channel.allocator.buffer(capacity: 4096)
        self.outgoing.writeBytes(WirePreface.bytes)
        switch self.pacing {
        case .closed(let depth):
            for _ in 0..<depth { self.send(context: context, due: Self.now()) }
            self.sendPending(context: context)
        case .open:
            // The loop's Pacer calls `tick` from now on.
            self.openStart = Self.now()
        }
    }

    /// Open loop: sends every call that has come due by `now` (each stamped with when it was due),
    /// and after the window stops issuing and waits for the answers.
    func tick(now: UInt64) {
        guard case .open(let perSecond) = self.pacing else {
            if now > self.window.end { self.finishIfDrained(now: now) }
            return
        }
        guard let context = self.context, !self.stopped, self.openStart != 0 else { return }
        let interval = 1e9 / perSecond
        let issueUntil = min(now, self.window.end)
        let due = issueUntil > self.openStart ? Int(Double(issueUntil &- self.openStart) / interval) + 1 : 0
        var sent = false
        // A backlog beyond the ring is left unsent; it keeps its due times, so the delay still counts.
        while self.openIssued < due, self.inFlight < Self.maxBacklog {
            self.send(context: context, due: self.openStart &+ UInt64(Double(self.openIssued) * interval))
            self.openIssued += 1
            sent = true
        }
        if sent { self.sendPending(context: context) }
        if now >= self.window.end {
            // Calls due in the window but never sent count at the latency they have reached.
            let unsent = due - self.openIssued
            if unsent > 0, now > self.window.end &+ Self.drainLimit {
                for number in self.openIssued..<due {
                    let dueAt = self.openStart &+ UInt64(Double(number) * interval)
                    if dueAt >= self.window.start {
                        self.tally.latency.record(now &- dueAt)
                        self.tally.unanswered += 1
                    }
                }
                self.openIssued = due
            }
            self.finishIfDrained(now: now)
        }
    }

    private func send(context: ChannelHandlerContext, due: UInt64) {
        let call = self.calls[self.nextCall]
        self.nextCall = self.nextCall &+ 1 == self.calls.count ? 0 : self.nextCall &+ 1
        let id = self.nextCallID
        self.nextCallID &+= 1
        let slot = Int(id & UInt64(Self.ringSize - 1))
        self.dueAt[slot] = due
        self.writesOf[slot] = call.isWrite
        self.checksOf[slot] = Int32(call.checks)
        self.inFlight += 1

        // Header: kind = REQUEST (1), call_id (2), method (3), credential (4); written in place, in
        // one reservation of the buffer (each ByteBuffer write costs a uniqueness and access check).
        let headerBytes = 2 + 1 + varintSize(id) + 1 + varintSize(UInt64(call.method)) + self.credentialField.count
        let total = 8 + headerBytes
        self.outgoing.writeWithUnsafeMutableBytes(minimumWritableBytes: total) { raw in
            var at = 0
            func byte(_ value: UInt8) {
                raw[at] = value
                at += 1
            }
            func varint(_ value: UInt64) {
                var value = value
                while value >= 0x80 {
                    byte(UInt8(truncatingIfNeeded: value) | 0x80)
                    value >>= 7
                }
                byte(UInt8(value))
            }
            let frameLength = UInt32(4 + headerBytes + call.body.readableBytes)
            for shift in stride(from: 24, through: 0, by: -8) { byte(UInt8(truncatingIfNeeded: frameLength >> UInt32(shift))) }
            for shift in stride(from: 24, through: 0, by: -8) { byte(UInt8(truncatingIfNeeded: UInt32(headerBytes) >> UInt32(shift))) }
            byte(0x08); byte(1)
            byte(0x10); varint(id)
            byte(0x18); varint(UInt64(call.method))
            for value in self.credentialField { byte(value) }
            return at
        }
        self.outgoing.writeImmutableBuffer(call.body)
    }

    /// Hands what `send` wrote to the channel, in one write.
    private func sendPending(context: ChannelHandlerContext) {
        guard self.outgoing.readableBytes > 0 else { return }
        context.writeAndFlush(self.wrapOutboundOut(self.outgoing), promise: nil)
        self.outgoing = context.channel.allocator.buffer(capacity: 4096)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var incoming = self.unwrapInboundIn(data)
        if self.pending.readableBytes == 0 {
            self.pending = incoming
        } else {
            self.pending.writeBuffer(&incoming)
        }
        let now = Self.now()
        var answered = 0
        while let frameLength = self.pending.getInteger(at: self.pending.readerIndex, as: UInt32.self),
              self.pending.readableBytes >= 4 + Int(frameLength),
              let headerLength = self.pending.getInteger(at: self.pending.readerIndex + 4, as: UInt32.self)
        {
            let (callID, status) = parseHeader(self.pending, at: self.pending.readerIndex + 8, length: Int(headerLength))
            self.pending.moveReaderIndex(forwardBy: 4 + Int(frameLength))
            self.complete(callID: callID, status: status, now: now)
            answered += 1
        }
        if self.pending.readableBytes == 0 { self.pending.clear() } else if self.pending.readerIndex > 1 << 16 { self.pending.discardReadBytes() }

        if case .closed = self.pacing, !self.stopped {
            if now < self.window.end {
                for _ in 0..<answered { self.send(context: context, due: now) }
            } else {
                self.finishIfDrained(now: now)
            }
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        self.sendPending(context: context)
    }

    private func complete(callID: UInt64, status: UInt32, now: UInt64) {
        guard callID != 0 else { return }  // GOAWAY
        let slot = Int(callID & UInt64(Self.ringSize - 1))
        let due = self.dueAt[slot]
        self.inFlight -= 1
        // A call counts when it was due inside the window; its latency runs from when it was due.
        guard due >= self.window.start, due < self.window.end else { return }
        self.tally.latency.record(max(1, now &- due))
        self.tally.calls += 1
        if status != 0 {
            self.tally.errors += 1
            self.tally.errorCodes[status, default: 0] += 1
        } else {
            self.tally.checks += Int(self.checksOf[slot])
            if self.writesOf[slot] { self.tally.writes += 1 }
        }
    }

    /// After the window: stop when every call due inside it is answered (or two seconds have passed).
    private func finishIfDrained(now: UInt64) {
        guard !self.stopped, self.inFlight == 0 || now > self.window.end &+ Self.drainLimit else { return }
        self.stopped = true
        if now > self.window.end &+ Self.drainLimit { self.tally.unanswered += self.inFlight }
        self.done.succeed(self.tally)
        self.context?.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        if !self.stopped {
            self.stopped = true
            self.done.succeed(self.tally)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}

func varintSize(_ value: UInt64) -> Int {
    value == 0 ? 1 : (64 - value.leadingZeroBitCount + 6) / 7
}

func appendVarint(_ value: UInt64, to bytes: inout [UInt8]) {
    var value = value
    while value >= 0x80 {
        bytes.append(UInt8(truncatingIfNeeded: value) | 0x80)
        value >>= 7
    }
    bytes.append(UInt8(value))
}

/// The call id (field 2) and status code (field 7) of an encoded FrameHeader; other fields are skipped.
func parseHeader(_ buffer: ByteBuffer, at start: Int, length: Int) -> (callID: UInt64, status: UInt32) {
    var index = start
    let end = start + length
    var callID: UInt64 = 0
    var status: UInt32 = 0
    func varint() -> UInt64 {
        var result: UInt64 = 0
        var shift: UInt64 = 0
        while index < end, let byte = buffer.getInteger(at: index, as: UInt8.self) {
            index += 1
            result |= UInt64(byte & 0x7F) << shift
            if byte & 0x80 == 0 { break }
            shift += 7
        }
        return result
    }
    while index < end {
        let key = varint()
        switch key & 7 {
        case 0:
            let value = varint()
            if key >> 3 == 2 { callID = value } else if key >> 3 == 7 { status = UInt32(truncatingIfNeeded: value) }
        case 2: index += Int(varint())
        case 1: index += 8
        case 5: index += 4
        default: return (callID, status)
        }
    }
    return (callID, status)
}

/// Runs `connections` load connections for warm-up plus `seconds`, and merges what they measured; over
/// TLS with `tls`.
func runLoad(
    group: any EventLoopGroup,
    host: String,
    port: Int,
    credential: String,
    calls: [PreparedCall],
    connections: Int,
    pacing: Pacing,
    warmUp: Double,
    seconds: Double,
    progress: Progress?,
    tls: NIOSSLContext? = nil
) async throws -> (tally: ConnectionTally, seconds: Double) {
    let start = LoadHandler.now() + UInt64(warmUp * 1e9)
    let window = (start: start, end: start + UInt64(seconds * 1e9))
    var futures: [EventLoopFuture<ConnectionTally>] = []
    var pacers: [ObjectIdentifier: Pacer] = [:]
    for index in 0..<connections {
        let loop = group.next()
        let pacer = pacers[ObjectIdentifier(loop)] ?? Pacer(loop: loop)
        pacers[ObjectIdentifier(loop)] = pacer
        let done = loop.makePromise(of: ConnectionTally.self)
        let perConnection: Pacing =
            switch pacing {
            case .closed: pacing
            case .open(let rate): .open(perSecond: rate / Double(connections))
            }
        let first = (index &* 7919) % calls.count
        let channel = try await ClientBootstrap(group: loop)
            .channelOption(.tcpOption(.tcp_nodelay), value: 1)  // SOL_TCP: `.socketOption` would set SO_DEBUG
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    // TLS: the handshake first; the preface and calls written meanwhile wait in the handler.
                    if let tls { try channel.pipeline.syncOperations.addHandler(NIOSSLClientHandler(context: tls, serverHostname: nil)) }
                    let handler = LoadHandler(calls: calls, firstCall: first, pacing: perConnection, credential: credential, window: window, done: done)
                    try channel.pipeline.syncOperations.addHandler(handler)
                    pacer.handlers.append(handler)
                }
            }
            .connect(host: host, port: port).get()
        _ = channel
        futures.append(done.futureResult)
    }
    let ticker = progress.map { progress in
        Task {
            while !Task.isCancelled {
                try? await Task.sleep(for: .milliseconds(500))
                progress.tick(window: window)
            }
        }
    }
    for pacer in pacers.values { pacer.start() }
    var total = ConnectionTally()
    for future in futures { total.add(try await future.get()) }
    for pacer in pacers.values { pacer.stop() }
    ticker?.cancel()
    progress?.clear()
    return (total, seconds)
}

/// One timer per event loop that ticks every connection on it every 50 µs: sends what an open loop
/// has come due, and ends a closed loop whose answers stopped coming. One timer per loop rather than
/// per connection keeps the generator's own cost low at high rates.
final class Pacer: @unchecked Sendable {
    let loop: any EventLoop
    var handlers: [LoadHandler] = []
    private var task: RepeatedTask?

    init(loop: any EventLoop) { self.loop = loop }

    func start() {
        self.loop.execute {
            // Timers on this thread fire when due, not up to the default 50 µs later (prctl is
            // variadic, so not callable from Swift; the /proc file sets the same value).
            try? "1000".write(toFile: "/proc/thread-self/timerslack_ns", atomically: false, encoding: .utf8)
            self.task = self.loop.scheduleRepeatedTask(initialDelay: .zero, delay: .microseconds(50)) { _ in
                let now = LoadHandler.now()
                for handler in self.handlers { handler.tick(now: now) }
            }
        }
    }

    func stop() {
        self.loop.execute { self.task?.cancel() }
    }
}

/// The progress line on standard error while a measurement runs.
final class Progress: Sendable {
    let label: String
    let enabled: Bool

    init(label: String, enabled: Bool) {
        self.label = label
        self.enabled = enabled
    }

    func tick(window: (start: UInt64, end: UInt64)) {
        guard self.enabled else { return }
        let now = LoadHandler.now()
        let phase =
            now < window.start ? "warming up" : now < window.end ? String(format: "%.1f s left", Double(window.end - now) / 1e9) : "draining"
        FileHandle.standardError.write(Data("\r\u{1B}[K  \(self.label): \(phase)".utf8))
    }

    func clear() {
        guard self.enabled else { return }
        FileHandle.standardError.write(Data("\r\u{1B}[K".utf8))
    }
}
