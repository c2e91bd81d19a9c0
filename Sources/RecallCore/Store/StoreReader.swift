import Foundation

/// The reading half of a store's backend: lookups, calls, values, versions and
/// what the store holds.
///
/// A backend only stores and loads; hashing, the memory layer, single flight
/// and events live in ``Store``, in front of every backend. ``StoreWriter``
/// refines this protocol with everything that changes the store.
/// Implementations must be safe to call from many threads at once.
public protocol StoreReader: Sendable {
  // MARK: Where

  /// Where the backend keeps its data, for messages (a path or a URL).
  var location: String { get }

  /// Whether other processes may use this store at the same time, so that a
  /// miss must claim its call before running it (``ClaimPolicy``).
  var isShared: Bool { get }

  // MARK: Calls and values

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

  /// Returns a call's stored result as ``loadResult(_:)`` does, except that,
  /// when `deferringBlob`, a value kept in a blob file may be left unopened:
  /// a ``Lazy`` result opens and checks it when its value is read. The
  /// default implementation reads the bytes.
  func loadResult(_ id: CallID, deferringBlob: Bool) throws -> StoredResult?

  /// Returns the full record of a stored call, or `nil`.
  func call(_ id: CallID) throws -> CallRecord?

  /// Returns the stored calls that match a query, most recent first. Backends
  /// answer from indexed tables, without decoding values.
  func calls(_ query: CallQuery) throws -> [CallRecord]

  /// Returns the stored bytes of a value, or `nil` when the store does not
  /// have it.
  func value(_ cid: ContentID) throws -> [UInt8]?

  /// The stored bytes of several values, by content id (those the store
  /// has): a list's elements, read at once.
  func values(_ cids: [ContentID]) throws -> [ContentID: [UInt8]]

  /// The parts of a value stored by parts (a ``MultipleOutputs`` result), by
  /// label; empty for any other value.
  func parts(of cid: ContentID) throws -> [ValuePart]

  /// The values stored by parts that have a value as one of their parts.
  func wholes(containing cid: ContentID) throws -> [ContentID]

  /// Counts what the store holds.
  func summary() throws -> StoreSummary

  /// Lists every op the store has calls or versions of, by name.
  func ops() throws -> [OpSummary]

  // MARK: Evictions

  /// Returns the values a disk budget may evict, in no particular order:
  /// those with bytes stored that are the output of at least one call, an
  /// input of none, and named by no tag (through the value, or a tagged
  /// call's output).
  func evictionCandidates() throws -> [EvictionCandidate]

  /// Counts, per op, the calls whose results are evicted (``StoreWriter/evict(_:at:)``)
  /// and not stored again since, by op name.
  func evictions() throws -> [OpEvictions]

  // MARK: Claims, tags and use

  /// Returns the claims whose leases run past `now`: the calls being computed.
  func claims(at now: Date) throws -> [Claim]

  /// Returns every tag, by name.
  func tags() throws -> [StoreTag]

  /// Returns the stored counts of use, one per op and hour, oldest first and
  /// by op name within an hour.
  ///
  /// - Parameters:
  ///   - op: Only this op's counts; every op's when `nil`.
  ///   - since: Only the hours that end after this date.
  func usage(of op: OpID?, since: Date?) throws -> [OpUsage]

  // MARK: Code versions

  /// A number that every accepted change (``StoreWriter/accept(_:version:as:)``) raises,
  /// in any process: a running process compares it at each miss and looks
  /// its ops' semantic versions up again when it moved.
  func acceptCount() throws -> Int

  /// The audits recorded (``StoreWriter/recordAudit(_:)``), of one op or of
  /// all, most recent first.
  func audits(of op: OpID?) throws -> [AuditRecord]

  /// Returns the versions of an op the store has seen, oldest first, with the
  /// current ones marked (``OpVersion/markingCurrent(_:locations:)``). With
  /// `countingCalls`, each has its number of stored calls (which reads every
  /// call of the op); without, ``OpVersion/calls`` is 0.
  func versions(of op: OpID, countingCalls: Bool) throws -> [OpVersion]

  /// Counts an op's stored calls by the semantic version each is filed
  /// under (what ``Store/staleCallCount(of:)`` sums). The default reads every
  /// call of the op; a backend that keeps counts answers from them.
  func callCounts(of op: OpID) throws -> [CodeFingerprint: Int]

  /// Returns the components an op version covers, sorted by identity, or `nil`
  /// when the store has not seen the version.
  func components(of op: OpID, version: CodeFingerprint) throws -> [CodeComponent]?

  // MARK: Environments

  /// The environment with this id (``CallRecord/environment``), or `nil`
  /// when the store has none.
  func environment(_ id: EnvironmentID) throws -> CallEnvironment?

  /// The uncommitted changes with this digest (``CallEnvironment/changesDigest``),
  /// as a patch, or `nil` when the store has none.
  func uncommittedChanges(digest: String) throws -> String?
}

extension StoreReader {
  public func loadResult(_ id: CallID, deferringBlob: Bool) throws -> StoredResult? {
    try loadResult(id)
  }

  /// Reads the values one at a time.
  public func values(_ cids: [ContentID]) throws -> [ContentID: [UInt8]] {
    var values: [ContentID: [UInt8]] = [:]
    for cid in cids { values[cid] = try value(cid) }
    return values
  }

  /// Reads the parts from the value's manifest (for a backend that keeps no
  /// table of them).
  public func parts(of cid: ContentID) throws -> [ValuePart] {
    guard let bytes = try value(cid), ValueParts.isManifest(bytes) else { return [] }
    return try ValueParts.manifest(bytes)
  }

  /// None: a backend that keeps no table of parts cannot look them up.
  public func wholes(containing cid: ContentID) throws -> [ContentID] { [] }

  /// Counts an op's stored calls by semantic version, reading them all.
  public func callCounts(of op: OpID) throws -> [CodeFingerprint: Int] {
    var counts: [CodeFingerprint: Int] = [:]
    for call in try calls(CallQuery(op: op)) { counts[call.semanticVersion, default: 0] += 1 }
    return counts
  }
}
