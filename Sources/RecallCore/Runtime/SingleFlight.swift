import Foundation
import Synchronization

/// Makes the same call, requested by several tasks or threads of one process at
/// once, execute once: the first becomes the leader, the others wait for it and
/// then find its stored result.
final class SingleFlight: Sendable {
  /// One call in flight.
  final class Flight: @unchecked Sendable {
    // Guarded by `condition`.
    private let condition = NSCondition()
    private var isDone = false
    private var continuations: [CheckedContinuation<Void, Never>] = []

    /// Blocks the calling thread until the leader finishes.
    func wait() {
      condition.lock()
      while !isDone { condition.wait() }
      condition.unlock()
    }

    /// Suspends the calling task until the leader finishes.
    func wait() async {
      await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
        condition.lock()
        if isDone {
          condition.unlock()
          continuation.resume()
        } else {
          continuations.append(continuation)
          condition.unlock()
        }
      }
    }

    fileprivate func finish() {
      condition.lock()
      isDone = true
      let waiting = continuations
      continuations = []
      condition.broadcast()
      condition.unlock()
      for continuation in waiting { continuation.resume() }
    }
  }

  enum Role {
    case leader(Flight)
    case follower(Flight)
  }

  private let flights = Mutex<[CallID: Flight]>([:])

  func begin(_ id: CallID) -> Role {
    flights.withLock { flights in
      if let flight = flights[id] { return .follower(flight) }
      let flight = Flight()
      flights[id] = flight
      return .leader(flight)
    }
  }

  func end(_ id: CallID, _ flight: Flight) {
    flights.withLock { flights in
      if flights[id] === flight { flights[id] = nil }
    }
    flight.finish()
  }
}

/// The memoized calls the current task is inside of, innermost first.
///
/// A call that (directly or through others) calls itself with the same
/// arguments must not wait for its own flight; it runs unmemoized instead.
final class CallStack: Sendable {
  let id: CallID
  let parent: CallStack?
  /// The stream of the call's ``RandomSource``.
  let random: RandomStream

  init(id: CallID, parent: CallStack?, random: RandomStream) {
    self.id = id
    self.parent = parent
    self.random = random
  }

  /// The memoized call whose body the current task runs in, if any.
  static var current: CallStack? { TaskScope.current.stack }

  /// Whether `id` is this call's or one of its callers'.
  func contains(_ id: CallID) -> Bool {
    var node: CallStack? = self
    while let frame = node {
      if frame.id == id { return true }
      node = frame.parent
    }
    return false
  }
}
