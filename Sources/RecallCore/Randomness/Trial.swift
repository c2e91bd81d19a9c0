/// Which trial of a random computation the current task runs.
///
/// Trials number the samples of a random computation: trial 0 is the default,
/// and ``withTrial(_:_:)`` selects another for a scope. A memoized call that
/// draws from ``RandomSource`` is computed once per trial; a call that does
/// not is computed once and shared by every trial.
public enum Trial {
  /// The trial of the current task: 0 unless ``withTrial(_:_:)`` selected
  /// another.
  public static var current: Int { TaskScope.current.trial }
}

/// Runs `body` in trial `trial`: memoized calls inside it that draw from
/// ``RandomSource`` are computed (and stored) once for this trial, seeded
/// from it; calls that do not are shared by every trial.
///
/// ```swift
/// let losses = (0..<5).map { trial in
///   withTrial(trial) { train(rate: 0.1, epochs: 10) }
/// }
/// ```
///
/// ``Store/samples(_:parallelism:progress:handlesInterrupt:_:)`` runs trials `0..<n` in
/// parallel.
///
/// - Parameters:
///   - trial: The trial, from 0 (the default trial).
///   - body: The work to run in it.
public func withTrial<R>(_ trial: Int, _ body: () throws -> R) rethrows -> R {
  precondition(trial >= 0, "trials are numbered from 0; \(trial) is not a trial")
  return try TaskScope.with({ $0.trial = trial }, body)
}

/// Runs the asynchronous `body` in trial `trial`, and tasks it starts too
/// (task-local values are inherited by child tasks).
///
/// See ``withTrial(_:_:)``.
public func withTrial<R>(
  _ trial: Int, isolation: isolated (any Actor)? = #isolation, _ body: () async throws -> R
) async rethrows -> R {
  precondition(trial >= 0, "trials are numbered from 0; \(trial) is not a trial")
  return try await TaskScope.with({ $0.trial = trial }, isolation: isolation, body)
}
