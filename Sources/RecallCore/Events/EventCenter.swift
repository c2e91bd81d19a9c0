import Foundation
import Synchronization

/// The observers of one store's events.
final class EventCenter: Sendable {
  private let observers = Mutex<[UInt64: @Sendable (RecallEvent) -> Void]>([:])
  private let nextID = Atomic<UInt64>(0)
  private let count = Atomic<Int>(0)

  /// Whether anyone listens; emitting is free when nobody does.
  var isObserved: Bool { count.load(ordering: .relaxed) > 0 }

  func add(_ handler: @escaping @Sendable (RecallEvent) -> Void) -> UInt64 {
    let id = nextID.wrappingAdd(1, ordering: .relaxed).newValue
    observers.withLock { $0[id] = handler }
    count.add(1, ordering: .relaxed)
    return id
  }

  func remove(_ id: UInt64) {
    let removed = observers.withLock { $0.removeValue(forKey: id) != nil }
    if removed { count.subtract(1, ordering: .relaxed) }
  }

  func emit(_ event: @autoclosure () -> RecallEvent) {
    guard isObserved else { return }
    let event = event()
    let handlers = observers.withLock { Array($0.values) }
    for handler in handlers { handler(event) }
  }
}

/// A registration of an event observer; the observer stays registered until
/// ``cancel()`` is called or the token is deinitialized.
public final class ObservationToken: Sendable {
  private let center: EventCenter
  private let id: UInt64

  init(center: EventCenter, id: UInt64) {
    self.center = center
    self.id = id
  }

  /// Stops the observation.
  public func cancel() { center.remove(id) }

  deinit { center.remove(id) }
}
