import Foundation

/// What ``Store/copy(to:ops:)`` copied.
public struct TransferReport: Sendable, Hashable {
  /// Calls copied (calls the target had already are counted too: they are
  /// replaced by the same record).
  public var calls: Int
  /// Distinct values copied, with their bytes.
  public var values: Int
  /// Their bytes.
  public var bytes: Int
  /// Op versions copied, with the code they cover.
  public var versions: Int
  /// Calls left out because the source no longer has one of their values.
  public var incomplete: Int
  /// Distinct environments the copied calls ran in (``CallEnvironment``).
  public var environments: Int
  /// Registrations of named values (``Store/register(_:)``) the target did
  /// not have.
  public var registrations: Int

  /// Creates a report.
  public init(
    calls: Int = 0, values: Int = 0, bytes: Int = 0, versions: Int = 0, incomplete: Int = 0,
    environments: Int = 0, registrations: Int = 0
  ) {
    self.registrations = registrations
    self.environments = environments
    self.calls = calls
    self.values = values
    self.bytes = bytes
    self.versions = versions
    self.incomplete = incomplete
  }
}

extension Store {
  /// Copies calls, with every value they use, the op versions they ran with
  /// (and the code those cover), the environments they ran in and
  /// equivalences between versions, into
  /// another store: to move results to another machine, or merge stores.
  ///
  /// ```swift
  /// let laptop = try Store.sqlite(at: "results-for-laptop")
  /// try store.copy(to: laptop, ops: ["Experiments.train(_:epochs:)"])
  /// ```
  ///
  /// Ids, content ids and history ids are the same in both stores, so copying
  /// twice, or copying back, changes nothing. Each call is stored atomically
  /// with its values, as any call is. Every registration of a named value
  /// (``Store/register(_:)``) comes along, whatever the ops.
  ///
  /// - Parameters:
  ///   - target: The store to copy into.
  ///   - ops: The ops whose calls to copy; every op when `nil`.
  /// - Throws: ``RecallError/invalidValue``, before copying anything, when
  ///   the target registered a name and version with other content than
  ///   this store did (calls keyed by it would be served for the other).
  @discardableResult
  public func copy(to target: Store, ops: [OpID]? = nil) throws -> TransferReport {
    var report = TransferReport()
    let registrations = try backend.tags().filter {
      $0.name.hasPrefix(StoreTag.registrationPrefix)
    }
    let targetTags = Dictionary(
      try target.backend.tags().map { ($0.name, $0.target) },
      uniquingKeysWith: { first, _ in first })
    let conflicts = registrations.filter { tag in
      targetTags[tag.name].map { $0 != tag.target } ?? false
    }
    if !conflicts.isEmpty {
      let names = conflicts.map { String($0.name.dropFirst(StoreTag.registrationPrefix.count)) }
      throw RecallError.invalidValue(
        "the target registered \(names.joined(separator: ", ")) with other content than this "
          + "store did; nothing was copied. Give the named values of one of them a new version "
          + "and compute their calls again, or copy other ops into a store of their own.")
    }
    var copiedValues: Set<ContentID> = []
    var copiedEnvironments: Set<EnvironmentID> = []
    for op in try ops?.map({ try self.op(named: $0) }) ?? self.ops().map(\.op) {
      // Versions first, roots of their classes before the versions accepted
      // as equivalent to them.
      let versions = try backend.versions(of: op, countingCalls: false)
      // When the target last saw each version it knows: copying never moves
      // that back.
      let seen = Dictionary(
        try target.backend.versions(of: op, countingCalls: false).map { ($0.version, $0.lastSeen) },
        uniquingKeysWith: max)
      let roots = versions.filter { $0.semanticVersion == $0.version }
      var registrations: [(version: OpVersion, registration: VersionRegistration)] = []
      for version in roots + versions.filter({ $0.semanticVersion != $0.version }) {
        let components = try backend.components(of: op, version: version.version) ?? []
        // Filed under no program (''): the first program that runs the op
        // in the target records its own.
        let registration = VersionRegistration(
          op: op, version: version.version, parameters: version.parameters, addedParameters: [],
          location: "", components: { components })
        if seen[version.version] == nil {
          _ = try target.backend.registerVersion(registration, at: version.firstSeen)
        }
        registrations.append((version, registration))
        if version.semanticVersion != version.version,
          versions.contains(where: { $0.version == version.semanticVersion })
        {
          try target.backend.accept(op, version: version.version, as: version.semanticVersion)
        }
        report.versions += 1
      }
      // Then when each was last seen, oldest first: the version the source
      // ran last is current in the target too (unless the target ran another
      // one since).
      for (version, registration) in registrations.sorted(by: {
        $0.version.lastSeen < $1.version.lastSeen
      })
      where seen[version.version].map({ $0 < version.lastSeen }) ?? true {
        _ = try target.backend.registerVersion(registration, at: version.lastSeen)
      }
      for call in try backend.calls(CallQuery(op: op)) {
        var values: [EncodedValue] = []
        var complete = true
        for cid in [call.outputCID] + call.inputs.map(\.cid)
        where !values.contains(where: { $0.cid == cid }) {
          // A damaged value is left out (its calls counted as incomplete),
          // not copied, and not a reason to stop copying the rest.
          let found: EncodedValue?
          do {
            found = try storedValue(cid)
          } catch RecallError.corruptValue {
            found = nil
          }
          guard let found else {
            complete = false
            break
          }
          values.append(found)
        }
        guard complete else {
          report.incomplete += 1
          continue
        }
        if let id = call.environment, copiedEnvironments.insert(id).inserted,
          let environment = try backend.environment(id)
        {
          try target.backend.saveEnvironment(
            environment, changes: try uncommittedChanges(of: environment))
          report.environments += 1
        }
        let stored = values.flatMap(\.withParts)
        try target.backend.record(call, values: stored)
        report.calls += 1
        for value in stored where copiedValues.insert(value.cid).inserted {
          report.values += 1
          report.bytes += value.bytes.count
        }
      }
    }
    for registration in registrations where try target.backend.addTag(registration) == nil {
      report.registrations += 1
    }
    return report
  }
}

extension Store {
  /// A stored value with its parts (a ``MultipleOutputs`` result's outputs),
  /// or `nil` when the store lacks it or one of its parts.
  func storedValue(_ cid: ContentID) throws -> EncodedValue? {
    guard let bytes = try backend.value(cid) else { return nil }
    guard ValueParts.isManifest(bytes) else { return EncodedValue(cid: cid, bytes: bytes) }
    // From the manifest itself: what its bytes name is what a reader needs.
    guard let read = try readParts(of: bytes) else { return nil }
    return EncodedValue(
      cid: cid, bytes: bytes,
      parts: read.parts.map {
        .init(label: $0.label, value: EncodedValue(cid: $0.cid, bytes: read.bytes[$0.cid]!))
      })
  }
}
