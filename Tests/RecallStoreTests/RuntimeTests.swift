import Foundation
import RecallStoreTestSupport
import RecallTestSupport
import Synchronization
import Testing

@testable import RecallCore

struct NotEncodable: Codable, Sendable {
  var value: Int
  func encode(to encoder: any Encoder) throws {
    throw EncodingError.invalidValue(value, .init(codingPath: [], debugDescription: "refused"))
  }
}

struct Failure: Error, Equatable {}

/// The runtime's behaviour — which calls execute, what is stored, what events
/// say — on every backend.
@Suite struct RuntimeTests {
  @Test(arguments: Backend.allCases) func theSameCallRunsOnce(_ kind: Backend) throws {
    let place = try Reopenable(kind)
    let store = place.open()
    let log = EventLog(store)
    let op = testOp("square")
    func square(_ x: Int) -> Int { store.memoize(op, [Argument("x", x)]) { x * x } }
    #expect(square(3) == 9)
    #expect(square(3) == 9)
    #expect(square(4) == 16)
    #expect(log.executed == ["square", "square"])
    #expect(log.reused == ["square"])
    let stats = try store.stats()
    #expect(stats.calls == 2)
    #expect(stats.hits == 1)
    #expect(stats.misses == 2)
  }

  @Test(arguments: Backend.allCases) func versionsAndNamesSeparateCalls(_ kind: Backend) throws {
    let place = try Reopenable(kind)
    let store = place.open()
    let log = EventLog(store)
    _ = store.memoize(testOp("f", version: "a"), [Argument("x", 1)]) { 1 }
    _ = store.memoize(testOp("f", version: "b"), [Argument("x", 1)]) { 2 }
    _ = store.memoize(testOp("g", version: "a"), [Argument("x", 1)]) { 3 }
    _ = store.memoize(testOp("f", version: "a"), [Argument("y", 1)]) { 4 }
    #expect(log.executed.count == 4)
    #expect(store.memoize(testOp("f", version: "b"), [Argument("x", 1)]) { 0 } == 2)
  }

  @Test(arguments: Backend.allCases) func typesEnterTheKey(_ kind: Backend) throws {
    let place = try Reopenable(kind)
    let store = place.open()
    let log = EventLog(store)
    _ = store.memoize(testOp("zero"), [], types: [Int.self]) { "Int" }
    _ = store.memoize(testOp("zero"), [], types: [Double.self]) { "Double" }
    #expect(store.memoize(testOp("zero"), [], types: [Int.self]) { "?" } == "Int")
    #expect(log.executed.count == 2)
  }

  @Test(arguments: Backend.allCases) func aThrowingBodyStoresNothingAndRethrows(_ kind: Backend)
    throws
  {
    let place = try Reopenable(kind)
    let store = place.open()
    let log = EventLog(store)
    let op = testOp("fails")
    #expect(throws: Failure.self) {
      try store.memoize(op, [Argument("x", 1)]) { () throws(Failure) -> Int in throw Failure() }
    }
    #expect(try store.stats().calls == 0)
    let value = try store.memoize(op, [Argument("x", 1)]) { () throws(Failure) -> Int in 5 }
    #expect(value == 5)
    #expect(log.executed.count == 2)
    #expect(log.all.contains { if case .didFail = $0 { true } else { false } })
  }

  @Test(arguments: Backend.allCases) func anUnencodableResultIsReturnedNotStored(_ kind: Backend)
    throws
  {
    let place = try Reopenable(kind)
    let store = place.open()
    let log = EventLog(store)
    let op = testOp("unencodable")
    #expect(store.memoize(op, []) { NotEncodable(value: 1) }.value == 1)
    #expect(store.memoize(op, []) { NotEncodable(value: 2) }.value == 2)
    #expect(log.executed.count == 2)
    #expect(log.warnings.map(\.kind) == [.unencodableResult, .unencodableResult])
    #expect(try store.stats().calls == 0)
  }

  @Test(arguments: Backend.allCases) func anUnencodableArgumentRunsUnmemoizedWithAWarning(
    _ kind: Backend
  ) throws {
    let place = try Reopenable(kind)
    let store = place.open()
    let log = EventLog(store)
    let result = store.memoize(testOp("f"), [Argument("x", NotEncodable(value: 1))]) { 7 }
    #expect(result == 7)
    #expect(log.warnings.map(\.kind) == [.unhashableArgument])
  }

  @Test(arguments: Backend.allCases) func disabledRunsTheBodyEveryTime(_ kind: Backend) throws {
    let place = try Reopenable(kind)
    let store = place.open()
    let log = EventLog(store)
    let counter = Mutex(0)
    let op = testOp("count")
    for _ in 0..<3 {
      Memoization.disabled {
        _ = store.memoize(op, []) {
          counter.withLock {
            $0 += 1
            return $0
          }
        }
      }
    }
    #expect(counter.withLock { $0 } == 3)
    #expect(log.all.isEmpty)
  }

  @Test(arguments: Backend.allCases) func aCallInFlightInTwoTasksRunsOnce(_ kind: Backend)
    async throws
  {
    let place = try Reopenable(kind)
    let store = place.open()
    let log = EventLog(store)
    let op = testOp("slow")
    let results = try await withThrowingTaskGroup(of: Int.self) { group in
      for _ in 0..<8 {
        group.addTask {
          await store.memoize(op, [Argument("x", 1)]) { () async -> Int in
            try? await Task.sleep(for: .milliseconds(200))
            return 42
          }
        }
      }
      return try await group.reduce(into: []) { $0.append($1) }
    }
    #expect(results == Array(repeating: 42, count: 8))
    #expect(log.executed == ["slow"])
  }

  @Test(arguments: Backend.allCases) func aCallInFlightOnTwoThreadsRunsOnce(_ kind: Backend) throws
  {
    let place = try Reopenable(kind)
    let store = place.open()
    let log = EventLog(store)
    let op = testOp("slowSync")
    DispatchQueue.concurrentPerform(iterations: 6) { _ in
      let value = store.memoize(op, [Argument("x", 2)]) { () -> Int in
        Thread.sleep(forTimeInterval: 0.2)
        return 4
      }
      #expect(value == 4)
    }
    #expect(log.executed == ["slowSync"])
  }

  @Test(arguments: Backend.allCases) func aCallThatCallsItselfDoesNotDeadlock(_ kind: Backend)
    throws
  {
    let place = try Reopenable(kind)
    let store = place.open()
    let op = testOp("recursive")
    func recurse(_ depth: Int) -> Int {
      store.memoize(op, [Argument("depth", 0)]) { depth >= 3 ? depth : recurse(depth + 1) }
    }
    #expect(recurse(0) == 3)
  }

  @Test(arguments: Backend.allCases) func inputsTakeTheHistoryOfAnEqualOutputInTheirScope(
    _ kind: Backend
  ) throws {
    let place = try Reopenable(kind)
    let store = place.open()
    let first = testOp("first")
    let other = testOp("other")
    let second = testOp("second")
    func input(_ call: Int) throws -> CallInput {
      let calls = try store.calls(of: "second").sorted { $0.startedAt < $1.startedAt }
      return try #require(calls[call].inputs.first { $0.name == "value" })
    }
    func output(_ op: String) throws -> HistoryID {
      try #require(try store.calls(of: OpID(op)).first).outputHID
    }
    let tenCID = try ValueCodec.contentID(of: 10)

    // At top level: the value `first` returned.
    let a = store.memoize(first, [Argument("seed", 1)]) { 10 }
    _ = store.memoize(second, [Argument("value", a), Argument("tag", 0)]) { a + 1 }
    store.flush()
    #expect(try input(0).hid == output("first"))

    // In another op's body, where `first` did not run, equal content has
    // no history of its own: external.
    let wrapper = testOp("wrapper")
    _ = store.memoize(wrapper, []) {
      store.memoize(second, [Argument("value", 10), Argument("tag", 1)]) { 11 }
    }
    store.flush()
    #expect(try input(1).hid == HistoryID(external: tenCID))

    // In a body that reused `first` (a hit), its output's history again.
    let reuser = testOp("reuser")
    _ = store.memoize(reuser, []) {
      let again = store.memoize(first, [Argument("seed", 1)]) { 10 }
      return store.memoize(second, [Argument("value", again), Argument("tag", 2)]) { again + 1 }
    }
    store.flush()
    #expect(try input(2).hid == output("first"))

    // A body that calls into another store links nothing there, and leaves
    // no scope behind in it.
    let elsewhere = quietStore()
    _ = store.memoize(testOp("bridge"), []) {
      elsewhere.memoize(testOp("remote"), [Argument("value", 10)]) { 12 }
    }
    #expect(elsewhere.histories.scopeCount == 0)
    #expect(store.histories.scopeCount == 1)

    // Two different calls returned equal values in the scope: no guess.
    _ = store.memoize(other, [Argument("seed", 2)]) { 10 }
    _ = store.memoize(second, [Argument("value", 10), Argument("tag", 3)]) { 11 }
    store.flush()
    #expect(try input(3).hid == HistoryID(external: tenCID))
  }

  @Test(arguments: Backend.allCases) func eventsAsAnAsyncStream(_ kind: Backend) async throws {
    let place = try Reopenable(kind)
    let store = place.open()
    let stream = store.events()
    _ = store.memoize(testOp("e"), []) { 1 }
    var kinds: [String] = []
    for await event in stream {
      switch event {
      case .didMiss(_, let cause): kinds.append("didMiss(\(cause.rawValue))")
      case .willExecute: kinds.append("willExecute")
      case .didExecute: kinds.append("didExecute")
      case .didStore: kinds.append("didStore")
      default: kinds.append("other")
      }
      if kinds.count == 4 { break }
    }
    #expect(kinds == ["didMiss(notStored)", "willExecute", "didExecute", "didStore"])
  }

  @Test(arguments: Backend.allCases) func resultsSurviveReopening(_ kind: Backend) throws {
    let place = try Reopenable(kind)
    do {
      let store = place.open()
      let log = EventLog(store)
      #expect(series(store, 10).count == 10)
      #expect(log.executed.count == 1)
      store.flush()
    }
    let reopened = place.open()
    let log = EventLog(reopened)
    #expect(series(reopened, 10) == (0..<10).map { Double($0) / 3 })
    #expect(log.executed.count == 0)
    #expect(log.reused.count == 1)
    let stats = try reopened.stats()
    #expect(stats.calls == 1)
    #expect(stats.hits == 1)
  }

  @Test(arguments: Backend.allCases) func aResultWhoseTypeChangedIsRecomputedAndReplaced(
    _ kind: Backend
  ) throws {
    struct Old: Codable, Sendable { var a: Int }
    struct New: Codable, Sendable, Equatable {
      var a: Int
      var b: String
    }
    let place = try Reopenable(kind)
    let changing = Op(id: "Tests.changing()", version: CodeFingerprint(hex: "1"))
    do {
      let store = place.open()
      _ = store.memoize(changing, []) { Old(a: 1) }
      store.flush()
    }
    let store = place.open()
    let log = EventLog(store)
    #expect(store.memoize(changing, []) { New(a: 2, b: "x") } == New(a: 2, b: "x"))
    #expect(log.executed.count == 1)
    #expect(log.warnings.map(\.kind) == [.undecodableResult])
    store.flush()  // another process sees the replacement once it is committed
    let again = place.open()
    let logAgain = EventLog(again)
    #expect(again.memoize(changing, []) { New(a: 3, b: "y") } == New(a: 2, b: "x"))
    #expect(logAgain.executed.count == 0)
  }

  /// An added parameter at its default is left out of the key, whatever its
  /// type: a generic function's instances have defaults of different types
  /// (`1` as an `Int`, `1.0` as a `Double`), each hashed once.
  @Test(arguments: Backend.allCases) func addedParametersAtTheirDefaultsOfAnyTypeFindEarlierCalls(
    _ kind: Backend
  ) throws {
    let place = try Reopenable(kind)
    let store = place.open()
    let log = EventLog(store)
    let op = testOp("scale")
    // Before the parameter existed.
    #expect(store.memoize(op, [Argument("x", 2)]) { 2 } == 2)
    for _ in 0..<2 {
      #expect(
        store.memoize(op, [Argument("x", 2), Argument(added: "factor", 1, default: 1)]) { -1 } == 2)
      #expect(
        store.memoize(op, [Argument("x", 2), Argument(added: "factor", 1.0, default: 1.0)]) { -1 }
          == 2)
    }
    #expect(
      store.memoize(op, [Argument("x", 2), Argument(added: "factor", 3, default: 1)]) { 6 } == 6)
    #expect(log.executed.count == 2)
  }

  /// A store opened for reading (as the `recall` tool's listings open it)
  /// serves what is stored, runs and records nothing else, and refuses
  /// changes with a `readOnly` error.
  @Test(arguments: Backend.allCases) func aStoreOpenedForReadingServesHitsAndChangesNothing(
    _ kind: Backend
  ) throws {
    let place = try Reopenable(kind)
    do {
      let store = place.open()
      _ = series(store, 10)
      store.flush()
    }
    var configuration = Store.Configuration()
    configuration.printsWarnings = false
    let reader = Store(reading: place.backend, configuration: configuration)
    let log = EventLog(reader)
    #expect(series(reader, 10) == (0..<10).map { Double($0) / 3 })
    #expect(log.executed.isEmpty)
    #expect(series(reader, 11).count == 11)
    reader.flush()
    #expect(log.executed.count == 1)
    #expect(log.warnings.map(\.kind) == [.storeFailure])
    #expect(log.warnings.first?.message.contains("opened for reading only") == true)
    #expect(try reader.summary().calls == 1)
    let id = try #require(try reader.calls(of: op.id).first).id
    expectError(RecallError.readOnly) { try reader.forget([id]) }
    expectError(RecallError.readOnly) { try reader.tag("best", call: id) }
    expectError(RecallError.readOnly) { try reader.collectGarbage() }
    #expect(try place.open().calls(of: op.id).map(\.id) == [id])
  }
}
