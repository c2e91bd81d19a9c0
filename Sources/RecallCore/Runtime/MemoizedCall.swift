import Foundation

/// One call of a memoized function, named without running it: ask whether it
/// is stored, read its stored result without computing it, or store a result
/// computed elsewhere.
///
/// `@Memoized` makes a companion function, named with a `$`, that returns the
/// call its function would make with the same arguments:
///
/// ```swift
/// @Memoized
/// func evaluate(_ model: Model, on split: Split) -> Double { ... }
///
/// if let accuracy = try $evaluate(model, on: test).storedResult() { ... }  // never computes
/// try $evaluate(model, on: test).isStored()
/// try $evaluate(model, on: test).store(0.93)  // seeds the store
/// ```
///
/// The call is looked up as the function would look it up: under the op's
/// current version, in the current trial (``Trial/current``). To compute a
/// stored call again, replacing its result, call the function inside
/// ``Memoization/recomputing(_:)-(()->R)``.
public struct MemoizedCall<Result>: Sendable {
  /// The op the call is a call of.
  public let op: Op
  /// The arguments in the call's key.
  public let arguments: [Argument]
  /// Types in the key that no argument's value shows (a generic function's
  /// type parameters).
  public let types: [any Any.Type]

  /// Names a call of `op`.
  public init(op: Op, arguments: [Argument], types: [any Any.Type] = []) {
    self.op = op
    self.arguments = arguments
    self.types = types
  }
}

extension MemoizedCall where Result: Codable & Sendable {
  /// Whether `store` has the call's result, usable under the op's current
  /// version (not expired; a backend that does not say when a result was
  /// stored has results that never expire); neither runs nor decodes it,
  /// so it does not check the files a result holds (``TrackedFile``):
  /// ``storedResult(in:)`` does.
  ///
  /// - Throws: ``RecallError`` when an argument cannot be encoded or the
  ///   store cannot be read.
  public func isStored(in store: Store) throws -> Bool {
    try store.isStored(self)
  }

  /// The call's stored result in `store`, or `nil` when it has none: never
  /// runs the function. A result found is a hit, like one the function
  /// finds (a ``RecallEvent/didReuse(_:source:saved:)`` event).
  ///
  /// - Throws: ``RecallError`` when an argument cannot be encoded or the
  ///   store cannot be read.
  public func storedResult(in store: Store) throws -> Result? {
    try store.storedResult(of: self)
  }

  /// Whether `store` would reuse the call now, and if not, why
  /// (``Store/explain(_:)``): never runs it.
  ///
  /// - Throws: ``RecallError`` when an argument cannot be encoded or the
  ///   store cannot be read.
  public func explanation(in store: Store) throws -> MissExplanation {
    try store.explain(self)
  }

  /// Stores `result` as the call's result in `store`, replacing one stored,
  /// as if the function had returned it after running for `duration` (what
  /// the store's statistics count as the time a hit saves): a result
  /// computed elsewhere. The op's ``StoragePolicy`` applies, but for its
  /// minimum duration: a result kept in memory only is kept in this store's
  /// memory layer. The result is filed as one every trial shares, unless
  /// this process has seen the op's calls draw from ``RandomSource`` (then
  /// as the current trial's); in a trial other than 0, seeding an op not
  /// known to draw throws.
  ///
  /// - Throws: ``RecallError`` when an argument or the result cannot be
  ///   encoded, when the policy refuses it (larger than its maximum), or when
  ///   the store cannot be written.
  public func store(_ result: Result, computedIn duration: Duration = .zero, in store: Store)
    throws
  {
    try store.seed(self, with: result, duration: duration)
  }
}

extension Store {
  /// The call a ``MemoizedCall`` names, filed as a miss would file it.
  func prepared<R>(_ call: MemoizedCall<R>) throws -> PreparedCall {
    guard var prepared = prepare(call.op, call.arguments, call.types, result: R.self) else {
      throw RecallError.invalidValue(
        "an argument of \(call.op.id.name) could not be encoded (see the warning); "
          + "the call cannot be looked up")
    }
    _ = confirm(&prepared)
    return prepared
  }

  /// The call's two keys: the one its op's calls were last found under
  /// first, then the other (random in the trial, or shared by every trial).
  func candidates(_ call: PreparedCall) -> [PreparedCall] {
    [call, call.keyed(random: !call.isRandom)]
  }

  func isStored<R>(_ call: MemoizedCall<R>) throws -> Bool {
    for candidate in candidates(try prepared(call)) {
      if let entry = memory.get(candidate.id), !hasExpired(call.op, storedAt: entry.storedAt) {
        return true
      }
      if let stored = try backend.loadResult(candidate.id),
        !hasExpired(call.op, storedAt: stored.storedAt)
      {
        return true
      }
    }
    return false
  }

  func storedResult<R: Codable & Sendable>(of call: MemoizedCall<R>) throws -> R? {
    for candidate in candidates(try prepared(call)) {
      var unusable: MissCause?
      if let value: R = reuse(candidate, unusable: &unusable) { return value }
    }
    return nil
  }

  func seed<R: Codable & Sendable>(_ call: MemoizedCall<R>, with value: R, duration: Duration)
    throws
  {
    // Filed as a result the op's calls were last found as: random in the
    // trial once the process has seen the op draw, else shared. Outside
    // trial 0 a seed of an op not known to draw would be served to every
    // trial: refused.
    var prepared = try prepared(call)
    let isRandom = call.op.details.knownRandomness == .random
    if prepared.trial != 0 && !isRandom {
      throw RecallError.invalidValue(
        "a result given for \(call.op.id.name) in trial \(prepared.trial) would be filed as one "
          + "every trial shares, since this process has not seen its calls draw: seed it outside "
          + "withTrial, or after a call of it has run in this trial")
    }
    prepared = prepared.keyed(random: isRandom)
    let output: EncodedValue
    let files: [TrackedFile]
    do {
      (output, files) = try FileCollection.collecting { try ValueCodec.encode(value) }
    } catch {
      throw RecallError.invalidValue(
        "the result given for \(call.op.id.name) could not be encoded: \(error)")
    }
    var policy = storagePolicy(for: call.op)
    policy.minimumDuration = nil
    if let reason = policy.reasonNotToStore(
      duration: duration.inSeconds, bytes: output.totalSize), reason != .memoryOnly
    {
      throw RecallError.invalidValue(
        "the result given for \(call.op.id.name) is not stored: \(reason) "
          + "(its StoragePolicy); raise maximumBytes to store it")
    }
    let inputs = callInputs(prepared)
    let hid = historyID(prepared, inputs)
    // As if its body had just finished after running for `duration`.
    let now = Date()
    let entry = MemoryLayer.Entry(
      value: value, cid: output.cid, hid: hid, size: output.totalSize,
      duration: duration.inSeconds, storedAt: now.timeIntervalSince1970, files: files,
      parts: output.valueParts)
    guard policy.isMemoryOnly != true else {
      memory.put(prepared.id, entry)
      return
    }
    let (record, values) = try callRecord(
      prepared, output: output, inputs: inputs, hid: hid, keyFields: prepared.keyFields,
      startedAt: now.addingTimeInterval(-duration.inSeconds), duration: duration.inSeconds,
      cause: nil)
    try backend.record(record, values: values)
    memory.put(prepared.id, entry)
    eventCenter.emit(.didStore(prepared.reference, bytes: output.totalSize))
    diskBudget.stored(output.totalSize)
  }
}
