import Foundation
import Synchronization

@testable import RecallCore

/// Records a store's events so tests can assert which calls executed.
final class EventLog: Sendable {
  private final class Events: Sendable {
    let list = Mutex<[RecallEvent]>([])
  }

  private let events = Events()
  private let token: ObservationToken

  init(_ store: Store) {
    let events = self.events
    token = store.observe { event in events.list.withLock { $0.append(event) } }
  }

  var all: [RecallEvent] { events.list.withLock { $0 } }

  /// Names of the ops whose bodies ran, in order.
  var executed: [String] {
    all.compactMap { if case .willExecute(let call) = $0 { call.op.name } else { nil } }
  }

  /// Names of the ops whose results were reused, in order.
  var reused: [String] {
    all.compactMap { if case .didReuse(let call, _, _) = $0 { call.op.name } else { nil } }
  }

  var warnings: [RecallWarning] {
    all.compactMap { if case .warning(let warning) = $0 { warning } else { nil } }
  }

  func clear() { events.list.withLock { $0.removeAll() } }
}

/// An op for tests that call the runtime directly, without the macros.
func testOp(_ name: String, version: String = "v1") -> Op {
  Op(id: OpID(name), version: CodeFingerprint(hex: version))
}

func quietStore() -> Store {
  var configuration = Store.Configuration()
  configuration.printsWarnings = false
  return Store.inMemory(configuration: configuration)
}
