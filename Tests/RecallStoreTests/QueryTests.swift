import Foundation
import RecallStoreTestSupport
import RecallTestSupport
import Testing

@testable import RecallCore
@testable import RecallSQLite

@Suite struct QueryTests {
  @Test(arguments: Backend.allCases) func listsCallsAndTypedResults(_ kind: Backend) throws {
    let backend = try Reopenable(kind)
    let v1 = scaledOp("a1", helper: "1")
    let v2 = scaledOp("b2", helper: "2")
    do {
      let store = backend.open()
      for x in [1.0, 2.0, 3.0] { _ = scaled(store, v1, x, factor: 2) }
    }
    let store = backend.open()
    _ = scaled(store, v2, 1, factor: 3)

    let ops = try store.ops()
    #expect(ops.map(\.op) == ["Tests.scaled(x:)"])
    #expect(ops.first?.calls == 4)
    #expect(ops.first?.versions == 2)
    #expect(ops.first?.outputBytes ?? 0 > 0)
    #expect(ops.first?.computeTime ?? .zero > .zero)

    #expect(try store.calls(of: "Tests.scaled(x:)").count == 4)
    #expect(try store.calls(of: "Tests.scaled(x:)", limit: 2).count == 2)
    // A short listing looks inputs up call by call, a long one all at once: the same records.
    #expect(
      try store.calls(of: "Tests.scaled(x:)", limit: 3)
        == Array(try store.calls(of: "Tests.scaled(x:)").prefix(3)))
    #expect(
      try store.calls(of: "Tests.scaled(x:)", limit: 3).allSatisfy {
        $0.inputs.map(\.name) == ["x"]
      })
    #expect(try store.calls(of: "Tests.scaled(x:)", version: v1.version).count == 3)
    #expect(
      try store.calls(of: "Tests.scaled(x:)", currentOnly: true).map(\.opVersion) == [v2.version])
    let two = try store.calls(of: "Tests.scaled(x:)", inputs: ["x": 2.0])
    #expect(two.count == 1)
    #expect(two.first?.inputs.map(\.name) == ["x"])

    let results = try store.results(of: "Tests.scaled(x:)", as: Double.self, version: v1.version)
    #expect(Set(results.map(\.result)) == [2, 4, 6])
    #expect(Set(try results.map { try $0.input("x", as: Double.self) }) == [1, 2, 3])
    expectError(RecallError.notFound) { try results[0].input("y", as: Double.self) }
    // Results that no longer decode as the asked type are left out.
    #expect(try store.results(of: "Tests.scaled(x:)", as: String.self).isEmpty)

    let stale = try store.staleCalls()
    #expect(stale.count == 3)
    #expect(stale.allSatisfy { $0.opVersion == v1.version })
    #expect(
      try store.backend.calls(CallQuery(idPrefix: String(stale[0].id.hex.prefix(7)))).map(\.id) == [
        stale[0].id
      ])
    #expect(try store.backend.calls(CallQuery(idPrefix: "not hex")).isEmpty)
  }

  @Test(arguments: Backend.allCases) func copyingMovesCallsValuesVersionsAndEquivalences(
    _ kind: Backend
  ) throws {
    let source = try Reopenable(kind)
    let v1 = scaledOp("a1", helper: "1")
    let v2 = scaledOp("b2", helper: "2")
    do {
      let store = source.open()
      for x in [1.0, 2.0] { _ = scaled(store, v1, x, factor: 2) }
      _ = scaled(store, v2, 5, factor: 2)
      try store.accept("Tests.scaled(x:)", version: v2.version, as: v1.version)
    }
    let target = try Reopenable(kind == .memory ? .sqlite : .memory)
    let report = try source.open().copy(to: target.open())
    #expect(report.calls == 3)
    #expect(report.versions == 2)
    #expect(report.incomplete == 0)
    let store = target.open()
    let log = EventLog(store)
    #expect(scaled(store, v2, 1, factor: -1) == 2)  // v1's result, served to v2 as accepted
    #expect(scaled(store, v1, 5, factor: -1) == 10)
    #expect(log.executed.isEmpty)
    #expect(
      try store.diff("Tests.scaled(x:)", from: v1.version, to: v2.version).changes.map(\.summary)
        == ["func scale(_:) changed"])
    // Copying again changes nothing.
    #expect(try source.open().copy(to: store).calls == 3)
    #expect(try store.backend.summary().calls == 3)
  }

  @Test(arguments: Backend.allCases) func copyingKeepsWhichVersionIsCurrent(_ kind: Backend) throws
  {
    let source = try Reopenable(kind)
    let v1 = scaledOp("a1", helper: "1")
    let v2 = scaledOp("b2", helper: "2")
    // v1, then v2, then v1 again, each in a process of its own.
    _ = scaled(source.open(), v1, 1, factor: 2)
    _ = scaled(source.open(), v2, 2, factor: 3)
    _ = scaled(source.open(), v1, 3, factor: 2)
    let sourceVersions = try source.open().versions(of: "Tests.scaled(x:)")
    #expect(sourceVersions.map(\.version.hex) == ["a1", "b2"])
    #expect(sourceVersions.map(\.isCurrent) == [true, false])
    let target = try Reopenable(kind == .memory ? .sqlite : .memory)
    try source.open().copy(to: target.open())
    let copied = try target.open().versions(of: "Tests.scaled(x:)")
    #expect(copied.map(\.version.hex) == ["a1", "b2"])
    #expect(copied.map(\.isCurrent) == [true, false])
    #expect(
      zip(copied, sourceVersions).allSatisfy {
        abs($0.firstSeen.timeIntervalSince($1.firstSeen)) < 0.001
      })
  }
}
