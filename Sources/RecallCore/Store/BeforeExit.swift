import Dispatch
import Foundation
import Synchronization

/// Work that runs when the process exits normally (`exit`, or `main`
/// returning): storing results that are still being committed, saving counts
/// of use, leaving a database tidy for the next process. A process killed by
/// a signal runs none of it.
package enum BeforeExit {
  /// When an action runs: every action of a stage before any of the next.
  package enum Stage: Comparable, Sendable {
    /// Storing results: the process waits for these however long they take.
    case storing
    /// Saving what is worth keeping but not waiting for (counts of use).
    case saving
    /// Tidying up after everything was written (a WAL checkpoint).
    case closing
  }

  private final class Entry: Sendable {
    let stage: Stage
    let run: @Sendable () -> Void
    init(stage: Stage, run: @escaping @Sendable () -> Void) {
      self.stage = stage
      self.run = run
    }
  }

  private static let entries = Mutex<[ObjectIdentifier: Entry]>([:])
  private static let hook: Void = { atexit { BeforeExit.runAll() } }()

  /// Runs `action` with `owner` when the process exits, if `owner` is still
  /// alive then. Registering an owner again replaces its action.
  ///
  /// - Parameter stage: When the action runs. The process waits for the
  ///   ``Stage/storing`` actions however long they take; the others get two
  ///   seconds in all, so that an unreachable server cannot keep a process
  ///   alive.
  package static func add<Owner: AnyObject & Sendable>(
    _ owner: Owner, stage: Stage, _ action: @escaping @Sendable (Owner) -> Void
  ) {
    _ = hook
    let entry = Entry(stage: stage) { [weak owner] in if let owner { action(owner) } }
    entries.withLock { $0[ObjectIdentifier(owner)] = entry }
  }

  /// Forgets an owner's action (call it from the owner's `deinit`).
  package static func remove(_ owner: AnyObject) {
    entries.withLock { _ = $0.removeValue(forKey: ObjectIdentifier(owner)) }
  }

  private static func runAll() {
    let all = entries.withLock { Array($0.values) }.sorted { $0.stage < $1.stage }
    for entry in all where entry.stage == .storing { entry.run() }
    let others = all.filter { $0.stage != .storing }
    guard !others.isEmpty else { return }
    let done = DispatchSemaphore(value: 0)
    Thread.detachNewThread {
      for entry in others { entry.run() }
      done.signal()
    }
    _ = done.wait(timeout: .now() + 2)
  }
}
