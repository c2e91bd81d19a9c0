import Foundation

extension Store {
  // MARK: Provenance

  /// The calls that produced a value: usually one; several when equal content
  /// came from different histories. For an output of a result of several
  /// outputs (``MultipleOutputs``), the calls that returned it as one.
  public func producers(of value: ContentID) throws -> [CallRecord] {
    var found = try backend.calls(CallQuery(outputCID: value))
    for whole in try backend.wholes(containing: value) {
      found += try backend.calls(CallQuery(outputCID: whole))
    }
    return found
  }

  /// The calls that produced an input, by its history: the call that
  /// returned it, or whose result of several outputs (``MultipleOutputs``)
  /// it is one output of. Empty for a value from outside any op.
  ///
  /// - Parameters:
  ///   - input: An input of a stored call.
  ///   - limit: At most this many (all of them by default).
  public func producers(of input: CallInput, limit: Int? = nil) throws -> [CallRecord] {
    let (hid, cid) = (input.hid, input.cid)
    let direct = try backend.calls(CallQuery(outputHID: hid, limit: limit))
    // A value from outside any op has no producer.
    guard direct.isEmpty, hid != HistoryID(external: cid) else { return direct }
    // An output of a result of several outputs: found through its whole.
    var found: [CallRecord] = []
    for whole in try backend.wholes(containing: cid) {
      let labels = try backend.parts(of: whole).filter { $0.cid == cid }.map(\.label)
      for record in try backend.calls(CallQuery(outputCID: whole))
      where labels.contains(where: { HistoryID(output: $0, of: record.outputHID) == hid }) {
        found.append(record)
      }
    }
    return limit.map { Array(found.prefix($0)) } ?? found
  }

  /// The calls that used a call's result, or one of its outputs (a
  /// ``MultipleOutputs`` result's), as an input, most recent first.
  ///
  /// - Parameters:
  ///   - call: A stored call.
  ///   - limit: At most this many (all of them by default).
  public func consumers(of call: CallRecord, limit: Int? = nil) throws -> [CallRecord] {
    let histories = try resultHistories(of: call).map(\.hid)
    guard histories.count > 1 else {
      return try backend.calls(CallQuery(inputHID: call.outputHID, limit: limit))
    }
    // A result stored by parts: its histories asked for a few thousand at a
    // time, not one query per part.
    var found: [CallID: CallRecord] = [:]
    for start in stride(from: 0, to: histories.count, by: Self.historiesPerQuery) {
      var query = CallQuery(limit: limit)
      query.inputHIDs = Array(
        histories[start..<min(start + Self.historiesPerQuery, histories.count)])
      for record in try backend.calls(query) { found[record.id] = record }
    }
    // Most recent first across the queries, as each query answers.
    let sorted = found.values.sorted { ($0.startedAt, $0.id) > ($1.startedAt, $1.id) }
    return limit.map { Array(sorted.prefix($0)) } ?? sorted
  }

  /// A call's result as later calls' inputs name it: the whole, and each
  /// part of one stored by parts (an output or element, by label; `nil` for
  /// the whole), with its content and its history.
  func resultHistories(of record: CallRecord) throws -> [(
    output: String?, cid: ContentID, hid: HistoryID
  )] {
    [(nil, record.outputCID, record.outputHID)]
      + (try backend.parts(of: record.outputCID)).map {
        ($0.label, $0.cid, HistoryID(output: $0.label, of: record.outputHID))
      }
  }

  /// The calls that used a value as an input, whatever its history.
  public func consumers(of value: ContentID) throws -> [CallRecord] {
    try backend.calls(CallQuery(inputCID: value))
  }

  /// The calls a call depends on, transitively: those that produced its
  /// inputs, then theirs (mandala's `expandBack`). Inputs that came from
  /// outside any op end the walk. Nearest first.
  ///
  /// Walks history ids, so a result passed into another op is followed to the
  /// call that produced it, even when another call produced equal content.
  public func upstream(of call: CallID) throws -> [CallRecord] {
    try walk(from: call) { record in
      try record.inputs.flatMap { try self.producers(of: $0) }
    }
  }

  /// The calls that depend on a call, transitively: those that used its
  /// output, then theirs (mandala's `expandForward`). Nearest first.
  public func downstream(of call: CallID) throws -> [CallRecord] {
    try walk(from: call) { record in try self.consumers(of: record) }
  }

  private func walk(from start: CallID, _ next: (CallRecord) throws -> [CallRecord]) throws
    -> [CallRecord]
  {
    guard let first = try backend.call(start) else {
      throw RecallError.notFound(
        "call \(start.hex)", path: backend.location, hint: "List calls with `store.calls(of:)`.")
    }
    var seen: Set<CallID> = [start]
    var frontier = [first]
    var found: [CallRecord] = []
    while !frontier.isEmpty {
      var following: [CallRecord] = []
      for record in frontier {
        for neighbour in try next(record) where seen.insert(neighbour.id).inserted {
          found.append(neighbour)
          following.append(neighbour)
        }
      }
      frontier = following
    }
    return found
  }

  // MARK: Managing

  /// Forgets calls: their records are deleted, so they will be computed again;
  /// their values stay until ``collectGarbage(keepingFilesNewerThan:)``.
  ///
  /// - Parameters:
  ///   - calls: The calls.
  ///   - includingDownstream: Whether to forget every call that used their
  ///     results too, transitively (``downstream(of:)``).
  /// - Returns: The calls forgotten.
  @discardableResult
  public func forget(_ calls: [CallID], includingDownstream: Bool = false) throws -> [CallID] {
    var ids = calls
    if includingDownstream {
      var seen = Set(calls)
      for call in calls where try backend.call(call) != nil {
        for record in try downstream(of: call) where seen.insert(record.id).inserted {
          ids.append(record.id)
        }
      }
    }
    _ = try backend.forget(ids)
    for id in ids { memory.remove(id) }
    return ids
  }

  /// Forgets the stale calls (``staleCalls(of:unusedFor:startedBefore:)``) whose version
  /// no process used for `unused` (one hour by default): a program may still
  /// be running, or be about to run again, a version that is no longer any
  /// program's last one. Pass `.zero` to forget every stale call.
  @discardableResult
  public func forgetStaleCalls(of op: OpID? = nil, unusedFor unused: Duration = .seconds(3600))
    throws -> [CallID]
  {
    try forget(staleCalls(of: op, unusedFor: unused).map(\.id))
  }

  /// Removes the results the current code can no longer be served: forgets
  /// the stale calls (``staleCalls(of:unusedFor:startedBefore:)``) started before `date`
  /// (every one when `nil`) whose version no process used for `unused`, then
  /// deletes the values no call uses any more (``collectGarbage(keepingFilesNewerThan:)``).
  /// Tagged values stay. Safe while other processes use the store: a reader
  /// gets a whole value or a miss that recomputes it.
  ///
  /// - Parameters:
  ///   - op: Only this op's calls (by default, every op's).
  ///   - date: Only calls started before this date.
  ///   - unused: Keep the calls of versions some process used this recently
  ///     (a program may still be running them); `.zero` removes every stale
  ///     call.
  /// - Returns: How many calls were forgotten, and the values and bytes
  ///   deleted.
  @discardableResult
  public func prune(
    of op: OpID? = nil, startedBefore date: Date? = nil,
    unusedFor unused: Duration = .seconds(3600)
  ) throws -> PruneReport {
    let forgotten = try forget(
      staleCalls(of: op, unusedFor: unused, startedBefore: date).map(\.id))
    let garbage = try collectGarbage()
    return PruneReport(calls: forgotten.count, garbage: garbage)
  }

  /// Deletes the values that no call uses and no tag names, blob files
  /// that no value names and that were last written before `date` (a process
  /// may be about to commit a newer one), and environments that no call names
  /// and that no process saved within a day before `date`
  /// (``CallEnvironment``). Safe while other processes write.
  @discardableResult
  public func collectGarbage(keepingFilesNewerThan date: Date = Date(timeIntervalSinceNow: -3600))
    throws
    -> GarbageReport
  {
    try backend.collectGarbage(keepingFilesNewerThan: date)
  }

  // MARK: Tags

  /// Names a call, such as `baseline`; the tag keeps its result from garbage
  /// collection. A tag of the same name is replaced.
  public func tag(_ name: String, call: CallID) throws {
    guard try backend.call(call) != nil else {
      throw RecallError.notFound(
        "call \(call.hex)", path: backend.location, hint: "Tag a stored call.")
    }
    try backend.setTag(StoreTag(name: name, target: .call(call)))
  }

  /// Names a value, such as `best-model`; the tag keeps it from garbage
  /// collection. A tag of the same name is replaced.
  public func tag(_ name: String, value: ContentID) throws {
    guard try backend.value(value) != nil else {
      throw RecallError.notFound(
        "value \(value.hex)", path: backend.location, hint: "Tag a stored value.")
    }
    try backend.setTag(StoreTag(name: name, target: .value(value)))
  }

  /// The tag with this name, or `nil`.
  public func tagged(_ name: String) throws -> StoreTag? {
    try backend.tags().first { $0.name == name }
  }

  /// Every tag, by name.
  public func tags() throws -> [StoreTag] {
    try backend.tags()
  }

  /// Removes a tag; returns whether it existed.
  @discardableResult
  public func removeTag(_ name: String) throws -> Bool {
    try backend.removeTag(named: name)
  }
}
