/// A storage fault: what went wrong, where, and SQLite's own words for it.
public struct StoreError: Error, Hashable, Sendable, CustomStringConvertible {
    /// What kind of fault, kept open for additions by hiding the enum.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Wrapped: String, Hashable, Sendable {
            case cannotOpen = "CANNOT_OPEN"
            case notPortico = "NOT_PORTICO"
            case newerSchema = "NEWER_SCHEMA"
            case sqlite = "SQLITE"
            case outOfOrder = "OUT_OF_ORDER"
            case corrupt = "CORRUPT"
            case closed = "CLOSED"
            case notEmpty = "NOT_EMPTY"
            case locked = "LOCKED"
        }

        private let wrapped: Wrapped
        private init(_ wrapped: Wrapped) { self.wrapped = wrapped }

        /// The file or its directory cannot be opened or created.
        public static let cannotOpen = Code(.cannotOpen)
        /// The file is a SQLite database of something else.
        public static let notPortico = Code(.notPortico)
        /// The file was written by a newer Portico, with a schema this one does not know.
        public static let newerSchema = Code(.newerSchema)
        /// SQLite refused a statement (full disk, read-only file, I/O error...).
        public static let sqlite = Code(.sqlite)
        /// A batch does not continue the stored revisions.
        public static let outOfOrder = Code(.outOfOrder)
        /// A stored row cannot be decoded.
        public static let corrupt = Code(.corrupt)
        /// The store was closed.
        public static let closed = Code(.closed)
        /// An import needs an empty store.
        public static let notEmpty = Code(.notEmpty)
        /// Another process holds the data directory.
        public static let locked = Code(.locked)

        public var description: String { wrapped.rawValue }
    }

    public var code: Code
    public var message: String
    /// SQLite's result code, when SQLite reported the fault.
    public var sqliteCode: Int32?

    public init(_ code: Code, _ message: String, sqliteCode: Int32? = nil) {
        self.code = code
        self.message = message
        self.sqliteCode = sqliteCode
    }

    public var description: String {
        "\(code): \(message)" + (sqliteCode.map { " (SQLite code \($0))" } ?? "")
    }
}
