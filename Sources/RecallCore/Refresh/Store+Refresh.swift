import Foundation

/// A memoized function that ``Store/refresh(_:parallelism:progress:handlesInterrupt:)-(RefreshableOp...,_,_,_)``
/// can call again with a stored call's inputs: the function, and its
/// companion (`$name`), which names the op its calls are calls of without
/// running it.
///
/// ```swift
/// try await store.refresh(.op(loadData, $loadData), .op(train, $train), .op(evaluate, $evaluate))
/// ```
public struct RefreshableOp: Sendable {
  /// How many parameters the function takes.
  let arity: Int
  /// The op a call with these encoded arguments (in parameter order) is a
  /// call of, through the companion: never runs anything.
  let identify: @Sendable ([EncodedValue]) throws -> Op
  /// Calls the function with these encoded arguments.
  let run: @Sendable ([EncodedValue]) async throws -> Void

  /// A memoized function and its companion, with the same parameters.
  ///
  /// - Parameters:
  ///   - function: The memoized function: `train`.
  ///   - companion: Its companion: `$train`.
  public static func op<each Argument: Codable & Sendable, Result: Codable & Sendable>(
    _ function: @escaping @Sendable (repeat each Argument) async throws -> Result,
    _ companion: @escaping @Sendable (repeat each Argument) -> MemoizedCall<Result>
  ) -> RefreshableOp {
    replaying(
      { (argument: repeat each Argument) async throws in
        _ = try await function(repeat each argument)
      }, identifiedBy: { (argument: repeat each Argument) in companion(repeat each argument).op })
  }

  /// A memoized function that returns a tuple of outputs, and its companion
  /// (whose call's result is the struct of its outputs).
  ///
  /// - Parameters:
  ///   - function: The memoized function: `split`.
  ///   - companion: Its companion: `$split`.
  public static func op<each Argument: Codable & Sendable, Outputs: _TupleOutputs>(
    _ function: @escaping @Sendable (repeat each Argument) async throws -> Outputs.Tuple,
    _ companion: @escaping @Sendable (repeat each Argument) -> MemoizedCall<Outputs>
  ) -> RefreshableOp {
    replaying(
      { (argument: repeat each Argument) async throws in
        _ = try await function(repeat each argument)
      }, identifiedBy: { (argument: repeat each Argument) in companion(repeat each argument).op })
  }

  /// Replays a function (its result is not kept) whose calls are calls of
  /// the op `identify` names.
  private static func replaying<each Argument: Codable & Sendable>(
    _ function: @escaping @Sendable (repeat each Argument) async throws -> Void,
    identifiedBy identify: @escaping @Sendable (repeat each Argument) -> Op
  ) -> RefreshableOp {
    var arity = 0
    for _ in repeat (each Argument).self { arity += 1 }
    return RefreshableOp(
      arity: arity,
      identify: { encoded in
        let reader = EncodedArguments(encoded)
        return identify(repeat try reader.next((each Argument).self))
      },
      run: { encoded in
        let reader = EncodedArguments(encoded)
        _ = try await function(repeat try reader.next((each Argument).self))
      })
  }
}

/// Decodes a function's arguments one after the other (those stored by
/// parts with their parts).
private final class EncodedArguments {
  private let values: [EncodedValue]
  private var index = 0

  init(_ values: [EncodedValue]) { self.values = values }

  func next<T: Decodable>(_ type: T.Type) throws -> T {
    defer { index += 1 }
    guard index < values.count else {
      throw RecallError.invalidValue("a stored call has fewer inputs than its function takes")
    }
    let value = values[index]
    do {
      guard ValueParts.isManifest(value.bytes) else {
        return try ValueCodec.decode(type, from: value.bytes)
      }
      let parts = Dictionary(value.parts.map { ($0.value.cid, $0.value.bytes) }) { first, _ in first
      }
      return try ValueParts.decode(type, manifest: value.bytes) { parts[$0] }
    } catch {
      // A value with its own identity was recorded as a reference to it.
      guard let reference = IdentityReference.stored(in: value.bytes) else { throw error }
      throw RecallError.invalidValue(
        "input \(index + 1) of a stored call was identified by its \(reference.type) "
          + "(\(reference.label ?? reference.scheme)), not stored: call the function with it "
          + "to compute the call again")
    }
  }
}

/// What ``Store/refresh(_:parallelism:progress:handlesInterrupt:)-(RefreshableOp...,_,_,_)`` did.
public struct RefreshReport: Sendable {
  /// An outdated call the refresh did not compute, and why.
  public struct Skipped: Sendable {
    /// The call.
    public var call: CallRecord
    /// Why: its op was not given, an input is not stored, or its function
    /// threw.
    public var reason: String
  }

  /// Calls computed again (their function's body ran).
  public var recomputed: Int
  /// Outdated calls whose replacement was found stored when the refresh
  /// came to them (another process computed it meanwhile).
  public var reused: Int
  /// Calls downstream of the ones this refresh recomputed whose inputs came
  /// out the same, byte for byte: reused without computing (early cutoff).
  public var revalidated: Int
  /// Outdated calls it could not compute.
  public var skipped: [Skipped]
  /// What is still outdated afterwards among the calls of the ops given
  /// and what is downstream of them: the skipped calls and everything
  /// downstream of those. (`recall outdated` checks every op the build
  /// has, `#memoized` blocks included.)
  public var remaining: OutdatedReport
  /// Ops whose stored calls it could not tie to a function given, because
  /// their recent calls record an input by a reference to its identity
  /// (``CustomContentIdentity``, ``Named``), not by its value: why, by op.
  /// Their calls are computed when the program calls the function.
  public var unidentified: [OpID: String] = [:]
}

extension Store {
  /// Computes again, from their stored inputs, the stored results that the
  /// current code would not reuse (``outdated(current:)``): the calls of the
  /// given ops filed under an older semantic version, then the calls whose
  /// inputs came from them, in dependency order, `parallelism` at a time,
  /// with a sweep's progress bar.
  ///
  /// ```swift
  /// let report = try await store.refresh(.op(loadData, $loadData), .op(train, $train))
  /// print(report.recomputed, "recomputed,", report.revalidated, "still valid")
  /// ```
  ///
  /// Where a recomputed call's result is byte for byte the one it replaces,
  /// the calls downstream of it keep their results (early cutoff, counted in
  /// ``RefreshReport/revalidated``). Each result is stored as it finishes,
  /// so a refresh cancelled (Ctrl-C) or killed half way resumes where it
  /// stopped. A call is made as the program would make it: looked up first,
  /// in its trial (``withTrial(_:_:)``), and its inputs keep their histories
  /// (provenance links the new calls to the calls their inputs came from).
  /// Calls of ops not given, of ops whose calls' inputs are not all stored
  /// (an ignored parameter, one added at its default) and of `#memoized`
  /// blocks are skipped, with what is downstream of them.
  ///
  /// - Parameters:
  ///   - ops: The memoized functions whose calls may be computed again.
  ///   - parallelism: How many calls run at once. Default: the number of
  ///     processor cores.
  ///   - progress: How progress is shown (``SweepProgress``), once per
  ///     round of calls whose inputs are ready.
  ///   - handlesInterrupt: Whether Ctrl-C cancels the refresh rather than
  ///     ending the process (see ``map(_:parallelism:progress:handlesInterrupt:_:)``).
  /// - Returns: What was recomputed, revalidated and skipped.
  /// - Throws: ``SweepError`` when the refresh was cancelled (what finished
  ///   is stored), ``RecallError`` when the store cannot be read.
  public func refresh(
    _ ops: RefreshableOp..., parallelism: Int = ProcessInfo.processInfo.activeProcessorCount,
    progress: SweepProgress = .automatic, handlesInterrupt: Bool = true
  ) async throws -> RefreshReport {
    try await refresh(
      ops, parallelism: parallelism, progress: progress, handlesInterrupt: handlesInterrupt)
  }

  /// Computes again the stored results that the current code would not
  /// reuse; see ``refresh(_:parallelism:progress:handlesInterrupt:)-(RefreshableOp...,_,_,_)``.
  public func refresh(
    _ ops: [RefreshableOp], parallelism: Int = ProcessInfo.processInfo.activeProcessorCount,
    progress: SweepProgress = .automatic, handlesInterrupt: Bool = true
  ) async throws -> RefreshReport {
    let (functions, ambiguous, unidentified) = try identify(ops)
    var current: [OpID: [CurrentOp]] = [:]
    for (stored, function) in functions {
      let op = function.op
      current[stored] = [
        CurrentOp(
          version: op.version, semanticVersion: resolve(op).semanticVersion,
          components: op.components())
      ]
    }
    var recomputed = 0
    var reused = 0
    var skipped: [CallID: RefreshReport.Skipped] = [:]
    var attempted: Set<CallID> = []
    var revalidatedBefore: Int?
    while true {
      let plan = try outdatedPlan(current)
      // What earlier refreshes or runs cut off is not this one's.
      if revalidatedBefore == nil { revalidatedBefore = plan.revalidated }
      var work: [OutdatedPlan.Call] = []
      for call in plan.calls where call.isReady && skipped[call.record.id] == nil {
        if ambiguous.contains(call.record.op) {
          skipped[call.record.id] = .init(
            call: call.record,
            reason: "two functions given name its op (declarations that share a name): which "
              + "one computed it is not known; run the program to compute it")
        } else if functions[call.record.op] == nil {
          skipped[call.record.id] = .init(
            call: call.record,
            reason: "its op is not among those given to refresh (pass .op(f, $f) for a "
              + "function; methods and #memoized blocks are computed by running the program)")
        } else if !attempted.insert(call.record.id).inserted {
          // It ran, yet its replacement is not where the plan looks for it.
          skipped[call.record.id] = .init(
            call: call.record,
            reason: "it ran again, but its result is not filed under the key the refresh "
              + "expects (\(call.record.op) may key calls by something its stored inputs do "
              + "not show): run the program to compute it")
        } else {
          work.append(call)
        }
      }
      guard !work.isEmpty else { break }
      let outcomes = try await replay(
        work, functions, parallelism: parallelism, progress: progress,
        handlesInterrupt: handlesInterrupt)
      for (call, outcome) in zip(work, outcomes) {
        switch outcome {
        case .success(true): recomputed += 1
        case .success(false): reused += 1
        case .failure(let error):
          skipped[call.record.id] = .init(call: call.record, reason: "\(error)")
        }
      }
      flush()
    }
    let remaining = try outdatedPlan(current)
    return RefreshReport(
      recomputed: recomputed, reused: reused,
      revalidated: remaining.revalidated - (revalidatedBefore ?? 0),
      skipped: skipped.values.sorted {
        ($0.call.startedAt, $0.call.id) < ($1.call.startedAt, $1.call.id)
      },
      remaining: remaining.report, unidentified: unidentified)
  }

  /// A given function, matched with the stored op it computes.
  private struct Identified {
    var function: RefreshableOp
    /// The op as this process declares it (its current version).
    var op: Op
    /// Its parameters, in order: the op's, or those of the stored call's
    /// version it was matched with when the op does not list them.
    var parameters: [String]
  }

  /// How many of an op's most recent calls ``identify(_:)`` tries.
  static let callsToIdentify = 5

  /// Which stored op each function computes: its companion is given the
  /// inputs of one of the op's stored calls, and names the op. Ops that two
  /// functions of different versions name (declarations that share a name)
  /// are returned apart: a stored call cannot say which one computed it.
  private func identify(_ functions: [RefreshableOp]) throws -> (
    identified: [OpID: Identified], ambiguous: Set<OpID>, unidentified: [OpID: String]
  ) {
    var identified: [OpID: Identified] = [:]
    var ambiguous: Set<OpID> = []
    var unidentified: [OpID: String] = [:]
    for summary in try backend.ops() {
      let versions = try backend.versions(of: summary.op, countingCalls: false)
      // A few recent calls: one whose inputs are all stored and decode as a
      // function's parameters names the op through its companion.
      search: for call in try backend.calls(
        CallQuery(op: summary.op, limit: Self.callsToIdentify))
      {
        guard let version = versions.first(where: { $0.version == call.opVersion }) else {
          continue
        }
        let inputs = Dictionary(call.inputs.map { ($0.name, $0) }) { first, _ in first }
        let names = version.parameters.filter { inputs[$0] != nil }
        guard names.count == call.inputs.count else { continue }
        var encoded: [EncodedValue]?
        var matches: [Identified] = []
        for function in functions where function.arity == names.count {
          if encoded == nil {
            let values = try names.map { try storedValue(inputs[$0]!.cid) }
            guard !values.contains(where: { $0 == nil }) else { continue search }
            encoded = values.map { $0! }
            // An input recorded by its identity cannot be passed again.
            for (name, value) in zip(names, encoded!) {
              guard let reference = IdentityReference.stored(in: value.bytes) else { continue }
              unidentified[summary.op] =
                "its input '\(name)' is recorded by its identity "
                + "(\(reference.label ?? reference.scheme)), not its value: "
                + "run the program to compute its calls"
              continue search
            }
          }
          guard let op = try? function.identify(encoded!),
            op.id == summary.op || op.id.labelName == summary.op.name
          else { continue }
          matches.append(
            Identified(
              function: function, op: op,
              parameters: op.parameters.isEmpty ? names : op.parameters))
        }
        guard let match = matches.first else { continue }
        unidentified[summary.op] = nil
        if Set(matches.map(\.op.version)).count > 1 {
          ambiguous.insert(summary.op)
        } else {
          identified[summary.op] = match
        }
        break search
      }
    }
    return (identified, ambiguous, unidentified)
  }

  /// Calls each function again with its call's inputs; whether its body ran.
  private func replay(
    _ calls: [OutdatedPlan.Call], _ functions: [OpID: Identified], parallelism: Int,
    progress: SweepProgress, handlesInterrupt: Bool
  ) async throws -> [Result<Bool, any Error>] {
    do {
      return try await map(
        calls, parallelism: parallelism, progress: progress, handlesInterrupt: handlesInterrupt
      ) { call -> Result<Bool, any Error> in
        do {
          try await self.replay(call, functions[call.record.op]!)
          return .success(Sweep.Element.current?.didRunABody ?? false)
        } catch {
          return .failure(error)
        }
      }
    } catch let error as SweepError where !error.wasCancelled {
      return error.results.map { ($0 as? Result<Bool, any Error>) ?? .failure(error) }
    }
  }

  private func replay(_ call: OutdatedPlan.Call, _ function: Identified) async throws {
    let record = call.record
    let inputs = Dictionary(record.inputs.map { ($0.name, $0) }) { first, _ in first }
    var encoded: [EncodedValue] = []
    var passed: [CallInput] = []
    for name in function.parameters {
      guard let input = call.substitutions[name] ?? inputs[name] else {
        throw RecallError.invalidValue(
          "call \(record.id.hex) of \(record.op) has no recorded input '\(name)' (a parameter "
            + "it ignores, or one added later): run the program to compute it")
      }
      guard let value = try storedValue(input.cid) else {
        throw RecallError.notFound(
          "the input \(name) (\(input.cid)) of call \(record.id.hex)", path: backend.location,
          hint: "Its value was evicted or collected: run the program to compute it.")
      }
      encoded.append(value)
      passed.append(input)
    }
    // The call is made in a scope of its own, seeded with its inputs'
    // histories, as a body's is: its provenance links each input to the call
    // it came from, as when the program passed it along, and replays running
    // side by side (or the program's own calls) do not mix their histories.
    var builder = DigestBuilder(domain: "recall.refresh.scope.v1")
    builder.add(UUID().uuidString)
    let scope = CallID(builder.finalize())
    histories.open(
      scope, inputs: passed,
      parts: Dictionary(encoded.map { ($0.cid, $0.valueParts) }) { first, _ in first })
    defer { histories.close(scope) }
    let frame = CallStack(id: scope, parent: nil, random: .topLevel(record.trial))
    let run = function.function.run
    try await TaskScope.with(
      { scope in
        // Made as the program makes it: memoized, looked up first.
        scope.stack = frame
        scope.trial = record.trial
        scope.isMemoizationDisabled = false
        scope.recomputes = false
        scope.reusesOnly = false
      },
      { try await run(encoded) })
  }
}
