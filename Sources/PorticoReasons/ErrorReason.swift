/// Every machine-readable reason Portico sends in `ErrorDetail.reason` (or reports to a client's caller),
/// with the status it comes with and Meta's error code and subcode where Meta defines one: the one list,
/// which docs/errors.md shows (a test compares the two).
///
/// It is a module of its own, below both the core and the wire runtime, because both raise reasons and
/// neither may import the other (`PorticoCore` knows no protobuf, `PorticoWire` no domain). The server
/// derives the status and Meta code it sends from this list; an error raised with a status that differs
/// from its reason's is a programming error (asserted where errors are made).
public enum ErrorReason: String, CaseIterable, Hashable, Sendable {
    // Credentials.
    case missingCredential = "MISSING_CREDENTIAL"
    case tokenInvalid = "TOKEN_INVALID"
    case tokenRevoked = "TOKEN_REVOKED"
    case tokenExpired = "TOKEN_EXPIRED"
    case credentialInvalid = "CREDENTIAL_INVALID"
    case onBehalfOfNotAllowed = "ON_BEHALF_OF_NOT_ALLOWED"
    // Who may call what.
    case permissionDenied = "PERMISSION_DENIED"
    case notShared = "NOT_SHARED"
    case exceedsShare = "EXCEEDS_SHARE"
    // Arguments.
    case invalidArgument = "INVALID_ARGUMENT"
    case invalidName = "INVALID_NAME"
    case invalidTask = "INVALID_TASK"
    case invalidPageLimit = "INVALID_PAGE_LIMIT"
    case noScopes = "NO_SCOPES"
    case notASystemUser = "NOT_A_SYSTEM_USER"
    case wrongPrincipalKind = "WRONG_PRINCIPAL_KIND"
    case roleFixed = "ROLE_FIXED"
    case selfPartner = "SELF_PARTNER"
    case selfShare = "SELF_SHARE"
    case invalidExternalID = "INVALID_EXTERNAL_ID"
    case invalidExpiry = "INVALID_EXPIRY"
    case invalidIdempotencyKey = "INVALID_IDEMPOTENCY_KEY"
    // What exists.
    case notFound = "NOT_FOUND"
    case alreadyPartner = "ALREADY_PARTNER"
    case requestPending = "REQUEST_PENDING"
    case externalIDTaken = "EXTERNAL_ID_TAKEN"
    // The state a change needs.
    case portfolioDisabled = "PORTFOLIO_DISABLED"
    case portfolioRestricted = "PORTFOLIO_RESTRICTED"
    case systemUsersNotAvailable = "SYSTEM_USERS_NOT_AVAILABLE"
    case appRequired = "APP_REQUIRED"
    case notPartner = "NOT_PARTNER"
    case requestDecided = "REQUEST_DECIDED"
    case alreadyRevoked = "ALREADY_REVOKED"
    case tierTooLow = "TIER_TOO_LOW"
    case externalIDImmutable = "EXTERNAL_ID_IMMUTABLE"
    case idempotencyKeyReused = "IDEMPOTENCY_KEY_REUSED"
    // Limits.
    case systemUserLimit = "SYSTEM_USER_LIMIT"
    case adminSystemUserExists = "ADMIN_SYSTEM_USER_EXISTS"
    case tooManyCalls = "TOO_MANY_CALLS"
    case frameTooLarge = "FRAME_TOO_LARGE"
    case watchTooSlow = "WATCH_TOO_SLOW"
    // Calls and frames.
    case malformedMessage = "MALFORMED_MESSAGE"
    case nulInString = "NUL_IN_STRING"
    case invalidUTF8 = "INVALID_UTF8"
    case unknownEnumValue = "UNKNOWN_ENUM_VALUE"
    case duplicateField = "DUPLICATE_FIELD"
    case nestingTooDeep = "NESTING_TOO_DEEP"
    case malformedFrame = "MALFORMED_FRAME"
    case truncatedFrame = "TRUNCATED_FRAME"
    case malformedHeader = "MALFORMED_HEADER"
    case badPreface = "BAD_PREFACE"
    case protocolViolation = "PROTOCOL_VIOLATION"
    case duplicateCallID = "DUPLICATE_CALL_ID"
    case unknownMethod = "UNKNOWN_METHOD"
    case unsupportedProtocolVersion = "UNSUPPORTED_PROTOCOL_VERSION"
    // Time and availability.
    case deadlineExceeded = "DEADLINE_EXCEEDED"
    case frameTimeout = "FRAME_TIMEOUT"
    case clientDeadlineExceeded = "CLIENT_DEADLINE_EXCEEDED"
    case goingAway = "GOING_AWAY"
    case loading = "LOADING"
    case revisionNotVisible = "REVISION_NOT_VISIBLE"
    case storeFailed = "STORE_FAILED"
    case commitUncertain = "COMMIT_UNCERTAIN"
    case reloading = "RELOADING"
    // Faults.
    case `internal` = "INTERNAL"
    case encodingFailed = "ENCODING_FAILED"
    case foreignString = "FOREIGN_STRING"
    case replayMismatch = "REPLAY_MISMATCH"
    case checkpointInvalid = "CHECKPOINT_INVALID"
    case storeOrder = "STORE_ORDER"
    case undecodableResponse = "UNDECODABLE_RESPONSE"

    /// The gRPC canonical status a reason is answered with.
    public enum Status: Int32, CaseIterable, Hashable, Sendable {
        case invalidArgument = 3
        case deadlineExceeded = 4
        case notFound = 5
        case alreadyExists = 6
        case permissionDenied = 7
        case resourceExhausted = 8
        case failedPrecondition = 9
        case unimplemented = 12
        case `internal` = 13
        case unavailable = 14
        case unauthenticated = 16

        /// gRPC's spelling, e.g. `PERMISSION_DENIED`.
        public var name: String {
            switch self {
            case .invalidArgument: "INVALID_ARGUMENT"
            case .deadlineExceeded: "DEADLINE_EXCEEDED"
            case .notFound: "NOT_FOUND"
            case .alreadyExists: "ALREADY_EXISTS"
            case .permissionDenied: "PERMISSION_DENIED"
            case .resourceExhausted: "RESOURCE_EXHAUSTED"
            case .failedPrecondition: "FAILED_PRECONDITION"
            case .unimplemented: "UNIMPLEMENTED"
            case .internal: "INTERNAL"
            case .unavailable: "UNAVAILABLE"
            case .unauthenticated: "UNAUTHENTICATED"
            }
        }
    }

    /// Meta's numeric error code and subcode (Graph API), where Meta defines one for the case.
    public struct MetaCode: Hashable, Sendable {
        public let code: Int32
        public let subcode: Int32?
    }

    /// The status this reason is sent with.
    public var status: Status {
        switch self {
        case .missingCredential, .tokenInvalid, .tokenRevoked, .tokenExpired, .credentialInvalid: .unauthenticated
        case .onBehalfOfNotAllowed, .permissionDenied, .notShared, .exceedsShare: .permissionDenied
        case .invalidArgument, .invalidName, .invalidTask, .invalidPageLimit, .noScopes, .notASystemUser,
            .wrongPrincipalKind, .roleFixed, .selfPartner, .selfShare, .invalidExternalID, .invalidExpiry,
            .invalidIdempotencyKey, .malformedMessage, .nulInString, .invalidUTF8,
            .unknownEnumValue, .duplicateField, .nestingTooDeep, .malformedFrame, .truncatedFrame, .malformedHeader,
            .badPreface, .protocolViolation, .duplicateCallID:
            .invalidArgument
        case .notFound: .notFound
        case .alreadyPartner, .requestPending, .externalIDTaken: .alreadyExists
        case .portfolioDisabled, .portfolioRestricted, .systemUsersNotAvailable, .appRequired, .notPartner,
            .requestDecided, .alreadyRevoked, .tierTooLow, .externalIDImmutable, .idempotencyKeyReused:
            .failedPrecondition
        case .systemUserLimit, .adminSystemUserExists, .tooManyCalls, .frameTooLarge, .watchTooSlow:
            .resourceExhausted
        case .unknownMethod, .unsupportedProtocolVersion: .unimplemented
        case .deadlineExceeded, .clientDeadlineExceeded, .frameTimeout: .deadlineExceeded
        case .goingAway, .loading, .revisionNotVisible, .storeFailed, .commitUncertain, .reloading: .unavailable
        case .internal, .encodingFailed, .foreignString, .replayMismatch, .checkpointInvalid, .storeOrder,
            .undecodableResponse:
            .internal
        }
    }

    /// Meta's error code and subcode for this reason, or nil where Meta has none.
    public var meta: MetaCode? {
        switch self {
        case .missingCredential: MetaCode(code: 190, subcode: nil)
        case .tokenInvalid, .tokenRevoked, .credentialInvalid: MetaCode(code: 190, subcode: 467)
        case .tokenExpired: MetaCode(code: 190, subcode: 463)
        case .onBehalfOfNotAllowed, .permissionDenied, .notShared, .exceedsShare: MetaCode(code: 200, subcode: nil)
        case .invalidTask: MetaCode(code: 100, subcode: 1_752_129)
        case .invalidArgument, .invalidName, .invalidPageLimit, .noScopes, .notASystemUser, .wrongPrincipalKind,
            .roleFixed, .selfPartner, .selfShare, .invalidExternalID, .invalidExpiry, .invalidIdempotencyKey,
            .notFound:
            MetaCode(code: 100, subcode: nil)
        case .tooManyCalls: MetaCode(code: 4, subcode: nil)
        default: nil
        }
    }

    /// When the reason is given, for the table of docs/errors.md.
    public var meaning: String {
        switch self {
        case .missingCredential: "the call needs a credential and the header has none"
        case .tokenInvalid: "the credential names no token, service credential or operator key of this server"
        case .tokenRevoked: "the token was revoked (by itself, with all of its system user's, or with its system user)"
        case .tokenExpired: "the token's 60 days are over"
        case .credentialInvalid: "the service credential was revoked"
        case .onBehalfOfNotAllowed: "`on_behalf_of_person_id` with a credential other than a service credential"
        case .permissionDenied: "the caller may not do this, or see what it names (whether it exists or not)"
        case .notShared: "the asset is not shared with the principal's portfolio (or the caller may not know it)"
        case .exceedsShare: "an assignment on a partner's asset asks for more than the owner shared"
        case .invalidArgument: "a required field is missing or out of range (`ErrorDetail.field` names it)"
        case .invalidName: "a name is empty or longer than 200 characters (Unicode code points)"
        case .invalidTask: "a task is not one of the asset type's tasks"
        case .invalidPageLimit: "a page limit outside 1 to 1,000"
        case .noScopes: "a token without any scope"
        case .notASystemUser: "a token asked for a person"
        case .wrongPrincipalKind: "a principal named as the kind it is not (a person as a system user, or the reverse)"
        case .roleFixed: "a system user's role cannot change (SetPersonRole of a system user)"
        case .selfPartner: "a portfolio cannot be its own partner"
        case .selfShare: "a portfolio cannot share with itself, nor ask itself for a share"
        case .invalidExternalID: "an external id is empty, over 128 characters, or not from A-Z a-z 0-9 . _ - :"
        case .invalidExpiry: "an assignment's expiry is not after the server's clock"
        case .invalidIdempotencyKey: "an idempotency key over 128 characters, or not printable ASCII"
        case .notFound: "what the call names does not exist (told only to a caller who could see it)"
        case .alreadyPartner: "the portfolio has added this partner already"
        case .requestPending: "a request for this asset by this portfolio is already pending"
        case .externalIDTaken: "another entity of its kind in the portfolio has this external id (a portfolio: any)"
        case .portfolioDisabled: "the portfolio, or the partner, is DISABLED"
        case .portfolioRestricted: "the portfolio is RESTRICTED: no change that adds access or members"
        case .systemUsersNotAvailable: "the portfolio's tier is NONE: no system users"
        case .appRequired: "a system user needs an app of its portfolio first"
        case .notPartner: "the owner has not added the portfolio it shares with as a partner"
        case .requestDecided: "the share request was approved or declined already"
        case .alreadyRevoked: "the token or service credential was revoked already"
        case .tierTooLow: "the portfolio has more system users than the new tier allows"
        case .externalIDImmutable: "the entity has an external id already; it never changes"
        case .idempotencyKeyReused: "the caller used this idempotency key for another request within the window"
        case .systemUserLimit: "the tier's regular system users are all taken"
        case .adminSystemUserExists: "the portfolio has its one admin system user already"
        case .tooManyCalls: "the connection has as many calls in flight as the server allows"
        case .frameTooLarge: "a frame over the maximum size (the connection is closed), or an answer that would be"
        case .watchTooSlow:
            "a Watch stream's client left more unread than the stream may buffer; resume from `resume_revision`"
        case .malformedMessage: "a body does not decode as the RPC's request"
        case .nulInString: "a string holds a NUL character"
        case .invalidUTF8: "a string is not valid UTF-8"
        case .unknownEnumValue: "an enum value this version does not know"
        case .duplicateField: "a message field that is not repeated appears twice in a body (refused, not merged)"
        case .nestingTooDeep: "messages nested more than 32 deep in a body"
        case .malformedFrame: "a frame's lengths do not fit together (the connection is closed)"
        case .truncatedFrame: "the connection closed in the middle of a frame"
        case .malformedHeader: "a frame header does not decode (the connection is closed)"
        case .badPreface: "the connection did not open with the Portico preface (closed)"
        case .protocolViolation: "a frame a client may not send, or a call id of 0 (the connection is closed)"
        case .duplicateCallID: "the call id is already in flight on the connection"
        case .unknownMethod: "the header's method names no RPC"
        case .unsupportedProtocolVersion: "the preface asks for another protocol version (closed)"
        case .deadlineExceeded: "the call's `timeout_micros` passed before it was answered"
        case .frameTimeout: "a frame (or the preface) did not arrive whole in time (the connection is closed)"
        case .clientDeadlineExceeded: "reported by the Swift client: no answer within the call's timeout"
        case .goingAway:
            "the server is shutting down and takes no new call (a Watch stream ends: resume from `resume_revision`)"
        case .loading: "the server is still loading its state; retry shortly"
        case .revisionNotVisible:
            "the server has not reached the call's `min_revision` (or a Watch's `after_revision`) yet"
        case .storeFailed: "the store did not make the change durable; nothing was applied"
        case .commitUncertain:
            "the connection to PostgreSQL broke during COMMIT: the change may or may not be in the log "
                + "(see docs/scale-out.md)"
        case .reloading: "this node found its copy of the shared log inconsistent and reloads it; other nodes serve"
        case .internal: "a fault of the server"
        case .encodingFailed: "the answer could not be encoded"
        case .foreignString: "a fault of the wire runtime: a string outside its arena"
        case .replayMismatch: "a stored change does not replay (at start-up)"
        case .checkpointInvalid: "a checkpoint does not restore (at start-up: the previous one or the log is used)"
        case .storeOrder: "a store was handed changes out of revision order"
        case .undecodableResponse: "reported by the Swift client: an answer that does not decode"
        }
    }
}
