import Synchronization

#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#elseif canImport(Darwin)
  import Darwin
#endif

/// A lock for critical sections of a few hundred nanoseconds that threads
/// take very often (the memory layer, the history map): it spins briefly
/// before it waits, where `Mutex` on Linux goes to the kernel (a
/// priority-inheriting futex) as soon as it finds the lock taken. A sweep's
/// two workers hitting the store at once spent a sixth of their time there
/// (scenario H).
final class ShortLock<Value>: @unchecked Sendable {
  private let held = Atomic<Bool>(false)
  private var value: Value

  init(_ value: Value) { self.value = value }

  /// Runs `body` with the value, holding the lock.
  func withLock<R>(_ body: (inout Value) throws -> R) rethrows -> R {
    if !held.compareExchange(expected: false, desired: true, ordering: .acquiring).exchanged {
      wait()
    }
    defer { held.store(false, ordering: .releasing) }
    return try body(&value)
  }

  /// Takes the lock once it is free: spins a while, then gives the processor
  /// up between tries (a holder that was preempted runs).
  private func wait() {
    var tries = 0
    repeat {
      tries += 1
      if tries > 100 { sched_yield() }
    } while held.load(ordering: .relaxed)
      || !held.compareExchange(expected: false, desired: true, ordering: .acquiring).exchanged
  }
}
