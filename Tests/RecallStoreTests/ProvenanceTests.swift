import Foundation
import RecallStoreTestSupport
import RecallTestSupport
import Testing

@testable import RecallCore
@testable import RecallPostgres
@testable import RecallSQLite

/// load → train → score, the shape of an experiment, on one store.
struct Pipeline {
  let store: Store
  let load = Op(id: "Tests.load(seed:)", version: CodeFingerprint(hex: "l1"))
  let train = Op(id: "Tests.train(_:)", version: CodeFingerprint(hex: "t1"))
  let score = Op(id: "Tests.score(_:)", version: CodeFingerprint(hex: "s1"))

  func run(seed: Int) -> Double {
    let data = store.memoize(load, [Argument("seed", seed)]) { [Double(seed), 2, 3] }
    let model = store.memoize(train, [Argument("data", data)]) { data.reduce(0, +) }
    return store.memoize(score, [Argument("model", model)]) { model / 10 }
  }

  func id(_ op: Op, _ arguments: [Argument]) throws -> CallID {
    try #require(store.prepare(op, arguments, [], result: Double.self)).id
  }
}

@Suite struct ProvenanceTests {
  @Test(arguments: Backend.allCases) func upstreamAndDownstreamFollowHistories(_ kind: Backend)
    throws
  {
    let backend = try Reopenable(kind)
    let pipeline = Pipeline(store: backend.open())
    _ = pipeline.run(seed: 1)
    let store = pipeline.store
    let loadCall = try #require(try store.calls(of: "Tests.load(seed:)").first)
    let trainCall = try #require(try store.calls(of: "Tests.train(_:)").first)
    let scoreCall = try #require(try store.calls(of: "Tests.score(_:)").first)

    #expect(try store.upstream(of: scoreCall.id).map(\.id) == [trainCall.id, loadCall.id])
    #expect(try store.downstream(of: loadCall.id).map(\.id) == [trainCall.id, scoreCall.id])
    #expect(try store.upstream(of: loadCall.id).isEmpty)
    #expect(try store.producers(of: trainCall.outputCID).map(\.id) == [trainCall.id])
    #expect(try store.consumers(of: trainCall.outputCID).map(\.id) == [scoreCall.id])

    // Equal content built where `train` did not run (another op's body) has
    // no history: not part of the lineage.
    let report = Op(id: "Tests.report(_:)", version: CodeFingerprint(hex: "r1"))
    let wrapper = Op(id: "Tests.wrapper()", version: CodeFingerprint(hex: "w1"))
    _ = store.memoize(wrapper, []) { store.memoize(report, [Argument("model", 6.0)]) { "six" } }
    store.flush()
    let reportCall = try #require(try store.calls(of: "Tests.report(_:)").first)
    #expect(reportCall.inputs.map(\.hid) == [HistoryID(external: trainCall.outputCID)])
    #expect(
      try store.consumers(of: trainCall.outputCID).map(\.id).contains(reportCall.id), "by content")
    #expect(try store.downstream(of: trainCall.id).map(\.id) == [scoreCall.id])
    // The same value in the scope where `train` returned it: its output.
    _ = store.memoize(report, [Argument("model", 6.0), Argument("again", true)]) { "six" }
    store.flush()
    #expect(try store.downstream(of: trainCall.id).count == 2)
  }

  @Test(arguments: Backend.allCases) func forgettingAndCollectingKeepWhatRemainingCallsNeed(
    _ kind: Backend
  ) throws {
    let backend = try Reopenable(kind)
    let pipeline = Pipeline(store: backend.open())
    _ = pipeline.run(seed: 1)
    _ = pipeline.run(seed: 2)
    let store = pipeline.store
    let before = try store.backend.summary()
    #expect(before.calls == 6)

    // Forgetting seed 1's data with everything downstream of it.
    let load1 = try #require(try store.calls(of: "Tests.load(seed:)", inputs: ["seed": 1]).first)
    let forgotten = try store.forget([load1.id], includingDownstream: true)
    #expect(forgotten.count == 3)
    #expect(try store.backend.summary().calls == 3)
    let collected = try store.collectGarbage(keepingFilesNewerThan: Date())
    #expect(collected.values > 0)
    // Seed 2 is intact and served; seed 1 recomputes.
    let log = EventLog(store)
    let fresh = Pipeline(store: backend.open())
    let freshLog = EventLog(fresh.store)
    #expect(fresh.run(seed: 2) == 0.7)
    #expect(freshLog.executed.isEmpty)
    #expect(fresh.run(seed: 1) == 0.6)
    #expect(freshLog.executed.count == 3)
    #expect(log.executed.isEmpty)

    // A second collection finds nothing more: every remaining value is used.
    #expect(try fresh.store.collectGarbage(keepingFilesNewerThan: Date()).values == 0)
  }

  @Test(arguments: Backend.allCases.filter { $0 == .sqlite || $0 == .postgresBlobs })
  func aCollectionBetweenABlobWriteAndItsCommitLosesNothing(_ kind: Backend) throws {
    let directory = TemporaryDirectory()
    let schema = PostgresSchema()
    var configuration = Store.Configuration()
    configuration.printsWarnings = false
    let backend: any StoreWriter
    let setBeforeCommit: ((@Sendable () -> Void)?) -> Void
    if kind == .sqlite {
      var sqlite = SQLiteBackend.Configuration()
      sqlite.inlineThreshold = 16
      let opened = try SQLiteBackend(path: directory.path, configuration: sqlite)
      (backend, setBeforeCommit) = (opened, { hook in opened.beforeCommit.withLock { $0 = hook } })
    } else {
      let opened = try schema.open(blobs: directory)
      (backend, setBeforeCommit) = (opened, { hook in opened.beforeCommit.withLock { $0 = hook } })
    }
    let store = Store(backend: backend, configuration: configuration)
    let op = Op(id: "Tests.big(_:)", version: CodeFingerprint(hex: "1"))
    // An unused value with the cid the next result will have, so that the
    // collection deletes its row and its file.
    let unused = try ValueCodec.encode([Double](repeating: 1, count: 100))
    try backend.record(
      CallRecord(
        id: CallID(Digest.sha256("old")), op: op.id, opVersion: op.version,
        semanticVersion: op.version, trial: 0,
        inputs: [], outputCID: unused.cid, outputHID: HistoryID(external: unused.cid),
        outputSize: unused.bytes.count,
        startedAt: Date(), duration: 0, host: "h", pid: 1),
      values: [unused])
    _ = try backend.forget([CallID(Digest.sha256("old"))])
    // The collection runs after the next record wrote its blob, before it commits.
    setBeforeCommit {
      _ = try? backend.collectGarbage(keepingFilesNewerThan: Date(timeIntervalSinceNow: 60))
    }
    #expect(
      store.memoize(op, [Argument("n", 100)]) { [Double](repeating: 1, count: 100) }.count == 100)
    setBeforeCommit(nil)
    let fresh = Store(backend: backend, configuration: configuration)
    let log = EventLog(fresh)
    #expect(fresh.memoize(op, [Argument("n", 100)]) { [Double]() }.count == 100)
    #expect(log.executed.isEmpty)
  }

  @Test(arguments: Backend.allCases) func tagsNameCallsAndKeepTheirResults(_ kind: Backend) throws {
    let backend = try Reopenable(kind)
    let pipeline = Pipeline(store: backend.open())
    _ = pipeline.run(seed: 3)
    let store = pipeline.store
    let score = try #require(try store.calls(of: "Tests.score(_:)").first)
    try store.tag("baseline", call: score.id)
    try store.tag(
      "data", value: try #require(try store.calls(of: "Tests.load(seed:)").first).outputCID)
    #expect(try store.tags().map(\.name) == ["baseline", "data"])
    #expect(try store.tagged("baseline")?.target == .call(score.id))
    expectError(RecallError.notFound) { try store.tag("x", call: CallID(Digest.sha256("none"))) }

    // Forgotten calls' values survive collection while a tag names them.
    try store.forget(try store.ops().flatMap { try store.calls(of: $0.op).map(\.id) })
    _ = try store.collectGarbage(keepingFilesNewerThan: Date())
    // The call is gone, so is its tag's hold.
    #expect(try store.value(score.outputCID, as: Double.self) == nil)
    #expect(try store.backend.value(try #require(try store.tagged("data")).valueCID!) != nil)
    #expect(try store.removeTag("data"))
    #expect(try !store.removeTag("data"))
  }
}

extension StoreTag {
  var valueCID: ContentID? { if case .value(let cid) = target { cid } else { nil } }
}
