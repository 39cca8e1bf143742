import Logging
import PorticoCore

/// Logs every committed write at info (who, what, at which revision: never a name or a secret) and
/// every store failure at error, and records the store's figures in the server's metrics.
struct CommitReporter: CommitObserver {
    let logger: Logger
    let metrics: ServerMetrics?

    func committed(_ changes: [Change], storeTime: Duration, publishTime: Duration) {
        self.metrics?.committed(changes: changes.count, storeTime: storeTime, publishTime: publishTime)
        guard self.logger.logLevel <= .info else { return }
        for change in changes {
            var metadata = change.caller.logMetadata
            metadata["operation"] = "\(change.command.name)"
            metadata["revision"] = "\(change.revision)"
            self.logger.info("write committed", metadata: metadata)
        }
    }

    func commitFailed(_ changes: [Change], error: any Error, storeTime: Duration) {
        self.metrics?.commitFailed()
        self.logger.error(
            "the store failed: writes refused",
            metadata: [
                "changes": "\(changes.count)",
                "first_revision": "\(changes.first?.revision ?? 0)",
                "error": "\(error)",
            ]
        )
    }
}

extension Caller {
    /// The caller's kind and id, as log fields.
    var logMetadata: Logger.Metadata {
        switch self {
        case .operator:
            ["caller_kind": "operator"]
        case .service(let credential, nil):
            ["caller_kind": "service", "caller_id": "\(credential)"]
        case .service(let credential, let person?):
            ["caller_kind": "service", "caller_id": "\(credential)", "on_behalf_of": "\(person)"]
        case .systemUser(let token):
            ["caller_kind": "token", "caller_id": "\(token)"]
        }
    }
}
