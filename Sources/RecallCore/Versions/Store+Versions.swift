import Foundation

extension Store {
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
