import Foundation

/// An op version's resolution in one store: the semantic version its calls
/// are filed under, and the call key's hash state after the op's fields.
///
/// A class: every call copies its op's resolution, and the key prefix (a
/// SHA-256 state) is large.
final class ResolvedOp: Sendable {
  let semanticVersion: CodeFingerprint
  let keyPrefix: DigestBuilder
  /// Whether the store was asked (a *confirmed* resolution). Until it is,
  /// calls are looked up under the version itself (the *assumed* resolution,
  /// ``Op/assumedResolution``): a call found there was computed by this
  /// version or one the user declared equivalent, so serving it is right, and
  /// a hit costs no query. A miss confirms the resolution before it executes.
  let isConfirmed: Bool
  /// The store's ``Store/generation`` when it was looked up (0 for an
  /// assumed resolution): a confirmed call whose generation is not the
  /// store's current one is resolved again before it executes and before it
  /// is recorded.
  let generation: UInt64

  init(
    semanticVersion: CodeFingerprint, keyPrefix: DigestBuilder, isConfirmed: Bool,
    generation: UInt64 = 0
  ) {
    self.semanticVersion = semanticVersion
    self.keyPrefix = keyPrefix
    self.isConfirmed = isConfirmed
    self.generation = generation
  }
}

extension Store {
  /// The op version's resolution in this store as far as this process knows:
  /// confirmed once a call of it missed here, assumed before.
  func resolution(of op: Op) -> ResolvedOp {
    let generation = generation.load(ordering: .acquiring)
    return cachedResolution(of: op, generation) ?? resolutions.withLock { $0[op.identity] }
      ?? op.assumedResolution
  }

  /// The resolution the op cached for this store and generation, if any.
  private func cachedResolution(of op: Op, _ generation: UInt64) -> ResolvedOp? {
    op.state.entry.withLock { entry in
      entry.flatMap { $0.store == serial && $0.generation == generation ? $0.resolved : nil }
    }
  }

  /// Resolves the op version in this store (a confirmed resolution),
  /// recording the version the first time this process needs it here.
  func resolve(_ op: Op) -> ResolvedOp {
    let generation = generation.load(ordering: .acquiring)
    if let resolved = cachedResolution(of: op, generation) { return resolved }
    let resolved = resolveOnce(op, generation)
    op.state.entry.withLock {
      $0 = .init(store: serial, generation: generation, resolved: resolved)
    }
    return resolved
  }

  private func resolveOnce(_ op: Op, _ generation: UInt64) -> ResolvedOp {
    if let resolved = resolutions.withLock({ $0[op.identity] }) { return resolved }
    // Read before the registration, so that a change accepted after it is
    // noticed at the next miss (``noticeAcceptedChanges()``).
    if acceptCountSeen.load(ordering: .acquiring) < 0, let count = try? backend.acceptCount() {
      _ = acceptCountSeen.compareExchange(
        expected: -1, desired: count, ordering: .acquiringAndReleasing)
    }
    var semanticVersion = op.version
    do {
      var registration = op.registration
      registration.location = configuration.program ?? VersionRegistration.thisProgram
      registration.since = opened
      semanticVersion = try backend.registerVersion(registration, at: Date())
    } catch {
      warn(
        .storeFailure, nil,
        "\(op.id.name): could not record version \(op.version) in the store (\(error)); its calls "
          + "are filed under this version only.")
    }
    let resolved = ResolvedOp(
      semanticVersion: semanticVersion,
      keyPrefix: CallID.keyPrefix(
        op: op.details.keyName, semanticVersion: semanticVersion, trial: 0),
      isConfirmed: true, generation: generation)
    resolutions.withLock {
      // Not when a version was accepted meanwhile: the lookup may predate it.
      if self.generation.load(ordering: .acquiring) == generation { $0[op.identity] = resolved }
    }
    return resolved
  }

  /// Whether a change was accepted in the store (by any process, such as
  /// `recall accept`) since this store last looked; if so, every op is
  /// resolved again. Called at each miss of a confirmed call: a
  /// miss is about to compute, and the look is one small read.
  func noticeAcceptedChanges() -> Bool {
    guard let count = try? backend.acceptCount() else { return false }
    let seen = acceptCountSeen.exchange(count, ordering: .acquiringAndReleasing)
    guard seen >= 0, seen != count else { return false }
    resolutions.withLock { $0.removeAll() }
    generation.add(1, ordering: .releasing)
    return true
  }
}
