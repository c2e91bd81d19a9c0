import Foundation

extension Store {
  /// How often a process saves its environment again while it records
  /// calls (``StoreWriter/saveEnvironment(_:changes:)``): ten minutes.
  static let environmentRenewal: Double = 600

  /// The environment a call of `op` recorded at `date` (now; tests give
  /// another) names: its module's build section and this process
  /// (``CallEnvironment``), saved in the store the first time this process
  /// records a call from that module, and again every ``environmentRenewal``,
  /// so that a garbage collection never takes it from a process still using
  /// it. Timed by when calls are recorded, not when they started: a call that
  /// ran for a day renews it before it names it.
  func environmentID(recording op: Op, at date: Date = Date()) -> EnvironmentID {
    let build = op.details.build
    let key = UInt(bitPattern: build.utf8Start)
    let now = date.timeIntervalSince1970
    if let saved = savedEnvironments.withLock({ $0[key] }),
      now - saved.savedAt < Self.environmentRenewal
    {
      return saved.id
    }
    let (environment, changes) = CallEnvironment.current(build: build)
    do {
      try backend.saveEnvironment(environment, changes: changes)
    } catch {
      // Said once per renewal: the calls name an environment the store does
      // not have, which reads as unknown.
      warn(
        .storeFailure, nil,
        "\(op.id.name): could not record the environment its calls ran in (\(error)).")
    }
    savedEnvironments.withLock { $0[key] = (environment.id, now) }
    return environment.id
  }

  /// The environment a call ran in: its code's git commit and uncommitted
  /// changes, the compiler, the dependencies, the system and Recall's
  /// version; `nil` for a call recorded before Recall kept it.
  ///
  /// ```swift
  /// let environment = try store.environment(of: call)
  /// print(environment?.commit ?? "unknown", environment?.compiler ?? "")
  /// ```
  public func environment(of call: CallRecord) throws -> CallEnvironment? {
    try call.environment.flatMap { try environment($0) }
  }

  /// The environment with this id, or `nil` when the store has none.
  public func environment(_ id: EnvironmentID) throws -> CallEnvironment? {
    try backend.environment(id)
  }

  /// The changes the environment's tree had over its commit, as a patch
  /// that `git apply` takes in the repository's root (after `git checkout`
  /// of ``CallEnvironment/commit``), or `nil` when it had none.
  public func uncommittedChanges(of environment: CallEnvironment) throws -> String? {
    try environment.changesDigest.flatMap { try backend.uncommittedChanges(digest: $0) }
  }
}
