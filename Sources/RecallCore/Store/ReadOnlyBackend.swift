import Foundation

extension Store {
  /// Opens a store over a backend for reading only, as the `recall` tool's
  /// listing commands do.
  ///
  /// Every query works (calls, values, versions, diffs, frames, provenance,
  /// usage). A memoized call run against it is served when its result is
  /// stored, and otherwise runs and records nothing (with a warning); a
  /// change (`forget`, `accept`, `tag`, `collectGarbage`, a copy into it)
  /// throws ``RecallError/readOnly``.
  ///
  /// ```swift
  /// let store = Store(reading: try SQLiteBackend(path: ".recall", configuration: readOnly))
  /// for call in try store.calls(of: "Experiments.train(_:epochs:)") { print(call.id) }
  /// ```
  public convenience init(reading reader: any StoreReader, configuration: Configuration = .init()) {
    self.init(backend: ReadOnlyBackend(reader), configuration: configuration)
  }
}

/// A reader seen as a backend: reads go to it, every change is refused with
/// ``RecallError/readOnly``. Nothing is claimed (another process's claims
/// are still listed).
final class ReadOnlyBackend: StoreWriter {
  let reader: any StoreReader

  init(_ reader: any StoreReader) {
    self.reader = reader
  }

  private func refuse(_ change: String) -> RecallError {
    RecallError.readOnly(path: reader.location, change: change)
  }

  // MARK: Reads

  var location: String { reader.location }
  var isShared: Bool { false }
  func loadResult(_ id: CallID) throws -> StoredResult? { try reader.loadResult(id) }
  func loadResult(_ id: CallID, deferringBlob: Bool) throws -> StoredResult? {
    try reader.loadResult(id, deferringBlob: deferringBlob)
  }
  func call(_ id: CallID) throws -> CallRecord? { try reader.call(id) }
  func calls(_ query: CallQuery) throws -> [CallRecord] { try reader.calls(query) }
  func value(_ cid: ContentID) throws -> [UInt8]? { try reader.value(cid) }
  func values(_ cids: [ContentID]) throws -> [ContentID: [UInt8]] { try reader.values(cids) }
  func parts(of cid: ContentID) throws -> [ValuePart] { try reader.parts(of: cid) }
  func wholes(containing cid: ContentID) throws -> [ContentID] {
    try reader.wholes(containing: cid)
  }
  func summary() throws -> StoreSummary { try reader.summary() }
  func ops() throws -> [OpSummary] { try reader.ops() }
  func claims(at now: Date) throws -> [Claim] { try reader.claims(at: now) }
  func tags() throws -> [StoreTag] { try reader.tags() }
  func evictionCandidates() throws -> [EvictionCandidate] { try reader.evictionCandidates() }
  func evictions() throws -> [OpEvictions] { try reader.evictions() }
  func usage(of op: OpID?, since: Date?) throws -> [OpUsage] {
    try reader.usage(of: op, since: since)
  }
  func acceptCount() throws -> Int { try reader.acceptCount() }
  func audits(of op: OpID?) throws -> [AuditRecord] { try reader.audits(of: op) }
  func callCounts(of op: OpID) throws -> [CodeFingerprint: Int] { try reader.callCounts(of: op) }
  func versions(of op: OpID, countingCalls: Bool) throws -> [OpVersion] {
    try reader.versions(of: op, countingCalls: countingCalls)
  }
  func components(of op: OpID, version: CodeFingerprint) throws -> [CodeComponent]? {
    try reader.components(of: op, version: version)
  }
  func environment(_ id: EnvironmentID) throws -> CallEnvironment? { try reader.environment(id) }
  func uncommittedChanges(digest: String) throws -> String? {
    try reader.uncommittedChanges(digest: digest)
  }

  // MARK: Changes, refused

  func record(_ call: CallRecord, values: [EncodedValue]) throws { throw refuse("record a call") }
  func claim(
    _ id: CallID, of op: OpID, by claimant: Claimant, at now: Date, until expiry: Date,
    replacing dead: Claimant?
  ) throws -> ClaimOutcome { throw refuse("claim a call") }
  func renewClaims(by claimant: Claimant, until expiry: Date) throws -> Int { 0 }
  func releaseClaim(_ id: CallID, by claimant: Claimant) throws {}
  func forget(_ calls: [CallID]) throws -> Int { throw refuse("forget calls") }
  func evict(_ values: [ContentID], at date: Date) throws -> [EvictedValue] {
    throw refuse("evict values")
  }
  func collectGarbage(keepingFilesNewerThan date: Date) throws -> GarbageReport {
    throw refuse("collect garbage")
  }
  func setTag(_ tag: StoreTag) throws { throw refuse("tag a call or value") }
  func removeTag(named name: String) throws -> Bool { throw refuse("remove a tag") }
  /// Counts of use are this process's, not the store's: a reader keeps them.
  func addUsage(_ usage: [OpUsage]) throws {}
  func recordAudit(_ audit: AuditRecord) throws { throw refuse("record an audit") }
  func registerVersion(_ registration: VersionRegistration, at date: Date) throws
    -> CodeFingerprint
  {
    // The version's calls are looked up as they are filed, without recording
    // the version: what the store already knows of it, else the version itself.
    let known = try reader.versions(of: registration.op, countingCalls: false)
    return known.first { $0.version == registration.version }?.semanticVersion
      ?? registration.version
  }
  /// Environments are recorded with calls, which a reader does not record.
  func saveEnvironment(_ environment: CallEnvironment, changes: String?) throws {}
  /// Sightings are not recorded by a reader.
  func sawVersions(_ sightings: [VersionSighting], at date: Date) throws {}
  func accept(_ op: OpID, version: CodeFingerprint, as base: CodeFingerprint) throws {
    throw refuse("accept a change")
  }
}
