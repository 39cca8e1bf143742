public import Foundation

/// Programs a test runs to their end (a Python script, the C example, a code generator).
public enum ChildProgram {
    /// Runs `executable` to its end on a thread of its own, so that waiting for it never holds one of
    /// the few threads the server's tasks and actors run on; returns its exit status and its output
    /// (standard output and standard error together).
    /// - Parameters:
    ///   - environment: added to this process's environment.
    ///   - directory: its working directory.
    public static func run(
        _ executable: String,
        _ arguments: [String],
        environment: [String: String] = [:],
        directory: URL
    ) async throws -> (Int32, String) {
        try await withCheckedThrowingContinuation { continuation in
            let thread = Thread {
                continuation.resume(
                    with: Result {
                        let output = Pipe()
                        let writing = output.fileHandleForWriting.fileDescriptor
                        let process = try ChildProcess(
                            executable, arguments,
                            environment: ProcessInfo.processInfo.environment.merging(environment) { $1 },
                            directory: directory.path, stdout: .descriptor(writing), stderr: .descriptor(writing))
                        try output.fileHandleForWriting.close()
                        let data = output.fileHandleForReading.readDataToEndOfFile()
                        process.waitUntilExit()
                        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
                    })
            }
            thread.start()
        }
    }
}
