/// What the current task runs inside of, in one task-local value: the
/// memoized call whose body is running, the trial, whether memoization is
/// off, and whether an audit is running. One value rather than several,
/// because a call reads them all: one task-local read per call instead of
/// three (about 0.03 µs off a hit, `Benchmarks/RESULTS.md`).
struct TaskScope: Sendable {
  /// The memoized call whose body is running, with its callers.
  var stack: CallStack?
  /// The trial (``Trial/current``).
  var trial = 0
  /// Whether ``Memoization/disabled(_:)-(()->R)`` switched memoization off.
  var isMemoizationDisabled = false
  /// Whether the code runs inside an audit (``AuditPolicy``): hits there are
  /// not audited again.
  var isAuditing = false
  /// Whether memoized calls made here run even when stored
  /// (``Memoization/recomputing(_:)-(()->R)``); a body's own scope starts
  /// without it.
  var recomputes = false
  /// Whether memoized calls made here only reuse stored results, and refuse
  /// to run (``Memoization/reusingOnly(_:)-(()->R)``); a body's own scope
  /// starts without it.
  var reusesOnly = false

  @TaskLocal static var current = TaskScope()

  /// Runs `body` in this scope; returns what it returned or threw.
  func run<R, E: Error>(_ body: () throws(E) -> R) -> Result<R, E> {
    TaskScope.$current.withValue(self) { Result { () throws(E) -> R in try body() } }
  }

  /// Runs the asynchronous `body` in this scope; returns what it returned or
  /// threw.
  func run<R, E: Error>(
    isolation: isolated (any Actor)?, _ body: () async throws(E) -> R
  ) async -> Result<R, E> {
    await TaskScope.$current.withValue(
      self,
      operation: { () async -> Result<R, E> in
        do throws(E) {
          return .success(try await body())
        } catch {
          return .failure(error)
        }
      }, isolation: isolation)
  }

  /// Runs `body` in this scope changed by `change`.
  static func with<R>(_ change: (inout TaskScope) -> Void, _ body: () throws -> R) rethrows -> R {
    var scope = current
    change(&scope)
    return try $current.withValue(scope, operation: body)
  }

  /// Runs the asynchronous `body` in this scope changed by `change`.
  static func with<R>(
    _ change: (inout TaskScope) -> Void, isolation: isolated (any Actor)? = #isolation,
    _ body: () async throws -> R
  ) async rethrows -> R {
    var scope = current
    change(&scope)
    return try await $current.withValue(scope, operation: body, isolation: isolation)
  }
}
