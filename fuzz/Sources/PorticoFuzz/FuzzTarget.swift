import PorticoWire

/// The arena every input is decoded with, as a connection keeps one: state it carries from one message
/// to the next (its recent strings, its chunks) is under test too.
///
/// libFuzzer calls the entry point from one thread, one input at a time, so nothing shares it.
nonisolated(unsafe) private let arena = WireArena()

/// libFuzzer's entry point: one input, checked against every promise of ``WireInvariants``. A broken
/// promise stops the process, and libFuzzer keeps the input that broke it.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let input = UnsafeRawBufferPointer(start: data, count: size)
    if let violation = WireInvariants.check(input, arena: arena) {
        fatalError("wire invariant broken: \(violation)")
    }
    return 0
}
