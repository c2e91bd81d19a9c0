import Foundation

extension Store {
  /// Runs `body` in trials `0..<count`, in parallel, and returns its results
  /// in trial order: `count` samples of a random computation, of which only
  /// those not stored yet are computed.
  ///
  /// ```swift
  /// let losses = try await store.samples(8) { train(rate: 0.1, epochs: 10) }
  /// ```
  ///
  /// Asked for 5 samples and later for 8, the second call computes trials 5,
  /// 6 and 7 and finds the others. A memoized call inside `body` that draws
  /// from ``RandomSource`` is computed once per trial; one that does not (a
  /// data set loaded and split) is computed once and shared by every trial.
  /// Sample 0 is the default trial's: what a call outside any
  /// ``withTrial(_:_:)`` returns.
  ///
  /// It is ``map(_:parallelism:progress:handlesInterrupt:_:)`` over the trials,
  /// with its progress display, cancellation and errors.
  ///
  /// - Parameters:
  ///   - count: How many samples (trials `0..<count`).
  ///   - parallelism: How many trials run at once. Default: the number of
  ///     processor cores.
  ///   - progress: How progress is shown on standard error. Default:
  ///     ``SweepProgress/automatic``.
  ///   - handlesInterrupt: Whether Ctrl-C cancels the samples rather than
  ///     ending the process (see ``map(_:parallelism:progress:handlesInterrupt:_:)``).
  ///   - body: The computation to sample.
  /// - Returns: The samples, trial 0 first.
  /// - Throws: ``SweepError`` when a trial threw (the others still ran) or the
  ///   samples were cancelled.
  public func samples<Output: Sendable>(
    _ count: Int,
    parallelism: Int = ProcessInfo.processInfo.activeProcessorCount,
    progress: SweepProgress = .automatic,
    handlesInterrupt: Bool = true,
    _ body: @escaping @Sendable () async throws -> Output
  ) async throws -> [Output] {
    precondition(count >= 0, "samples(_:) needs a count of 0 or more, not \(count)")
    return try await map(
      0..<count, parallelism: parallelism, progress: progress, handlesInterrupt: handlesInterrupt
    ) { trial in
      try await withTrial(trial) { try await body() }
    }
  }
}
