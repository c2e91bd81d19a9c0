import Foundation

/// A stored call with its result decoded: one row of a typed listing
/// (``Store/results(of:as:version:currentOnly:inputs:limit:)``).
public struct StoredCall<Result: Decodable & Sendable>: Sendable {
  /// The call's record: op, versions, inputs, timing, host.
  public let record: CallRecord
  /// The call's result.
  public let result: Result
  let store: Store

  /// The call's id.
  public var id: CallID { record.id }
  /// The op version the call ran with.
  public var version: CodeFingerprint { record.opVersion }
  /// When the call started.
  public var startedAt: Date { record.startedAt }
  /// How long the call took, in seconds.
  public var duration: Double { record.duration }

  /// Decodes one of the call's inputs.
  ///
  /// - Throws: ``RecallError/notFound`` when the call has no such input or the
  ///   store no longer has its value; a decoding error when it is not a `T`.
  public func input<T: Decodable>(_ name: String, as type: T.Type = T.self) throws -> T {
    guard let input = record.inputs.first(where: { $0.name == name }) else {
      throw RecallError.notFound(
        "input '\(name)' of call \(record.id)", path: store.backend.location,
        hint: "Its inputs are: \(record.inputs.map(\.name).joined(separator: ", ")).")
    }
    guard let value = try store.value(input.cid, as: T.self) else {
      throw RecallError.notFound(
        "value \(input.cid) (input '\(name)' of call \(record.id))", path: store.backend.location,
        hint: "It may have been collected.")
    }
    return value
  }
}

extension Store {
  /// Lists the ops this store has calls or versions of.
  public func ops() throws -> [OpSummary] {
    try backend.ops()
  }

  /// The op a name stands for: the op of that name, else the one op whose
  /// label name it is (``OpID/labelName``): `Experiments.train(_:epochs:)`
  /// finds `Experiments.train(_: Dataset, epochs: Int)`. Every method that
  /// takes an op looks it up this way.
  ///
  /// - Throws: ``RecallError/ambiguous`` when several ops have that label
  ///   name (overloads): give the full name.
  public func op(named name: OpID) throws -> OpID {
    guard name.labelName == name.name, try backend.versions(of: name, countingCalls: false).isEmpty
    else {
      return name
    }
    let matches = try backend.ops().map(\.op).filter { $0 != name && $0.labelName == name.name }
    guard matches.count <= 1 else {
      throw RecallError.ambiguousOp(name.name, candidates: matches.map(\.name))
    }
    return matches.first ?? name
  }

  /// Lists the stored calls of an op, most recent first.
  ///
  /// - Parameters:
  ///   - op: The op.
  ///   - version: Only calls made with this op version.
  ///   - currentOnly: Only calls the current version would reuse (filed
  ///     under its semantic version).
  ///   - inputs: Only calls with these argument values, by parameter name.
  ///   - limit: At most this many calls.
  public func calls(
    of op: OpID, version: CodeFingerprint? = nil, currentOnly: Bool = false,
    inputs: [String: any Encodable & Sendable] = [:], limit: Int? = nil
  ) throws -> [CallRecord] {
    let op = try self.op(named: op)
    var query = CallQuery(op: op, opVersion: version, limit: limit)
    var current: Set<CodeFingerprint> = []
    if currentOnly {
      current = try currentSemanticVersions(of: op)
      guard !current.isEmpty else { return [] }
      if current.count == 1 { query.semanticVersion = current.first } else { query.limit = nil }
    }
    for (name, value) in inputs { query.inputs[name] = try ValueCodec.hashArgument(value).cid }
    let calls = try backend.calls(query)
    guard current.count > 1 else { return calls }
    let filtered = calls.filter { current.contains($0.semanticVersion) }
    return limit.map { Array(filtered.prefix($0)) } ?? filtered
  }

  /// The semantic versions of an op's current versions (one per program
  /// that ran it, see ``OpVersion/isCurrent``).
  package func currentSemanticVersions(of op: OpID) throws -> Set<CodeFingerprint> {
    Set(
      try backend.versions(of: op, countingCalls: false).filter(\.isCurrent).map(\.semanticVersion))
  }

  /// Lists the stored calls of an op with their results as Swift values, most
  /// recent first: what a sweep computed so far.
  ///
  /// ```swift
  /// for run in try store.results(of: "Experiments.train(_:epochs:)", as: Model.self) {
  ///   print(try run.input("epochs", as: Int.self), run.result.accuracy, run.duration)
  /// }
  /// ```
  ///
  /// Calls whose result no longer decodes as `R` are left out.
  public func results<R: Decodable & Sendable>(
    of op: OpID, as type: R.Type, version: CodeFingerprint? = nil, currentOnly: Bool = false,
    inputs: [String: any Encodable & Sendable] = [:], limit: Int? = nil
  ) throws -> [StoredCall<R>] {
    try calls(of: op, version: version, currentOnly: currentOnly, inputs: inputs, limit: limit)
      .compactMap { record in
        guard let result = try? value(record.outputCID, as: R.self) else { return nil }
        return StoredCall(record: record, result: result, store: self)
      }
  }

  /// Lists stored calls that no current version of their op would reuse
  /// (filed under no current version's semantic version: see
  /// ``OpVersion/isCurrent``), most recent first; ``staleness(of:)`` says why
  /// for each.
  ///
  /// - Parameters:
  ///   - op: Only this op's calls; every op's when `nil`.
  ///   - unused: Leave out calls whose semantic version some process used
  ///     (any version of it, hit or miss) within this time before now:
  ///     results a program that is still running may want.
  ///   - date: Only calls started before this date.
  public func staleCalls(
    of op: OpID? = nil, unusedFor unused: Duration = .zero, startedBefore date: Date? = nil
  ) throws -> [CallRecord] {
    let ops = try op.map { [try self.op(named: $0)] } ?? backend.ops().map(\.op)
    let cutoff = Date(timeIntervalSinceNow: -unused.inSeconds)
    return try ops.flatMap { op -> [CallRecord] in
      let versions = try backend.versions(of: op, countingCalls: false)
      let current = Set(versions.filter(\.isCurrent).map(\.semanticVersion))
      guard !current.isEmpty else { return [] }
      let recent = Set(versions.filter { $0.lastSeen > cutoff }.map(\.semanticVersion))
      let calls =
        current.count == 1
        ? try backend.calls(CallQuery(op: op, semanticVersionOtherThan: current.first))
        : try backend.calls(CallQuery(op: op)).filter { !current.contains($0.semanticVersion) }
      return calls.filter { call in
        (unused == .zero || !recent.contains(call.semanticVersion))
          && date.map { call.startedAt < $0 } ?? true
      }
    }
    .sorted { ($0.startedAt, $0.id) > ($1.startedAt, $1.id) }
  }

  /// Counts the stored calls of an op that no current version of it would
  /// reuse: as many as ``staleCalls(of:unusedFor:startedBefore:)`` lists by
  /// default, counted by the store instead of read (`recall stats`, the
  /// viewer's overview).
  public func staleCallCount(of op: OpID) throws -> Int {
    let op = try self.op(named: op)
    let current = try currentSemanticVersions(of: op)
    guard !current.isEmpty else { return 0 }
    return try backend.callCounts(of: op).filter { !current.contains($0.key) }.values.reduce(0, +)
  }

  /// Returns the full record of a stored call, or `nil` when the store does
  /// not have it.
  public func call(_ id: CallID) throws -> CallRecord? {
    try backend.call(id)
  }

  /// Returns the stored calls that match a query, most recent first; the
  /// query names ops by their full names (``op(named:)`` finds them).
  public func calls(matching query: CallQuery) throws -> [CallRecord] {
    try backend.calls(query)
  }

  /// Returns a value's stored encoding, or `nil` when the store does not have
  /// it: for tools that render values without knowing their types.
  public func encodedValue(_ cid: ContentID) throws -> [UInt8]? {
    try backend.value(cid)
  }

  /// Counts what the store holds (without this process's activity, which
  /// ``stats()`` adds).
  public func summary() throws -> StoreSummary {
    try backend.summary()
  }

  /// Returns the calls being computed: the claims whose leases run past
  /// `now`, in any process sharing the store.
  public func claims(at now: Date = Date()) throws -> [Claim] {
    try backend.claims(at: now)
  }

  /// Returns the code components an op version covers, sorted by identity,
  /// or `nil` when the store has not seen the version.
  public func components(of op: OpID, version: CodeFingerprint) throws -> [CodeComponent]? {
    try backend.components(of: self.op(named: op), version: version)
  }

  /// Decodes a stored value, or returns `nil` when the store does not have it.
  ///
  /// A result of several outputs (``MultipleOutputs``) is read with its
  /// outputs; one of them is a value of its own (``outputs(of:)``).
  public func value<T: Decodable>(_ cid: ContentID, as type: T.Type = T.self) throws -> T? {
    guard let bytes = try backend.value(cid) else { return nil }
    guard ValueParts.isManifest(bytes) else { return try ValueCodec.decode(T.self, from: bytes) }
    return try ValueParts.decode(T.self, manifest: bytes) { try backend.value($0) }
  }

  /// The parts of a value stored by parts: the outputs of a result of
  /// several outputs (``MultipleOutputs``), by label, or the elements of an
  /// ``Elements`` (by index) or a ``KeyedElements`` (by key); empty for any
  /// other value.
  public func outputs(of cid: ContentID) throws -> [ValuePart] {
    ValuePart.ordered(try backend.parts(of: cid))
  }
}
