/// What the current task runs inside of, in one task-local value: the
/// memoized call whose body is running, the trial, and whether memoization is
/// off. One value rather than three, because a hit reads all three: each
/// task-local read walks the task's bindings, so three keys cost three walks
/// past every binding made inside the scope (a hit inside `withTrial` paid
/// about 0.1 µs for it).
struct TaskScope: Sendable {
  /// The memoized call whose body is running, with its callers.
  var stack: CallStack?
  /// The trial (``Trial/current``).
  var trial = 0
  /// Whether ``Memoization/disabled(_:)-(()->R)`` switched memoization off.
  var isMemoizationDisabled = false

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
