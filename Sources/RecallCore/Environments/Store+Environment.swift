import Foundation

extension Store {
  /// The environment a call of `op` records: its module's build section and
  /// this process (``CallEnvironment``), saved in the store the first time
  /// this process records a call from that module.
  func environmentID(recording op: Op) -> EnvironmentID {
    let build = op.details.build
    let key = UInt(bitPattern: build.utf8Start)
    if let id = savedEnvironments.withLock({ $0[key] }) { return id }
    let (environment, changes) = CallEnvironment.current(build: build)
    do {
      try backend.saveEnvironment(environment, changes: changes)
    } catch {
      // Said once: the calls name an environment the store does not have,
      // which reads as unknown.
      warn(
        .storeFailure, nil,
        "\(op.id.name): could not record the environment its calls ran in (\(error)).")
    }
    savedEnvironments.withLock { $0[key] = environment.id }
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
