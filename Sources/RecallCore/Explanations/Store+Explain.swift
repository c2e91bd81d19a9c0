import Foundation

extension Store {
  /// Explains whether a call would be reused now, and if not, why: before
  /// running it. Asks the store only (the memory layer is this process's).
  ///
  /// ```swift
  /// print(try store.explain($train(config, epochs: 20)))
  /// // computed under another version (3f9c1a2b7d0e → 8d2e0f41c9a7), which this one
  /// // does not reuse: func Experiments.scale(_:) changed
  /// ```
  ///
  /// - Throws: ``RecallError`` when an argument cannot be encoded or the
  ///   store cannot be read.
  public func explain<R: Decodable>(_ call: MemoizedCall<R>) throws -> MissExplanation {
    let prepared = try prepared(call)
    for candidate in candidates(prepared) {
      guard let record = try backend.call(candidate.id) else { continue }
      if let date = record.evictedAt { return .evicted(at: date) }
      guard let stored = try backend.loadResult(candidate.id) else { continue }
      if hasExpired(call.op, storedAt: stored.storedAt), let storedAt = stored.storedAt {
        return .expired(storedAt: Date(timeIntervalSince1970: storedAt))
      }
      guard
        let (_, files) = try? FileCollection.collecting({
          try decodeStored(R.self, stored.storage)
        })
      else { return .undecodable }
      if let changed = FileCollection.firstChanged(files) {
        return .fileChanged(path: changed.path)
      }
      return .stored
    }
    return try explainMissing(
      op: call.op.id, id: prepared.id, inputs: callInputs(prepared),
      semanticVersion: prepared.semanticVersion, opVersion: call.op.version,
      trial: prepared.trial, before: nil)
  }

  /// Explains why a stored call ran rather than being reused: the cause its
  /// lookup saw, recorded with it, when that was not ``MissCause/notStored``
  /// (expired, undecodable, recomputing, …); else from the calls stored
  /// before it started. For a ``RecallEvent/didMiss(_:_:)`` after the call
  /// ran, and `recall why`. (A call whose result was evicted or forgotten
  /// and then stored again has a new record: what it replaced is gone, and
  /// the explanation is made from the calls that remain.)
  ///
  /// - Throws: ``RecallError/notFound`` when the store has no such call.
  public func explainRun(of call: CallID) throws -> MissExplanation {
    guard let record = try backend.call(call) else {
      throw RecallError.notFound(
        "call \(call.hex)", path: backend.location, hint: "List calls with `store.calls(of:)`.")
    }
    if let cause = record.missCause, cause != .notStored { return .sawWhenItRan(cause) }
    return try explainMissing(
      op: record.op, id: record.id, inputs: record.inputs,
      semanticVersion: record.semanticVersion, opVersion: record.opVersion,
      trial: record.trial, before: record.startedAt)
  }

  /// Explains whether the current version of `op` (the one that ran last)
  /// would reuse a call with these inputs, given by content id, and if not,
  /// why: for tools that name a call by values already stored, such as
  /// `recall why OP --input x=3`. Trials and types in the key are not told
  /// apart (the call of trial 0 is meant). An op the store has no version
  /// of was never computed.
  ///
  /// - Throws: ``RecallError`` when the store cannot be read.
  public func explain(op: OpID, inputs: [String: ContentID]) throws -> MissExplanation {
    let op = try self.op(named: op)
    guard let current = try currentVersion(of: op) else { return .neverComputed }
    let same = try backend.calls(CallQuery(op: op, inputs: inputs)).filter {
      $0.inputs.count == inputs.count
    }
    if let stored = same.first(where: { $0.semanticVersion == current.semanticVersion }) {
      return stored.evictedAt.map { .evicted(at: $0) } ?? .stored
    }
    return try explainMissing(
      op: op, id: nil,
      inputs: inputs.sorted { $0.key < $1.key }.map {
        CallInput(name: $0.key, cid: $0.value, hid: HistoryID($0.value.digest))
      },
      semanticVersion: current.semanticVersion, opVersion: current.version, trial: 0, before: nil)
  }

  /// Why no result is stored for a call of `op` with `inputs`, from the
  /// calls stored (before `before`, when given): the same inputs under
  /// another version or trial, else the nearest call, else none.
  private func explainMissing(
    op: OpID, id: CallID?, inputs: [CallInput], semanticVersion: CodeFingerprint,
    opVersion: CodeFingerprint, trial: Int, before: Date?
  ) throws -> MissExplanation {
    func isOther(_ record: CallRecord) -> Bool { record.id != id }
    let mine = Dictionary(inputs.map { ($0.name, $0.cid) }, uniquingKeysWith: { first, _ in first })
    var query = CallQuery(op: op, inputs: mine)
    query.startedBefore = before
    let same = try backend.calls(query).filter { isOther($0) && $0.inputs.count == inputs.count }
    let sameVersion = same.filter { $0.semanticVersion == semanticVersion }
    if let other = sameVersion.first(where: { $0.trial != trial }) {
      return .otherTrial(stored: other)
    }
    if let other = sameVersion.first { return .otherKey(stored: other) }
    if let other = same.first {
      let changes =
        (try? diff(op, from: other.opVersion, to: opVersion))
        ?? VersionDiff(op: op, from: other.opVersion, to: opVersion, changes: [], isComplete: false)
      return .otherVersion(stored: other, changes: changes)
    }
    // The nearest: the most inputs in common, under the same version if
    // possible, then the most recent.
    var recentQuery = CallQuery(op: op, limit: Self.explainedCalls)
    recentQuery.startedBefore = before
    let recent = try backend.calls(recentQuery).filter(isOther)
    func rank(_ record: CallRecord) -> (Int, Int, Date) {
      (
        record.inputs.count { mine[$0.name] == $0.cid },
        record.semanticVersion == semanticVersion ? 1 : 0, record.startedAt
      )
    }
    guard let nearest = recent.max(by: { rank($0) < rank($1) }) else { return .neverComputed }
    let theirs = Dictionary(
      nearest.inputs.map { ($0.name, $0.cid) }, uniquingKeysWith: { first, _ in first })
    let differing = Set(mine.keys).union(theirs.keys).filter { mine[$0] != theirs[$0] }.sorted()
    var upstream: [String: CallRecord] = [:]
    for input in inputs where differing.contains(input.name) && input.hid.digest != input.cid.digest
    {
      upstream[input.name] = try producers(of: input, limit: 1).first
    }
    return .otherInputs(nearest: nearest, differing: differing, upstream: upstream)
  }

  /// The most recent calls of an op an explanation compares a call with.
  package static let explainedCalls = 1_000
}
