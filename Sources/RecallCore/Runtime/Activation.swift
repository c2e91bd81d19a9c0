/// Scoped settings of the current task: which store memoized calls use, and
/// whether memoization is on.
extension Store {
  @TaskLocal static var activated: Store?

  /// The store activated for the current task by ``activate(_:)-(()->R)``, if any.
  public static var activatedStore: Store? { activated }

  /// Runs `body` with this store as the one memoized functions use.
  ///
  /// ```swift
  /// try store.activate {
  ///   let data = loadData(seed: 0)   // looked up in, or stored into, `store`
  /// }
  /// ```
  public func activate<R>(_ body: () throws -> R) rethrows -> R {
    try Store.$activated.withValue(self, operation: body)
  }

  /// Runs `body` with this store as the one memoized functions use, in tasks
  /// too (task-local values are inherited by child tasks).
  public func activate<R>(
    isolation: isolated (any Actor)? = #isolation, _ body: () async throws -> R
  ) async rethrows -> R {
    try await Store.$activated.withValue(self, operation: body, isolation: isolation)
  }
}

/// Whether memoized functions memoize, for the current task: switched off
/// for a scope with ``disabled(_:)-(()->R)``.
public enum Memoization {
  /// Whether memoization is on for the current task.
  public static var isEnabled: Bool { !TaskScope.current.isMemoizationDisabled }

  /// Runs `body` with memoization off: memoized functions called inside run
  /// their bodies and neither look up nor store anything.
  public static func disabled<R>(_ body: () throws -> R) rethrows -> R {
    try TaskScope.with({ $0.isMemoizationDisabled = true }, body)
  }

  /// Runs `body` with memoization off, in tasks too.
  public static func disabled<R>(
    isolation: isolated (any Actor)? = #isolation, _ body: () async throws -> R
  ) async rethrows -> R {
    try await TaskScope.with(
      { $0.isMemoizationDisabled = true }, isolation: isolation, body)
  }

  /// Runs `body` recomputing the memoized calls it makes: each runs its body
  /// even when its result is stored, and its result replaces the stored one.
  /// The calls their bodies make are looked up as usual.
  ///
  /// ```swift
  /// let fresh = Memoization.recomputing { evaluate(model, on: test) }
  /// ```
  public static func recomputing<R>(_ body: () throws -> R) rethrows -> R {
    try TaskScope.with({ $0.recomputes = true }, body)
  }

  /// Runs `body` reusing stored results only: a memoized call it makes
  /// whose result is not stored does not run its body (mandala's
  /// `allow_new_calls(False)`: "I only want to read what my sweep
  /// computed").
  ///
  /// ```swift
  /// let scores = try Memoization.reusingOnly {
  ///   try seeds.map { try evaluate(seed: $0) }
  /// }
  /// ```
  ///
  /// A call that is not stored throws ``RecallError/notStored(_:)`` from
  /// the function called when it can: a function that throws any `Error`.
  /// A function that cannot throw it (one that does not throw, or throws a
  /// type of its own) stops the program with that message instead, as a
  /// failed precondition does; ask such a call first with its companion's
  /// ``MemoizedCall/isStored(in:)`` or read it with
  /// ``MemoizedCall/storedResult(in:)``. Hits are not audited in the scope
  /// (``AuditPolicy``). Two kinds of call still run, as they would outside:
  /// calls in a ``disabled(_:)-(()->R)`` scope nested inside, and calls
  /// whose arguments cannot be encoded (never stored; a warning says so).
  public static func reusingOnly<R>(_ body: () throws -> R) rethrows -> R {
    try TaskScope.with({ $0.reusesOnly = true }, body)
  }

  /// Runs `body` reusing stored results only, in tasks too.
  public static func reusingOnly<R>(
    isolation: isolated (any Actor)? = #isolation, _ body: () async throws -> R
  ) async rethrows -> R {
    try await TaskScope.with({ $0.reusesOnly = true }, isolation: isolation, body)
  }

  /// Runs `body` recomputing the memoized calls it makes, in tasks too.
  public static func recomputing<R>(
    isolation: isolated (any Actor)? = #isolation, _ body: () async throws -> R
  ) async rethrows -> R {
    try await TaskScope.with({ $0.recomputes = true }, isolation: isolation, body)
  }
}
