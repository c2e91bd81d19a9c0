import Foundation

/// Where a store keeps its calls and values: the embedded SQLite database, a
/// PostgreSQL server, or memory.
///
/// A backend only stores and loads; hashing, the memory layer, single flight
/// and events live in ``Store``, in front of every backend. Implementations must
/// be safe to call from many threads at once.
public protocol StoreBackend: Sendable {
  /// Where the backend keeps its data, for messages (a path or a URL).
  var location: String { get }

  /// Returns the stored result of the call with this id, or `nil` when the store
  /// has no complete record of it.
  ///
  /// This is the lookup every memoized call makes, so it reads only what a hit
  /// needs; the full ``CallRecord`` is for queries.
  ///
  /// A backend checks the integrity of values it keeps outside its database.
  /// When the output's bytes do not hash to its cid, it moves them out of the
  /// store (so that the call is recomputed and stored again) and throws.
  ///
  /// - Throws: ``RecallError/corruptValue`` when the output failed its
  ///   integrity check, or another ``RecallError`` when the store cannot be read.
  func loadResult(_ id: CallID) throws -> StoredResult?

  /// Stores a call and the values it names, atomically: either the call and
  /// every value it needs are stored, or nothing is.
  ///
  /// A call with the same id replaces the stored one; values already stored are
  /// kept (one copy per cid).
  func record(_ call: CallRecord, values: [EncodedValue]) throws

  /// Stores a call like ``record(_:values:)``, possibly after returning, so
  /// that a backend can commit several calls at once; calls `completion` with
  /// `nil` once the call is stored, or with the error that kept it from being
  /// stored, on any thread.
  ///
  /// Until then, ``loadResult(_:)`` and ``claim(_:of:by:at:until:replacing:)``
  /// of this backend see the call as stored, and its other methods wait for
  /// it. A backend without batching stores it before returning (the default).
  /// Keep the backend (or ``flush()`` it) until the completion is called: a
  /// batching backend released before fails the calls it still holds.
  func record(
    _ call: CallRecord, values: [EncodedValue], completion: @escaping @Sendable ((any Error)?) -> Void)

  /// Waits until every call given to ``record(_:values:completion:)`` is
  /// stored or has failed. The default returns at once.
  func flush()

  /// Counts what the store holds.
  func summary() throws -> StoreSummary

  // MARK: Claims

  /// Whether other processes may use this store at the same time, so that a
  /// miss must claim its call before running it (``ClaimPolicy``).
  var isShared: Bool { get }

  /// Claims a call for `claimant` until `expiry`, atomically: returns
  /// ``ClaimOutcome/stored`` when the store has a complete record of the call,
  /// ``ClaimOutcome/held(_:)`` when another claimant's lease on it runs past
  /// `now` (unless that claimant is `dead`), and otherwise takes (or takes
  /// over) the claim and returns ``ClaimOutcome/acquired``.
  ///
  /// ``record(_:values:)`` ends the claim on the call it stores, in the same
  /// transaction, so a waiter sees either the claim or the result.
  ///
  /// - Parameter dead: A claimant known to have died (its process is gone),
  ///   whose claim is taken over before its lease runs out.
  func claim(
    _ id: CallID, of op: OpID, by claimant: Claimant, at now: Date, until expiry: Date,
    replacing dead: Claimant?
  ) throws -> ClaimOutcome

  /// Extends every claim `claimant` holds to `expiry` (the heartbeat); returns
  /// how many it still holds.
  @discardableResult
  func renewClaims(by claimant: Claimant, until expiry: Date) throws -> Int

  /// Ends `claimant`'s claim on a call without storing it (the body threw, or
  /// its result could not be stored), so a waiter runs the call itself.
  func releaseClaim(_ id: CallID, by claimant: Claimant) throws

  /// Returns the claims whose leases run past `now`: the calls being computed.
  func claims(at now: Date) throws -> [Claim]

  // MARK: Queries

  /// Lists every op the store has calls or versions of, by name.
  func ops() throws -> [OpSummary]

  /// Returns the stored calls that match a query, most recent first. Backends
  /// answer from indexed tables, without decoding values.
  func calls(_ query: CallQuery) throws -> [CallRecord]

  /// Returns the stored bytes of a value, or `nil` when the store does not
  /// have it.
  func value(_ cid: ContentID) throws -> [UInt8]?

  // MARK: Managing

  /// Deletes calls (and their inputs), atomically; their values stay until
  /// ``collectGarbage(keepingFilesNewerThan:)``. Returns how many were deleted.
  func forget(_ calls: [CallID]) throws -> Int

  /// Deletes the values no call uses (as input or output) and no tag names,
  /// and blob files that no value row names and that are older than the given
  /// date (a writer may be about to commit them). A call recorded while this
  /// runs keeps every value it needs.
  func collectGarbage(keepingFilesNewerThan date: Date) throws -> GarbageReport

  /// Names a call or a value, replacing an earlier tag of the same name.
  func setTag(_ tag: StoreTag) throws

  /// Returns every tag, by name.
  func tags() throws -> [StoreTag]

  /// Removes a tag; returns whether it existed.
  func removeTag(named name: String) throws -> Bool

  // MARK: Use

  /// Adds counts of use to the store's record: each count is added to the one
  /// stored for its op and ``OpUsage/period`` (the start of an hour), in one
  /// transaction.
  func addUsage(_ usage: [OpUsage]) throws

  /// Returns the stored counts of use, one per op and hour, oldest first and
  /// by op name within an hour.
  ///
  /// - Parameters:
  ///   - op: Only this op's counts; every op's when `nil`.
  ///   - since: Only the hours that end after this date.
  func usage(of op: OpID?, since: Date?) throws -> [OpUsage]

  // MARK: Code versions

  /// Records that a process runs an op version, and returns the semantic
  /// version its calls are filed under.
  ///
  /// Called once per op version, store and process, when a call of the
  /// version first misses (hits are looked up under the version itself until
  /// then, and cost no query), and again after an accepted change
  /// (``acceptCount()``). Atomically:
  /// - when the store knows the version, it returns its semantic version, and
  ///   records that the registration's program (its location) ran it at
  ///   `date` unless it is already that program's last version (so that the
  ///   common case only reads);
  /// - otherwise it stores the version with its components, the semantic
  ///   version that ``VersionRegistration/semanticVersion(among:lastHere:components:componentsOf:)``
  ///   gives (the rule is there, not in the backend), and the program's
  ///   location, and returns that semantic version.
  func registerVersion(_ registration: VersionRegistration, at date: Date) throws -> CodeFingerprint

  /// Records that processes used op versions (their hits: a miss registers
  /// its version): each version's last-seen date becomes `date` unless it is
  /// later already, and each location's last version becomes this one unless
  /// the location's version was taken up by a process that started using it
  /// later (``VersionSighting/since``). Versions the store does not know are
  /// left out.
  func sawVersions(_ sightings: [VersionSighting], at date: Date) throws

  /// A number that every accepted change (``accept(_:version:as:)``) raises,
  /// in any process: a running process compares it at each miss and looks
  /// its ops' semantic versions up again when it moved.
  func acceptCount() throws -> Int

  /// Returns the versions of an op the store has seen, oldest first, with the
  /// current ones marked (``OpVersion/markingCurrent(_:locations:)``). With
  /// `countingCalls`, each has its number of stored calls (which reads every
  /// call of the op); without, ``OpVersion/calls`` is 0.
  func versions(of op: OpID, countingCalls: Bool) throws -> [OpVersion]

  /// Returns the components an op version covers, sorted by identity, or `nil`
  /// when the store has not seen the version.
  func components(of op: OpID, version: CodeFingerprint) throws -> [CodeComponent]?

  /// Returns the full record of a stored call, or `nil`.
  func call(_ id: CallID) throws -> CallRecord?

  /// Makes `version` equivalent to `base`: every version in `version`'s class
  /// joins `base`'s class, and their calls are filed under `base`'s semantic
  /// version (``CallID/init(op:semanticVersion:trial:keyFields:)``); a call
  /// that would collide with one already filed there is dropped, since the two
  /// are equivalent by the user's word. With `base == version`, the version
  /// leaves its class and takes back the calls it ran.
  ///
  /// - Throws: ``RecallError/notFound`` when the store has not seen either
  ///   version.
  func accept(_ op: OpID, version: CodeFingerprint, as base: CodeFingerprint) throws
}

/// What a hit needs of a stored call: its output and how long it took.
public struct StoredResult: Sendable {
  /// The output value's content id.
  public var cid: ContentID
  /// The output value's history id.
  public var hid: HistoryID
  /// How long the call's body ran, in seconds.
  public var duration: Double
  /// The output's bytes, in memory or mapped from a blob file.
  package var storage: StoredBytes

  /// The output value's stored bytes. For a large value that the store mapped
  /// from its file, this is a copy; ``withUnsafeBytes(_:)`` is not.
  public var bytes: [UInt8] {
    get { storage.array }
    set { storage = .array(newValue) }
  }

  /// The size of the output value's stored bytes.
  public var size: Int { storage.count }

  /// Calls `body` with the output value's stored bytes, without copying them.
  public func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
    try storage.withUnsafeBytes(body)
  }

  /// Creates a stored result.
  public init(cid: ContentID, hid: HistoryID, bytes: [UInt8], duration: Double) {
    self.init(cid: cid, hid: hid, storage: .array(bytes), duration: duration)
  }

  /// The check of a large blob's checksum, still running while the result
  /// is decoded (``confirm()``).
  package var pendingChecksum: PendingChecksum?

  /// Creates a stored result whose bytes may be a mapped file.
  package init(
    cid: ContentID, hid: HistoryID, storage: StoredBytes, duration: Double, pendingChecksum: PendingChecksum? = nil
  ) {
    self.cid = cid
    self.hid = hid
    self.storage = storage
    self.duration = duration
    self.pendingChecksum = pendingChecksum
  }

  /// Waits for the integrity check of the bytes, when it runs alongside their
  /// decoding; throws ``RecallError/corruptValue`` when they fail it (the
  /// backend has then quarantined them).
  package func confirm() throws {
    try pendingChecksum?.confirm()
  }
}

/// One execution record: what was called, with what, what it returned, when and
/// where.
public struct CallRecord: Sendable, Hashable {
  /// The call's id (its key).
  public var id: CallID
  /// The op.
  public var op: OpID
  /// The op version the call ran with.
  public var opVersion: CodeFingerprint
  /// The semantic version the call is filed under (lookups use it).
  public var semanticVersion: CodeFingerprint
  /// The trial.
  public var trial: Int
  /// The inputs, by parameter name.
  public var inputs: [CallInput]
  /// The output value's content id.
  public var outputCID: ContentID
  /// The output value's history id.
  public var outputHID: HistoryID
  /// The size in bytes of the output's encoding.
  public var outputSize: Int
  /// When the body started.
  public var startedAt: Date
  /// How long the body ran, in seconds.
  public var duration: Double
  /// The host that ran the body.
  public var host: String
  /// The process id that ran the body.
  public var pid: Int
  /// The fields of the call's key after the op's (the inputs' names and cids,
  /// and the types in the key), as hashed: with the op, semantic version and
  /// trial they give the id, so a store can file the call under another
  /// semantic version (``CallID/init(op:semanticVersion:trial:keyFields:)``).
  /// `nil` for calls recorded before Recall kept them.
  public var keyFields: [UInt8]?

  /// Creates a call record.
  public init(
    id: CallID, op: OpID, opVersion: CodeFingerprint, semanticVersion: CodeFingerprint,
    trial: Int, inputs: [CallInput], outputCID: ContentID, outputHID: HistoryID,
    outputSize: Int, startedAt: Date, duration: Double, host: String, pid: Int,
    keyFields: [UInt8]? = nil
  ) {
    self.keyFields = keyFields
    self.id = id
    self.op = op
    self.opVersion = opVersion
    self.semanticVersion = semanticVersion
    self.trial = trial
    self.inputs = inputs
    self.outputCID = outputCID
    self.outputHID = outputHID
    self.outputSize = outputSize
    self.startedAt = startedAt
    self.duration = duration
    self.host = host
    self.pid = pid
  }
}

/// One input of a call.
public struct CallInput: Sendable, Hashable {
  /// The parameter name (`self` for the receiver of an instance method).
  public var name: String
  /// The input value's content id.
  public var cid: ContentID
  /// The input value's history id.
  public var hid: HistoryID

  /// Creates a call input.
  public init(name: String, cid: ContentID, hid: HistoryID) {
    self.name = name
    self.cid = cid
    self.hid = hid
  }
}

extension StoreBackend {
  /// Stores the call before returning, then calls `completion`.
  public func record(
    _ call: CallRecord, values: [EncodedValue], completion: @escaping @Sendable ((any Error)?) -> Void
  ) {
    do {
      try record(call, values: values)
      completion(nil)
    } catch {
      completion(error)
    }
  }

  /// Returns at once: the backend stores calls before returning.
  public func flush() {}
}

/// What a store holds.
public struct StoreSummary: Sendable, Hashable {
  /// Stored calls.
  public var calls: Int
  /// Stored values (one per cid).
  public var values: Int
  /// Bytes of stored values.
  public var bytes: Int

  /// Creates a summary.
  public init(calls: Int, values: Int, bytes: Int) {
    self.calls = calls
    self.values = values
    self.bytes = bytes
  }
}

/// What a store holds of one op.
public struct OpSummary: Sendable, Hashable {
  /// The op.
  public var op: OpID
  /// Stored calls.
  public var calls: Int
  /// Versions seen.
  public var versions: Int
  /// Bytes of the calls' outputs, as encoded (a value shared by several calls
  /// counts for each).
  public var outputBytes: Int
  /// When the most recent stored call started.
  public var lastCall: Date?
  /// The summed duration of the stored calls: what recomputing them would cost.
  public var computeTime: Duration

  /// Creates a summary.
  public init(
    op: OpID, calls: Int, versions: Int, outputBytes: Int, lastCall: Date?, computeTime: Duration = .zero
  ) {
    self.op = op
    self.calls = calls
    self.versions = versions
    self.outputBytes = outputBytes
    self.lastCall = lastCall
    self.computeTime = computeTime
  }
}

/// Which stored calls to list (``StoreBackend/calls(_:)``): every condition
/// given must hold.
public struct CallQuery: Sendable, Hashable {
  /// Calls of this op.
  public var op: OpID?
  /// Calls made with this op version.
  public var opVersion: CodeFingerprint?
  /// Calls filed under this semantic version.
  public var semanticVersion: CodeFingerprint?
  /// Calls filed under any semantic version but this one (stale calls, given
  /// the current version's).
  public var semanticVersionOtherThan: CodeFingerprint?
  /// Calls with these inputs, by parameter name.
  public var inputs: [String: ContentID]
  /// Calls whose id starts with this hexadecimal prefix.
  public var idPrefix: String?

  /// The ids ``idPrefix`` selects, as a closed range of digests for a
  /// backend's index: the prefix padded with the lowest and the highest
  /// digits; a prefix that is not hexadecimal gives a range with nothing in
  /// it. `nil` without a prefix.
  public var idRange: (lower: Digest, upper: Digest)? {
    guard let prefix = idPrefix else { return nil }
    let hex = prefix.lowercased()
    guard hex.count <= 64, hex.allSatisfy(\.isHexDigit),
      let lower = Digest(hex: hex.padding(toLength: 64, withPad: "0", startingAt: 0)),
      let upper = Digest(hex: hex.padding(toLength: 64, withPad: "f", startingAt: 0))
    else {
      return (Digest(bytes: [UInt8](repeating: 0xff, count: 32))!, Digest(bytes: [UInt8](repeating: 0, count: 32))!)
    }
    return (lower, upper)
  }
  /// Calls that produced this value.
  public var outputCID: ContentID?
  /// Calls whose output has this history: the call that produced it.
  public var outputHID: HistoryID?
  /// Calls with an input that has this history: the calls that used the
  /// output of the call that produced it.
  public var inputHID: HistoryID?
  /// Calls with an input of this value, whatever its history.
  public var inputCID: ContentID?
  /// At most this many calls.
  public var limit: Int?

  /// Creates a query.
  public init(
    op: OpID? = nil, opVersion: CodeFingerprint? = nil, semanticVersion: CodeFingerprint? = nil,
    semanticVersionOtherThan: CodeFingerprint? = nil, inputs: [String: ContentID] = [:],
    idPrefix: String? = nil, outputCID: ContentID? = nil, outputHID: HistoryID? = nil,
    inputHID: HistoryID? = nil, inputCID: ContentID? = nil, limit: Int? = nil
  ) {
    self.outputHID = outputHID
    self.inputHID = inputHID
    self.inputCID = inputCID
    self.op = op
    self.opVersion = opVersion
    self.semanticVersion = semanticVersion
    self.semanticVersionOtherThan = semanticVersionOtherThan
    self.inputs = inputs
    self.idPrefix = idPrefix
    self.outputCID = outputCID
    self.limit = limit
  }

  /// Whether a call matches (for backends that filter in memory).
  public func matches(_ call: CallRecord) -> Bool {
    if let op, call.op != op { return false }
    if let opVersion, call.opVersion != opVersion { return false }
    if let semanticVersion, call.semanticVersion != semanticVersion { return false }
    if let semanticVersionOtherThan, call.semanticVersion == semanticVersionOtherThan { return false }
    if let idPrefix, !call.id.hex.hasPrefix(idPrefix.lowercased()) { return false }
    if let outputCID, call.outputCID != outputCID { return false }
    if let outputHID, call.outputHID != outputHID { return false }
    if let inputHID, !call.inputs.contains(where: { $0.hid == inputHID }) { return false }
    if let inputCID, !call.inputs.contains(where: { $0.cid == inputCID }) { return false }
    for (name, cid) in inputs where !call.inputs.contains(where: { $0.name == name && $0.cid == cid }) {
      return false
    }
    return true
  }
}

/// What a garbage collection removed.
public struct GarbageReport: Sendable, Hashable {
  /// Values deleted.
  public var values: Int
  /// Their bytes.
  public var bytes: Int
  /// Blob files deleted that no value named (left by interrupted writes).
  public var orphanFiles: Int

  /// Creates a report.
  public init(values: Int, bytes: Int, orphanFiles: Int) {
    self.values = values
    self.bytes = bytes
    self.orphanFiles = orphanFiles
  }
}

/// A name for a call or a value, such as `baseline` or `best-model`.
public struct StoreTag: Sendable, Hashable {
  /// What a tag names.
  public enum Target: Sendable, Hashable {
    /// A call (and so its output).
    case call(CallID)
    /// A value.
    case value(ContentID)
  }

  /// The tag's name, unique in a store.
  public var name: String
  /// What it names.
  public var target: Target
  /// When it was set.
  public var createdAt: Date

  /// Creates a tag.
  public init(name: String, target: Target, createdAt: Date = Date()) {
    self.name = name
    self.target = target
    self.createdAt = createdAt
  }
}
