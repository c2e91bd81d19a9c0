import Foundation
import Synchronization

/// The observers of one store's events.
final class EventCenter: Sendable {
  /// The observers in the order they were added: an array, so that an
  /// event takes it with one retain (every hit emits one while a sweep
  /// observes), not by copying a dictionary's values.
  private let observers = Mutex<[(id: UInt64, handler: @Sendable (RecallEvent) -> Void)]>([])
  private let nextID = Atomic<UInt64>(0)
  private let count = Atomic<Int>(0)

  /// Whether anyone listens; emitting is free when nobody does.
  var isObserved: Bool { count.load(ordering: .relaxed) > 0 }

  func add(_ handler: @escaping @Sendable (RecallEvent) -> Void) -> UInt64 {
    let id = nextID.wrappingAdd(1, ordering: .relaxed).newValue
    observers.withLock { $0.append((id, handler)) }
    count.add(1, ordering: .relaxed)
    return id
  }

  func remove(_ id: UInt64) {
    let removed = observers.withLock { observers in
      guard let index = observers.firstIndex(where: { $0.id == id }) else { return false }
      observers.remove(at: index)
      return true
    }
    if removed { count.subtract(1, ordering: .relaxed) }
  }

  func emit(_ event: @autoclosure () -> RecallEvent) {
    guard isObserved else { return }
    let event = event()
    let handlers = observers.withLock { $0 }
    for observer in handlers { observer.handler(event) }
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
