import Foundation
import Synchronization

/// A backend that keeps everything in memory, for tests and for computations
/// that need not outlive the process.
final class InMemoryBackend: StoreWriter {
  private struct VersionKey: Hashable {
    var op: OpID
    var version: CodeFingerprint
  }

  private struct State {
    var calls: [CallID: CallRecord] = [:]
    var values: [ContentID: [UInt8]] = [:]
    /// The parts of values stored by parts (``MultipleOutputs`` results).
    var parts: [ContentID: [ValuePart]] = [:]
    /// When values whose bytes are gone were evicted.
    var evicted: [ContentID: Date] = [:]
    var versions: [VersionKey: OpVersion] = [:]
    var components: [VersionKey: [CodeComponent]] = [:]
    var tags: [String: StoreTag] = [:]
    var claims: [CallID: Claim] = [:]
    var usage: [UsageKey: OpUsage] = [:]
    var locations: [OpID: [String: (location: VersionLocation, since: Date)]] = [:]
    var acceptCount = 0
    var audits: [AuditRecord] = []
    var environments: [EnvironmentID: (environment: CallEnvironment, savedAt: Date)] = [:]
    var changes: [String: String] = [:]
  }

  private struct UsageKey: Hashable {
    var op: OpID
    var period: Date
  }

  private let state = Mutex(State())

  var location: String { "memory" }

  func loadResult(_ id: CallID) throws -> StoredResult? {
    state.withLock { state in
      guard let record = state.calls[id], let output = state.values[record.outputCID] else {
        return nil
      }
      return StoredResult(
        cid: record.outputCID, hid: record.outputHID, bytes: output, duration: record.duration,
        storedAt: record.startedAt.timeIntervalSince1970 + record.duration)
    }
  }

  func parts(of cid: ContentID) throws -> [ValuePart] {
    state.withLock { $0.parts[cid] ?? [] }
  }

  func wholes(containing cid: ContentID) throws -> [ContentID] {
    state.withLock { state in
      state.parts.filter { $0.value.contains { $0.cid == cid } }.map(\.key).sorted()
    }
  }

  func record(_ call: CallRecord, values: [EncodedValue]) throws {
    state.withLock { state in
      for value in values where state.values[value.cid] == nil {
        state.values[value.cid] = value.bytes
        state.evicted[value.cid] = nil
        if !value.parts.isEmpty {
          state.parts[value.cid] = value.parts.map { ValuePart(label: $0.label, cid: $0.value.cid) }
        }
      }
      // Inputs by parameter name, as every backend returns them.
      var call = call
      call.inputs.sort { $0.name < $1.name }
      state.calls[call.id] = call
      state.claims[call.id] = nil
    }
  }

  // MARK: Environments

  func saveEnvironment(_ environment: CallEnvironment, changes: String?) throws {
    state.withLock { state in
      state.environments[environment.id] = (environment, Date())
      if let digest = environment.changesDigest, let changes { state.changes[digest] = changes }
    }
  }

  func environment(_ id: EnvironmentID) throws -> CallEnvironment? {
    state.withLock { $0.environments[id]?.environment }
  }

  func uncommittedChanges(digest: String) throws -> String? {
    state.withLock { $0.changes[digest] }
  }

  // MARK: Audits

  func recordAudit(_ audit: AuditRecord) throws {
    state.withLock { $0.audits.append(audit) }
  }

  func audits(of op: OpID?) throws -> [AuditRecord] {
    state.withLock { state in
      state.audits.filter { audit in op.map { audit.op == $0 } ?? true }.reversed()
    }
  }

  // MARK: Use

  func addUsage(_ usage: [OpUsage]) throws {
    state.withLock { state in
      for count in usage {
        state.usage[
          UsageKey(op: count.op, period: count.period),
          default: OpUsage(op: count.op, period: count.period)
        ]
        .add(count)
      }
    }
  }

  func usage(of op: OpID?, since: Date?) throws -> [OpUsage] {
    let after = since.map { $0.addingTimeInterval(-3600) }
    return state.withLock { state in
      state.usage.values
        .filter { count in
          op.map { count.op == $0 } ?? true && after.map { count.period > $0 } ?? true
        }
        .sorted { ($0.period, $0.op.name) < ($1.period, $1.op.name) }
    }
  }

  // MARK: Claims

  /// Only this process sees the store: its single flight is enough.
  var isShared: Bool { false }

  func claim(
    _ id: CallID, of op: OpID, by claimant: Claimant, at now: Date, until expiry: Date,
    replacing dead: Claimant?
  ) throws -> ClaimOutcome {
    state.withLock { state in
      if let record = state.calls[id], state.values[record.outputCID] != nil { return .stored }
      if let claim = state.claims[id], claim.isLive(against: claimant, at: now, replacing: dead) {
        return .held(claim)
      }
      state.claims[id] = Claim(
        call: id, op: op, claimant: claimant, claimedAt: now, expiresAt: expiry)
      return .acquired
    }
  }

  func renewClaims(by claimant: Claimant, until expiry: Date) throws -> Int {
    state.withLock { state in
      var count = 0
      for (id, claim) in state.claims where claim.claimant.token == claimant.token {
        state.claims[id]?.expiresAt = expiry
        count += 1
      }
      return count
    }
  }

  func releaseClaim(_ id: CallID, by claimant: Claimant) throws {
    state.withLock { state in
      if state.claims[id]?.claimant.token == claimant.token { state.claims[id] = nil }
    }
  }

  func claims(at now: Date) throws -> [Claim] {
    state.withLock { state in
      state.claims.values.filter { $0.expiresAt > now }.sorted { $0.claimedAt < $1.claimedAt }
    }
  }

  func summary() throws -> StoreSummary {
    state.withLock { state in
      StoreSummary(
        calls: state.calls.count, values: state.values.count,
        bytes: state.values.values.reduce(0) { $0 + $1.count })
    }
  }

  // MARK: Queries

  func ops() throws -> [OpSummary] {
    state.withLock { state in
      var summaries: [OpID: OpSummary] = [:]
      for key in state.versions.keys {
        summaries[
          key.op,
          default: OpSummary(op: key.op, calls: 0, versions: 0, outputBytes: 0, lastCall: nil)
        ]
        .versions += 1
      }
      for call in state.calls.values {
        var summary =
          summaries[call.op]
          ?? OpSummary(op: call.op, calls: 0, versions: 0, outputBytes: 0, lastCall: nil)
        summary.calls += 1
        summary.outputBytes += call.outputSize
        summary.lastCall = max(summary.lastCall ?? call.startedAt, call.startedAt)
        summary.computeTime += .seconds(call.duration)
        summaries[call.op] = summary
      }
      return summaries.values.sorted { $0.op < $1.op }
    }
  }

  func calls(_ query: CallQuery) throws -> [CallRecord] {
    state.withLock { state in
      let found = state.calls.values.filter(query.matches)
        .sorted { ($0.startedAt, $0.id) > ($1.startedAt, $1.id) }
      return (query.limit.map { Array(found.prefix($0)) } ?? found).map {
        Self.marked($0, in: state)
      }
    }
  }

  func value(_ cid: ContentID) throws -> [UInt8]? {
    state.withLock { $0.values[cid] }
  }

  // MARK: Managing

  func forget(_ calls: [CallID]) throws -> Int {
    state.withLock { state in
      calls.reduce(0) { $0 + (state.calls.removeValue(forKey: $1) == nil ? 0 : 1) }
    }
  }

  func evictionCandidates() throws -> [EvictionCandidate] {
    state.withLock { state in
      let kept = Self.inputsAndTagged(state).union(Self.parts(state))
      var candidates: [ContentID: EvictionCandidate] = [:]
      for call in state.calls.values {
        // A manifest frees nothing (its parts stay), and a part would be
        // missing from its manifest's result.
        guard !kept.contains(call.outputCID), state.parts[call.outputCID] == nil,
          let bytes = state.values[call.outputCID]
        else {
          continue
        }
        let finished = call.startedAt.addingTimeInterval(call.duration)
        var candidate =
          candidates[call.outputCID]
          ?? EvictionCandidate(
            cid: call.outputCID, bytes: bytes.count, computeTime: 0, lastComputed: finished)
        candidate.computeTime += call.duration
        candidate.lastComputed = max(candidate.lastComputed, finished)
        candidates[call.outputCID] = candidate
      }
      return Array(candidates.values)
    }
  }

  func evict(_ values: [ContentID], at date: Date) throws -> [EvictedValue] {
    state.withLock { state in
      let kept = Self.inputsAndTagged(state).union(Self.parts(state))
      let outputs = Set(state.calls.values.map(\.outputCID))
      return values.compactMap { cid in
        guard !kept.contains(cid), outputs.contains(cid), state.parts[cid] == nil,
          let bytes = state.values.removeValue(forKey: cid)
        else { return nil }
        state.evicted[cid] = date
        return EvictedValue(cid: cid, bytes: bytes.count)
      }
    }
  }

  func evictions() throws -> [OpEvictions] {
    state.withLock { state in
      var byOp: [OpID: OpEvictions] = [:]
      for call in state.calls.values where state.evicted[call.outputCID] != nil {
        byOp[call.op, default: OpEvictions(op: call.op, calls: 0, bytes: 0)].calls += 1
        byOp[call.op]!.bytes += call.outputSize
      }
      return byOp.values.sorted { $0.op < $1.op }
    }
  }

  /// The values no eviction takes: inputs of calls, and what tags name.
  private static func inputsAndTagged(_ state: State) -> Set<ContentID> {
    var kept = Set<ContentID>()
    for call in state.calls.values {
      for input in call.inputs { kept.insert(input.cid) }
    }
    for tag in state.tags.values {
      switch tag.target {
      case .value(let cid):
        // A named value's registration keeps nothing.
        if !tag.name.hasPrefix(StoreTag.registrationPrefix) { kept.insert(cid) }
      case .call(let id): if let call = state.calls[id] { kept.insert(call.outputCID) }
      }
    }
    return kept
  }

  /// Every value that is a part of a value stored by parts.
  private static func parts(_ state: State) -> Set<ContentID> {
    Set(state.parts.values.flatMap { $0.map(\.cid) })
  }

  func collectGarbage(keepingFilesNewerThan date: Date) throws -> GarbageReport {
    state.withLock { state in
      var used = Self.inputsAndTagged(state)
      for call in state.calls.values { used.insert(call.outputCID) }
      // The parts of a value kept are kept.
      for cid in used { for part in state.parts[cid] ?? [] { used.insert(part.cid) } }
      state.parts = state.parts.filter { used.contains($0.key) }
      state.evicted = state.evicted.filter { used.contains($0.key) }
      var report = GarbageReport(values: 0, bytes: 0, orphanFiles: 0)
      for (cid, bytes) in state.values where !used.contains(cid) {
        state.values[cid] = nil
        report.values += 1
        report.bytes += bytes.count
      }
      let named = Set(state.calls.values.compactMap(\.environment))
      for (id, saved) in state.environments
      where saved.savedAt < min(date, Date()).addingTimeInterval(-86_400) && !named.contains(id) {
        state.environments[id] = nil
        report.environments += 1
      }
      let digests = Set(state.environments.values.compactMap(\.environment.changesDigest))
      state.changes = state.changes.filter { digests.contains($0.key) }
      return report
    }
  }

  func setTag(_ tag: StoreTag) throws {
    state.withLock { $0.tags[tag.name] = tag }
  }

  func addTag(_ tag: StoreTag) throws -> StoreTag.Target? {
    state.withLock { state in
      if let existing = state.tags[tag.name] { return existing.target }
      state.tags[tag.name] = tag
      return nil
    }
  }

  func tags() throws -> [StoreTag] {
    state.withLock { $0.tags.values.sorted { $0.name < $1.name } }
  }

  func removeTag(named name: String) throws -> Bool {
    state.withLock { $0.tags.removeValue(forKey: name) != nil }
  }

  // MARK: Code versions

  func registerVersion(_ registration: VersionRegistration, at date: Date) throws -> CodeFingerprint
  {
    let key = VersionKey(op: registration.op, version: registration.version)
    if let known = state.withLock({ state in
      state.versions[key].map { known in
        Self.see(
          registration.op, registration.version, at: registration.location,
          since: registration.since ?? date, date, in: &state)
        return known.semanticVersion
      }
    }) {
      return known
    }
    // Computed outside the lock: it may parse the plugin's table.
    let components = registration.components().sorted { $0.identity < $1.identity }
    return state.withLock { state in
      if let former = registration.formerName {
        Self.adopt(former, as: registration.op, in: &state)
      }
      if let known = state.versions[key] {
        Self.see(
          registration.op, registration.version, at: registration.location,
          since: registration.since ?? date, date, in: &state)
        return known.semanticVersion
      }
      let semanticVersion = registration.semanticVersion(
        among: state.versions.values.filter { $0.op == registration.op },
        lastHere: state.locations[registration.op]?[registration.location]?.location.version,
        components: components
      ) { state.components[VersionKey(op: registration.op, version: $0.version)] }
      state.versions[key] = OpVersion(
        op: registration.op, version: registration.version, semanticVersion: semanticVersion,
        firstSeen: date, lastSeen: date, parameters: registration.parameters, calls: 0,
        isCurrent: false)
      state.components[key] = components
      Self.see(
        registration.op, registration.version, at: registration.location,
        since: registration.since ?? date, date, in: &state)
      return semanticVersion
    }
  }

  func sawVersions(_ sightings: [VersionSighting], at date: Date) throws {
    state.withLock { state in
      for sighting in sightings
      where state.versions[VersionKey(op: sighting.op, version: sighting.version)] != nil {
        Self.see(
          sighting.op, sighting.version, at: sighting.location, since: sighting.since, date,
          in: &state)
      }
    }
  }

  func acceptCount() throws -> Int { state.withLock { $0.acceptCount } }

  /// Records that a program ran a version the store knows: it becomes the
  /// program's version unless a process that started later uses another.
  private static func see(
    _ op: OpID, _ version: CodeFingerprint, at location: String, since: Date, _ date: Date,
    in state: inout State
  ) {
    let key = VersionKey(op: op, version: version)
    if let seen = state.versions[key]?.lastSeen, seen < date {
      state.versions[key]?.lastSeen = date
    }
    if let last = state.locations[op]?[location] {
      if last.location.version == version {
        state.locations[op]?[location]?.location.lastSeen = max(last.location.lastSeen, date)
        return
      }
      guard since >= last.since else { return }
    }
    state.locations[op, default: [:]][location] = (
      VersionLocation(location: location, version: version, lastSeen: date), since
    )
    // The first program replaces the location of versions copied in ('').
    if !location.isEmpty { state.locations[op]?[""] = nil }
  }

  /// Renames an op recorded under its former name (before op names had
  /// parameter types) when the store has versions under that name and none
  /// under the new one. The calls keep their ids.
  private static func adopt(_ former: OpID, as op: OpID, in state: inout State) {
    guard !state.versions.keys.contains(where: { $0.op == op }),
      state.versions.keys.contains(where: { $0.op == former })
    else { return }
    for (key, version) in state.versions where key.op == former {
      state.versions[key] = nil
      var renamed = version
      renamed.op = op
      state.versions[VersionKey(op: op, version: key.version)] = renamed
      state.components[VersionKey(op: op, version: key.version)] = state.components.removeValue(
        forKey: key)
    }
    for (id, call) in state.calls where call.op == former { state.calls[id]?.op = op }
    state.locations[op] = state.locations.removeValue(forKey: former)
    for (key, usage) in state.usage where key.op == former {
      state.usage[key] = nil
      var renamed = usage
      renamed.op = op
      state.usage[
        UsageKey(op: op, period: key.period), default: OpUsage(op: op, period: key.period)
      ].add(renamed)
    }
    for (id, claim) in state.claims where claim.op == former { state.claims[id]?.op = op }
  }

  func versions(of op: OpID, countingCalls: Bool) throws -> [OpVersion] {
    state.withLock { state in
      let versions = state.versions.values.filter { $0.op == op }
        .map { version in
          var version = version
          if countingCalls {
            version.calls = state.calls.values.count {
              $0.op == op && $0.opVersion == version.version
            }
          }
          return version
        }
        .sorted { ($0.firstSeen, $0.version.hex) < ($1.firstSeen, $1.version.hex) }
      return OpVersion.markingCurrent(
        versions, locations: (state.locations[op] ?? [:]).values.map(\.location))
    }
  }

  func components(of op: OpID, version: CodeFingerprint) throws -> [CodeComponent]? {
    state.withLock { $0.components[VersionKey(op: op, version: version)] }
  }

  func call(_ id: CallID) throws -> CallRecord? {
    state.withLock { state in state.calls[id].map { Self.marked($0, in: state) } }
  }

  /// A call with its eviction, as every backend lists it.
  private static func marked(_ call: CallRecord, in state: State) -> CallRecord {
    var call = call
    call.evictedAt = state.evicted[call.outputCID]
    return call
  }

  func accept(_ op: OpID, version: CodeFingerprint, as base: CodeFingerprint) throws {
    try state.withLock { state in
      guard let moving = state.versions[VersionKey(op: op, version: version)],
        let target = state.versions[VersionKey(op: op, version: base)]
      else {
        throw RecallError.notFound(
          "version \(version) or \(base) of op \(op)", path: location,
          hint: "Run each version once first; `store.versions(of:)` lists the versions seen.")
      }
      let from = moving.semanticVersion
      let to = version == base ? version : target.semanticVersion
      guard from != to else { return }
      state.acceptCount += 1
      // The versions that move, and the calls filed under them.
      let movingVersions: Set<CodeFingerprint> =
        version == base
        ? [version]
        : Set(
          state.versions.values.filter { $0.op == op && $0.semanticVersion == from }.map(\.version))
      for key in state.versions.keys where key.op == op && movingVersions.contains(key.version) {
        state.versions[key]?.semanticVersion = to
      }
      let calls = state.calls.values.filter {
        $0.op == op && $0.semanticVersion == from && (version != base || $0.opVersion == version)
      }
      for call in calls {
        guard let fields = call.keyFields,
          let scheme = CallID.scheme(
            of: op, for: call.id, semanticVersion: from, trial: call.trial, keyFields: fields)
        else { continue }
        let id = CallID(
          op: scheme.name, semanticVersion: to, trial: call.trial, keyFields: fields,
          isRandom: scheme.isRandom)
        state.calls[call.id] = nil
        guard state.calls[id] == nil else { continue }
        var moved = call
        moved.id = id
        moved.semanticVersion = to
        state.calls[id] = moved
      }
    }
  }
}
