import Foundation

/// An op version's standing in one store: the semantic version its calls are
/// filed under, and the call key's hash state after the op's fields.
struct ResolvedOp: Sendable {
  let semanticVersion: CodeFingerprint
  let keyPrefix: DigestBuilder
  /// Whether the store was asked. Until it is, calls are looked up under the
  /// version itself (``Op/provisional``): a call found there was computed by
  /// this version or one the user declared equivalent, so serving it is right,
  /// and a hit costs no query. A miss settles the op before it executes.
  let isSettled: Bool
  /// The store's ``Store/generation`` when it was looked up (0 for
  /// provisional standings): a settled call whose generation is not the
  /// store's current one is looked up again before it executes and before
  /// it is recorded.
  var generation: UInt64 = 0
}

extension Store {
  /// The op version's standing in this store as far as this process knows:
  /// settled once a call of it missed here, provisional before.
  func standing(of op: Op) -> ResolvedOp {
    let generation = generation.load(ordering: .acquiring)
    return op.state.entry.withLock { entry in
      entry.flatMap { $0.store == serial && $0.generation == generation ? $0.resolved : nil }
    } ?? resolutions.withLock { $0[op.identity] } ?? op.provisional
  }

  /// Returns the op version's standing in this store, recording the version
  /// the first time this process needs it here.
  func resolve(_ op: Op) -> ResolvedOp {
    let generation = generation.load(ordering: .acquiring)
    if let resolved = op.state.entry.withLock({ entry in
      entry.flatMap { $0.store == serial && $0.generation == generation ? $0.resolved : nil }
    }) {
      return resolved
    }
    let resolved = resolveOnce(op, generation)
    op.state.entry.withLock {
      $0 = .init(store: serial, generation: generation, resolved: resolved)
    }
    return resolved
  }

  private func resolveOnce(_ op: Op, _ generation: UInt64) -> ResolvedOp {
    if let resolved = resolutions.withLock({ $0[op.identity] }) { return resolved }
    // Read before the registration, so that a change accepted after it is
    // noticed at the next miss (``noticeAcceptedChanges()``).
    if acceptCountSeen.load(ordering: .acquiring) < 0, let count = try? backend.acceptCount() {
      _ = acceptCountSeen.compareExchange(
        expected: -1, desired: count, ordering: .acquiringAndReleasing)
    }
    var semanticVersion = op.version
    do {
      var registration = op.registration
      registration.location = configuration.program ?? VersionRegistration.thisProgram
      registration.since = opened
      semanticVersion = try backend.registerVersion(registration, at: Date())
    } catch {
      warn(
        .storeFailure, nil,
        "\(op.id.name): could not record version \(op.version) in the store (\(error)); its calls "
          + "are filed under this version only.")
    }
    let resolved = ResolvedOp(
      semanticVersion: semanticVersion,
      keyPrefix: CallID.keyPrefix(
        op: op.details.keyName, semanticVersion: semanticVersion, trial: 0),
      isSettled: true, generation: generation)
    resolutions.withLock {
      // Not when a version was accepted meanwhile: the lookup may predate it.
      if self.generation.load(ordering: .acquiring) == generation { $0[op.identity] = resolved }
    }
    return resolved
  }

  /// Whether a change was accepted in the store (by any process, such as
  /// `recall accept`) since this store last looked; if so, every op's
  /// standing is looked up again. Called at each miss of a settled call: a
  /// miss is about to compute, and the look is one small read.
  func noticeAcceptedChanges() -> Bool {
    guard let count = try? backend.acceptCount() else { return false }
    let seen = acceptCountSeen.exchange(count, ordering: .acquiringAndReleasing)
    guard seen >= 0, seen != count else { return false }
    resolutions.withLock { $0.removeAll() }
    generation.add(1, ordering: .releasing)
    return true
  }

  /// Returns the versions of an op that ran against this store, oldest first,
  /// with when each was first and last seen and how many calls it holds.
  ///
  /// ```swift
  /// for version in try store.versions(of: "Experiments.train(_:epochs:)") {
  ///   print(version.version, version.firstSeen, version.calls, version.isCurrent ? "current" : "")
  /// }
  /// ```
  public func versions(of op: OpID) throws -> [OpVersion] {
    try backend.versions(of: self.op(named: op), countingCalls: true)
  }

  /// Returns the op's current version that ran most recently (its
  /// ``OpVersion/calls`` is not counted), or `nil` when the store has seen
  /// none. Each program has its own current version
  /// (``OpVersion/isCurrent``); this is the one used last anywhere.
  public func currentVersion(of op: OpID) throws -> OpVersion? {
    try backend.versions(of: self.op(named: op), countingCalls: false).filter(\.isCurrent)
      .max { ($0.lastSeen, $0.firstSeen) < ($1.lastSeen, $1.firstSeen) }
  }

  /// Returns the version of an op whose hexadecimal form starts with `prefix`
  /// (as ``CodeFingerprint/description`` prints it: 12 characters are plenty).
  ///
  /// - Throws: ``RecallError/notFound`` when no version matches,
  ///   ``RecallError/ambiguous`` when several do.
  public func version(of op: OpID, matching prefix: String) throws -> CodeFingerprint {
    let op = try self.op(named: op)
    let matches = try backend.versions(of: op, countingCalls: false).filter {
      $0.version.hex.hasPrefix(prefix.lowercased())
    }
    guard let match = matches.first else {
      throw RecallError.notFound(
        "version '\(prefix)' of op \(op)", path: backend.location,
        hint: "List the op's versions with `store.versions(of:)`.")
    }
    guard matches.count == 1 else {
      throw RecallError.ambiguous(prefix, candidates: matches.map(\.version.description))
    }
    return match.version
  }

  /// Returns what changed between two versions of an op, component by
  /// component: the op's own code and everything it reaches.
  ///
  /// ```swift
  /// let versions = try store.versions(of: "Experiments.train(_:epochs:)")
  /// print(try store.diff(versions[0].op, from: versions[0].version, to: versions[1].version))
  /// // func Experiments.scale(_:) changed
  /// // --- …
  /// ```
  ///
  /// - Throws: ``RecallError/notFound`` when the store has not seen either
  ///   version.
  public func diff(_ op: OpID, from: CodeFingerprint, to: CodeFingerprint) throws -> VersionDiff {
    let op = try self.op(named: op)
    let old = try components(op, from)
    let new = try components(op, to)
    guard !old.isEmpty, !new.isEmpty else {
      return VersionDiff(op: op, from: from, to: to, changes: [], isComplete: false)
    }
    return VersionDiff(op: op, from: from, to: to, old: old, new: new)
  }

  /// Explains why a stored call is stale: what changed between the version it
  /// ran with and the op's current version (the one that ran most recently),
  /// or `nil` when the call is current (its semantic version is a current
  /// version's: the version some program ran last).
  ///
  /// - Throws: ``RecallError/notFound`` when the store has no such call.
  public func staleness(of call: CallID) throws -> VersionDiff? {
    guard let record = try backend.call(call) else {
      throw RecallError.notFound(
        "call \(call.hex)", path: backend.location, hint: "It may have been forgotten or collected."
      )
    }
    let versions = try backend.versions(of: record.op, countingCalls: false)
    guard
      !versions.contains(where: { $0.isCurrent && $0.semanticVersion == record.semanticVersion }),
      let current = versions.filter(\.isCurrent).max(by: { $0.lastSeen < $1.lastSeen })
    else { return nil }
    return try diff(record.op, from: record.opVersion, to: current.version)
  }

  /// Accepts a code change as not changing results (a refactor, a log line):
  /// `version` becomes equivalent to `base`, so calls made with either are
  /// served to both.
  ///
  /// ```swift
  /// let versions = try store.versions(of: "Experiments.train(_:epochs:)")
  /// try store.accept(versions[1].op, version: versions[1].version, as: versions[0].version)
  /// ```
  ///
  /// Equivalence is transitive: every version already equivalent to `version`
  /// becomes equivalent to `base` too. Accepting a version as itself takes it
  /// back out of its class. Processes that already ran the op notice at their
  /// next miss, and file their calls under the new semantic version from then
  /// on; their hits until then are calls the op's version computed.
  ///
  /// - Throws: ``RecallError/notFound`` when the store has not seen either
  ///   version.
  public func accept(_ op: OpID, version: CodeFingerprint, as base: CodeFingerprint) throws {
    try backend.accept(self.op(named: op), version: version, as: base)
    resolutions.withLock { $0.removeAll() }
    generation.add(1, ordering: .releasing)
  }

  private func components(_ op: OpID, _ version: CodeFingerprint) throws -> [CodeComponent] {
    guard let components = try backend.components(of: op, version: version) else {
      throw RecallError.notFound(
        "version \(version) of op \(op)", path: backend.location,
        hint: "List the op's versions with `store.versions(of:)`.")
    }
    return components
  }
}
