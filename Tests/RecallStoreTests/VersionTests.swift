import Foundation
import RecallStoreTestSupport
import RecallTestSupport
import Synchronization
import Testing

@testable import RecallCore
@testable import RecallPostgres
@testable import RecallSQLite

@Suite struct VersionTests {
  static let double = "func scale(_ x: Double) -> Double {\n  let y = x\n  return y * 2\n}"
  static let triple = "func scale(_ x: Double) -> Double {\n  let y = x\n  return y * 3\n}"

  @Test(arguments: Backend.allCases) func versionsAreRecordedWithTheirCalls(_ kind: Backend) throws
  {
    let backend = try Reopenable(kind)
    let v1 = scaledOp("a1", helper: Self.double)
    let v2 = scaledOp("b2", helper: Self.triple)
    do {
      let store = backend.open()
      #expect(scaled(store, v1, 1, factor: 2) == 2)
      #expect(scaled(store, v1, 2, factor: 2) == 4)
    }
    do {
      let store = backend.open()
      #expect(scaled(store, v2, 1, factor: 3) == 3)
    }
    let store = backend.open()
    var versions = try store.versions(of: "Tests.scaled(x:)")
    #expect(versions.map(\.version.hex) == ["a1", "b2"])
    #expect(versions.map(\.calls) == [2, 1])
    #expect(versions.map(\.isCurrent) == [false, true])
    #expect(versions.map(\.semanticVersion.hex) == ["a1", "b2"])
    #expect(versions[0].parameters == ["x"])
    #expect(versions[0].firstSeen <= versions[1].firstSeen)

    // Going back to the old code finds its results (hits record nothing), and
    // makes it current once it computes.
    let log = EventLog(store)
    #expect(scaled(store, v1, 2, factor: 2) == 4)
    #expect(log.executed.isEmpty)
    #expect(try store.versions(of: "Tests.scaled(x:)").map(\.isCurrent) == [false, true])
    #expect(scaled(store, v1, 3, factor: 2) == 6)
    versions = try store.versions(of: "Tests.scaled(x:)")
    #expect(versions.map(\.isCurrent) == [true, false])
    #expect(try store.versions(of: "Tests.unknown()").isEmpty)
  }

  @Test(arguments: Backend.allCases) func diffsShowWhatChangedComponentByComponent(_ kind: Backend)
    throws
  {
    let backend = try Reopenable(kind)
    do { _ = scaled(backend.open(), scaledOp("a1", helper: Self.double), 1, factor: 2) }
    let store = backend.open()
    let v2 = Op(
      id: "Tests.scaled(x:)", version: CodeFingerprint(hex: "b2"),
      components: {
        [
          CodeComponent(
            identity: "func scaled(x:)", fingerprint: "op-1",
            source: "@Memoized\nfunc scaled(x: Double) -> Double {\n  scale(x)\n}"),
          CodeComponent(identity: "func scale(_:)", fingerprint: "scale-3", source: Self.triple),
          CodeComponent(identity: "var factor", fingerprint: "f", source: "let factor = 3"),
        ]
      })
    _ = scaled(store, v2, 1, factor: 3)
    let diff = try store.diff(
      "Tests.scaled(x:)", from: CodeFingerprint(hex: "a1"), to: CodeFingerprint(hex: "b2"))
    #expect(diff.isComplete)
    // The constant is named as its source declares it.
    #expect(diff.changes.map(\.summary) == ["func scale(_:) changed", "let factor added"])
    #expect(diff.changes.map(\.identity) == ["func scale(_:)", "var factor"])
    #expect(
      diff.changes[0].unifiedDiff == """
        --- func scale(_:) scale-func s
        +++ func scale(_:) scale-3
        @@ -1,4 +1,4 @@
         func scale(_ x: Double) -> Double {
           let y = x
        -  return y * 2
        +  return y * 3
         }
        """)
    #expect(String(describing: diff).contains("func scale(_:) changed\nlet factor added\n"))

    // Prefixes name versions; unknown ones are clear errors.
    #expect(try store.version(of: "Tests.scaled(x:)", matching: "b") == CodeFingerprint(hex: "b2"))
    expectError(RecallError.notFound) {
      try store.version(of: "Tests.scaled(x:)", matching: "c")
    }
    expectError(RecallError.notFound) {
      try store.diff(
        "Tests.scaled(x:)", from: CodeFingerprint(hex: "a1"), to: CodeFingerprint(hex: "zz"))
    }
  }

  @Test(arguments: Backend.allCases) func staleCallsAreExplained(_ kind: Backend) throws {
    let backend = try Reopenable(kind)
    let store = backend.open()
    _ = scaled(store, scaledOp("a1", helper: Self.double), 1, factor: 2)
    let oldCall = try #require(
      store.prepare(
        scaledOp("a1", helper: Self.double), [Argument("x", 1.0)], [], result: Double.self))
    #expect(try store.staleness(of: oldCall.id) == nil)

    let newer = backend.open()
    _ = scaled(newer, scaledOp("b2", helper: Self.triple), 1, factor: 3)
    let staleness = try #require(try newer.staleness(of: oldCall.id))
    #expect(staleness.from.hex == "a1")
    #expect(staleness.to.hex == "b2")
    #expect(staleness.changes.map(\.summary) == ["func scale(_:) changed"])
    expectError(RecallError.notFound) {
      try newer.staleness(of: CallID(Digest.sha256("no such call")))
    }
  }

  @Test(arguments: Backend.allCases) func acceptedChangesServeOldResults(_ kind: Backend) throws {
    let backend = try Reopenable(kind)
    let v1 = scaledOp("a1", helper: Self.double)
    let v2 = scaledOp("b2", helper: Self.double + "\n// refactored")
    do {
      let store = backend.open()
      _ = scaled(store, v1, 1, factor: 2)
      _ = scaled(store, v1, 2, factor: 2)
    }
    do {
      // The new version recomputes x = 1 before the user accepts it, and
      // computes x = 5, which only it has.
      let store = backend.open()
      let log = EventLog(store)
      _ = scaled(store, v2, 1, factor: 2)
      _ = scaled(store, v2, 5, factor: 2)
      #expect(log.executed.count == 2)
      try store.accept("Tests.scaled(x:)", version: v2.version, as: v1.version)
      // Served at once in the process that accepted.
      #expect(scaled(store, v2, 2, factor: -1) == 4)
      #expect(log.executed.count == 2)
    }
    let store = backend.open()
    let log = EventLog(store)
    #expect(scaled(store, v2, 1, factor: -1) == 2)
    #expect(scaled(store, v2, 2, factor: -1) == 4)
    #expect(scaled(store, v2, 5, factor: -1) == 10)
    #expect(scaled(store, v1, 5, factor: -1) == 10)
    #expect(log.executed.isEmpty)
    let versions = try store.versions(of: "Tests.scaled(x:)")
    #expect(versions.map(\.semanticVersion.hex) == ["a1", "a1"])
    // The duplicate of x = 1 was dropped: three calls in all.
    #expect(versions.map(\.calls).reduce(0, +) == 3)

    // Accepting a version as itself takes it back out: it keeps the calls it ran.
    try store.accept("Tests.scaled(x:)", version: v2.version, as: v2.version)
    let split = backend.open()
    let splitLog = EventLog(split)
    #expect(scaled(split, v2, 5, factor: -1) == 10)
    #expect(scaled(split, v2, 2, factor: 7) == 14)
    #expect(scaled(split, v1, 2, factor: -1) == 4)
    #expect(splitLog.executed == ["scaled(x:)"])
    expectError(RecallError.notFound) {
      try store.accept("Tests.scaled(x:)", version: CodeFingerprint(hex: "zz"), as: v1.version)
    }
  }

  @Test(arguments: Backend.allCases) func addedParametersFindCallsFromBeforeThem(_ kind: Backend)
    throws
  {
    let backend = try Reopenable(kind)
    let v1 = scaledOp("a1", helper: Self.double)
    do { _ = scaled(backend.open(), v1, 1, factor: 2) }

    // The op's own declaration changed (its parameters), nothing else.
    let v2 = scaledOp(
      "b2", helper: Self.double, parameters: ["x", "useScaling"], added: ["useScaling"])
    let store = backend.open()
    let log = EventLog(store)
    #expect(addedCall(store, v2, 1, useScaling: false) == 2)
    #expect(log.executed.isEmpty)
    #expect(addedCall(store, v2, 1, useScaling: true) == 10)
    #expect(log.executed.count == 1)
    #expect(try store.versions(of: "Tests.scaled(x:)").map(\.semanticVersion.hex) == ["a1", "a1"])

    // A later edit, with the parameter still declared added, is a code change.
    let v3 = scaledOp(
      "c3", helper: Self.triple, parameters: ["x", "useScaling"], added: ["useScaling"])
    let later = backend.open()
    let laterLog = EventLog(later)
    #expect(addedCall(later, v3, 1, useScaling: false) == 2)
    #expect(laterLog.executed.count == 1)
    #expect(try later.versions(of: "Tests.scaled(x:)").last?.semanticVersion.hex == "c3")
  }

  @Test(arguments: Backend.allCases) func addingAParameterWithAHelperEditRecomputes(_ kind: Backend)
    throws
  {
    // Issue 16, defect 1: adding `useScaling` and changing a helper in the
    // same build served the old helper's results.
    let backend = try Reopenable(kind)
    let v1 = scaledOp("a1", helper: Self.double)
    do { _ = scaled(backend.open(), v1, 1, factor: 2) }

    let v2 = scaledOp(
      "b2", helper: Self.triple, parameters: ["x", "useScaling"], added: ["useScaling"])
    let store = backend.open()
    let log = EventLog(store)
    #expect(addedCall(store, v2, 1, useScaling: false, factor: 3) == 3)
    #expect(log.executed == ["scaled(x:)"])
    #expect(try store.versions(of: "Tests.scaled(x:)").map(\.semanticVersion.hex) == ["a1", "b2"])
    // The diff shows the helper's edit as the reason.
    let diff = try store.diff("Tests.scaled(x:)", from: v1.version, to: v2.version)
    #expect(diff.changes.map(\.identity).contains("func scale(_:)"))
  }

  func addedCall(_ store: Store, _ op: Op, _ x: Double, useScaling: Bool, factor: Double = 2)
    -> Double
  {
    store.memoize(
      op, [Argument("x", x), Argument(added: "useScaling", useScaling, default: false)]
    ) {
      useScaling ? x * 10 : x * factor
    }
  }

  @Test(arguments: Backend.allCases) func aRevertedVersionIsCurrentAgainThroughItsHits(
    _ kind: Backend
  ) throws {
    // Issue 16, defect 5: change, run, revert, run twice (every call a hit):
    // the reverted-to version is current, its calls are not stale.
    let backend = try Reopenable(kind)
    let v1 = scaledOp("a1", helper: Self.double)
    let v2 = scaledOp("b2", helper: Self.triple)
    do {
      let store = backend.open()
      for x in 1...3 { _ = scaled(store, v1, Double(x), factor: 2) }
    }
    do {
      let store = backend.open()
      for x in 1...3 { _ = scaled(store, v2, Double(x), factor: 3) }
      try store.saveUsage()
    }
    for _ in 0..<2 {
      let store = backend.open()
      let log = EventLog(store)
      for x in 1...3 { _ = scaled(store, v1, Double(x), factor: 2) }
      #expect(log.executed.isEmpty)
      try store.saveUsage()
    }
    let store = backend.open()
    let current = try store.versions(of: "Tests.scaled(x:)").filter(\.isCurrent).map(\.version.hex)
    #expect(current == ["a1"])
    let stale = try store.staleCalls()
    #expect(stale.count == 3)
    #expect(stale.allSatisfy { $0.opVersion.hex == "b2" })
    // The reverted-away version was used moments ago: kept unless forced.
    #expect(try store.forgetStaleCalls(unusedFor: .seconds(3600)).isEmpty)
    #expect(try store.forgetStaleCalls(unusedFor: .zero).count == 3)
    #expect(try store.calls(of: "Tests.scaled(x:)").count == 3)
  }

  @Test(arguments: Backend.allCases) func eachProgramHasItsOwnCurrentVersion(_ kind: Backend) throws
  {
    // Two checkouts on different branches share a store: neither makes the
    // other's results stale, however they alternate.
    let backend = try Reopenable(kind)
    let main = scaledOp("a1", helper: Self.double)
    let branch = scaledOp("b2", helper: Self.triple)
    for round in 0..<2 {
      let first = backend.open(program: "host:/src/main/.build/debug/run")
      let firstLog = EventLog(first)
      _ = scaled(first, main, 1, factor: 2)
      try first.saveUsage()
      let second = backend.open(program: "host:/src/branch/.build/debug/run")
      let secondLog = EventLog(second)
      _ = scaled(second, branch, 1, factor: 3)
      try second.saveUsage()
      #expect(firstLog.executed.count == (round == 0 ? 1 : 0))
      #expect(secondLog.executed.count == (round == 0 ? 1 : 0))
      let versions = try first.versions(of: "Tests.scaled(x:)")
      #expect(versions.filter(\.isCurrent).map(\.version.hex).sorted() == ["a1", "b2"])
      #expect(try first.staleCalls().isEmpty)
    }
    // The branch's checkout moves to main's code: the branch's result is stale.
    let moved = backend.open(program: "host:/src/branch/.build/debug/run")
    _ = scaled(moved, main, 1, factor: 2)
    try moved.saveUsage()
    #expect(try moved.staleCalls().map(\.opVersion.hex) == ["b2"])
  }

  @Test(arguments: Backend.allCases) func anOpRecordedBeforeNamesHadTypesIsRenamedWithItsResults(
    _ kind: Backend
  )
    throws
  {
    // A store written when ops were named with labels only: the op with the
    // typed name takes over its versions and calls, which keep their ids.
    let backend = try Reopenable(kind)
    let v1 = scaledOp("a1", helper: Self.double)
    do {
      let store = backend.open()
      for x in 1...2 { _ = scaled(store, v1, Double(x), factor: 2) }
      try store.saveUsage()
    }
    func typed(_ version: String, helper: String) -> Op {
      let labels = scaledOp(version, helper: helper)
      return Op(
        id: "Tests.scaled(x: Double)", version: labels.version, parameters: labels.parameters,
        components: labels.components, keyName: "Tests.scaled(x:)")
    }
    let store = backend.open()
    let log = EventLog(store)
    #expect(scaled(store, typed("a1", helper: Self.double), 1, factor: 0) == 2)
    #expect(scaled(store, typed("a1", helper: Self.double), 3, factor: 2) == 6)
    #expect(log.executed == ["scaled(x:)"])
    #expect(try store.ops().map(\.op.name) == ["Tests.scaled(x: Double)"])
    #expect(try store.calls(of: "Tests.scaled(x: Double)").count == 3)
    #expect(
      try store.versions(of: "Tests.scaled(x:)").map(\.version.hex) == ["a1"],
      "found by its label name")
    #expect(try store.usage(of: "Tests.scaled(x: Double)").reduce(0) { $0 + $1.misses } >= 2)

    // Accepting re-files calls under their label-name keys.
    let v2 = typed("b2", helper: Self.triple)
    _ = scaled(store, v2, 9, factor: 3)
    try store.accept("Tests.scaled(x: Double)", version: v2.version, as: v1.version)
    let later = backend.open()
    let laterLog = EventLog(later)
    #expect(scaled(later, v2, 1, factor: 0) == 2)
    #expect(scaled(later, typed("a1", helper: Self.double), 9, factor: 0) == 27)
    #expect(laterLog.executed.isEmpty)
  }

  @Test(arguments: Backend.allCases) func aProcessStillRunningOlderCodeDoesNotTakeCurrentBack(
    _ kind: Backend
  )
    throws
  {
    // The same program, rebuilt: the process started later runs v2; the one
    // still running v1 misses again, and saves its counts, after it.
    let backend = try Reopenable(kind)
    let v1 = scaledOp("a1", helper: Self.double)
    let v2 = scaledOp("b2", helper: Self.triple)
    let old = backend.open()
    _ = scaled(old, v1, 1, factor: 2)
    Thread.sleep(forTimeInterval: 0.01)
    let new = backend.open()
    _ = scaled(new, v2, 1, factor: 3)
    _ = scaled(old, v1, 2, factor: 2)
    try old.saveUsage()
    try new.saveUsage()
    let versions = try new.versions(of: "Tests.scaled(x:)")
    #expect(versions.filter(\.isCurrent).map(\.version.hex) == ["b2"])
    #expect(Set(try new.staleCalls().map(\.opVersion.hex)) == ["a1"])
  }

  @Test(arguments: Backend.allCases) func anAcceptedChangeIsSeenAtTheNextMiss(_ kind: Backend)
    throws
  {
    // A running process whose op is resolved sees an accept made by another
    // process (`recall accept`) at its next miss, not only after a restart.
    let backend = try Reopenable(kind)
    let v1 = scaledOp("a1", helper: Self.double)
    let v2 = scaledOp("b2", helper: Self.triple)
    do { _ = scaled(backend.open(), v1, 1, factor: 2) }
    let running = backend.open()
    let log = EventLog(running)
    _ = scaled(running, v2, 5, factor: 2)  // confirms v2 in this process
    #expect(log.executed.count == 1)
    try backend.open().accept("Tests.scaled(x:)", version: v2.version, as: v1.version)
    #expect(scaled(running, v2, 1, factor: 2) == 2)
    #expect(log.executed.count == 1)
    #expect(log.reused.count == 1)
  }

  @Test(arguments: Backend.allCases) func aRecursiveCallOfAnAcceptedVersionDoesNotDeadlock(
    _ kind: Backend
  ) throws {
    let backend = try Reopenable(kind)
    let v1 = scaledOp("a1", helper: Self.double)
    let v2 = scaledOp("b2", helper: Self.triple)
    do {
      let store = backend.open()
      _ = scaled(store, v1, 9, factor: 1)
      _ = scaled(store, v2, 9, factor: 1)
      try store.accept("Tests.scaled(x:)", version: v2.version, as: v1.version)
    }
    // In a new process the call's resolution is assumed (filed under b2)
    // until it misses; confirmed, its id is the one the executing call
    // already has.
    let store = backend.open()
    func recurse(_ depth: Int) -> Int {
      store.memoize(v2, [Argument("x", 0)]) { depth >= 3 ? depth : recurse(depth + 1) }
    }
    #expect(recurse(0) == 3)
  }

  @Test func aVersionInheritsOnlyWhenItsNewParametersAreDeclaredAdded() {
    let own = CodeComponent(identity: "func f(x:)", fingerprint: "new-own", source: "")
    let helper = CodeComponent(identity: "func g()", fingerprint: "g1", source: "")
    func registration(_ parameters: [String], added: [String]) -> VersionRegistration {
      VersionRegistration(
        op: "Tests.f(x:)", version: CodeFingerprint(hex: "new"), parameters: parameters,
        addedParameters: added, components: { [] })
    }
    func inherited(
      _ registration: VersionRegistration, _ latest: OpVersion?, components: [CodeComponent] = []
    )
      -> String
    {
      let old = [CodeComponent(identity: "func f(x:)", fingerprint: "old-own", source: ""), helper]
      return registration.semanticVersion(
        following: latest, components: components.isEmpty ? [own, helper] : components
      ) {
        old
      }.hex
    }
    let latest = OpVersion(
      op: "Tests.f(x:)", version: CodeFingerprint(hex: "old"),
      semanticVersion: CodeFingerprint(hex: "root"),
      firstSeen: Date(), lastSeen: Date(), parameters: ["x"], calls: 0, isCurrent: true)
    #expect(registration(["x", "y"], added: ["y"]).ownIdentity == "func f(x:)")
    #expect(inherited(registration(["x", "y"], added: ["y"]), latest) == "root")
    #expect(inherited(registration(["x", "y", "z"], added: ["y", "z"]), latest) == "root")
    #expect(inherited(registration(["x", "y", "z"], added: ["y"]), latest) == "new")
    #expect(inherited(registration(["y"], added: ["y"]), latest) == "new")
    #expect(inherited(registration(["x"], added: ["y"]), latest) == "new")
    #expect(inherited(registration(["x", "y"], added: ["y"]), nil) == "new")
    // Any other component changed, added or removed: an ordinary change.
    let edited = CodeComponent(identity: "func g()", fingerprint: "g2", source: "")
    let extra = CodeComponent(identity: "let nClass", fingerprint: "n", source: "")
    #expect(
      inherited(registration(["x", "y"], added: ["y"]), latest, components: [own, edited]) == "new")
    #expect(
      inherited(registration(["x", "y"], added: ["y"]), latest, components: [own, helper, extra])
        == "new")
    #expect(inherited(registration(["x", "y"], added: ["y"]), latest, components: [own]) == "new")
    // An overload the op calls shares its identity: nothing is inherited.
    let overload = CodeComponent(identity: "func f(x:)", fingerprint: "other-overload", source: "")
    #expect(
      inherited(
        registration(["x", "y"], added: ["y"]), latest, components: [own, helper, overload])
        == "new")
  }
}
