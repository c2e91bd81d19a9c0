import Dispatch
import Foundation
import Synchronization

/// Work that runs when the process exits normally (`exit`, or `main`
/// returning): storing results that are still being committed, saving counts
/// of use. A process killed by a signal runs none of it.
package enum BeforeExit {
  private final class Entry: Sendable {
    let essential: Bool
    let run: @Sendable () -> Void
    init(essential: Bool, run: @escaping @Sendable () -> Void) {
      self.essential = essential
      self.run = run
    }
  }

  private static let entries = Mutex<[ObjectIdentifier: Entry]>([:])
  private static let hook: Void = { atexit { BeforeExit.runAll() } }()

  /// Runs `action` with `owner` when the process exits, if `owner` is still
  /// alive then. Registering an owner again replaces its action.
  ///
  /// - Parameter essential: Whether the process must wait for the action
  ///   however long it takes (storing results). Other actions get two seconds
  ///   in all, so that an unreachable server cannot keep a process alive.
  package static func add<Owner: AnyObject & Sendable>(
    _ owner: Owner, essential: Bool, _ action: @escaping @Sendable (Owner) -> Void
  ) {
    _ = hook
    let entry = Entry(essential: essential) { [weak owner] in if let owner { action(owner) } }
    entries.withLock { $0[ObjectIdentifier(owner)] = entry }
  }

  /// Forgets an owner's action (call it from the owner's `deinit`).
  package static func remove(_ owner: AnyObject) {
    entries.withLock { _ = $0.removeValue(forKey: ObjectIdentifier(owner)) }
  }

  private static func runAll() {
    let all = entries.withLock { Array($0.values) }
    for entry in all where entry.essential { entry.run() }
    let others = all.filter { !$0.essential }
    guard !others.isEmpty else { return }
    let done = DispatchSemaphore(value: 0)
    Thread.detachNewThread {
      for entry in others { entry.run() }
      done.signal()
    }
    _ = done.wait(timeout: .now() + 2)
  }
}
