import Foundation
import GRDB
import RecallTestSupport
import Synchronization
import Testing

@testable import RecallCore
@testable import RecallSQLite

@Suite struct GroupCommitTests {
  static let op = Op(id: "Tests.double(x:)", version: CodeFingerprint(hex: "d1"), parameters: ["x"])

  func quietStore(_ backend: SQLiteBackend, program: String? = nil) -> Store {
    var configuration = Store.Configuration()
    configuration.printsWarnings = false
    configuration.program = program
    return Store(backend: backend, configuration: configuration)
  }

  func double(_ store: Store, _ x: Int) -> Int {
    store.memoize(Self.op, [Argument("x", x)]) { x * 2 }
  }

  func storedCalls(_ path: String) throws -> Int {
    try DatabaseQueue(path: path + "/recall.sqlite").read { db in
      try Int.fetchOne(db, sql: "SELECT count(*) FROM call") ?? 0
    }
  }

  /// Holds the backend's writer between writing blob files and its
  /// transaction: `entered` is signalled when a commit gets there, and it
  /// waits there for `proceed`.
  func holdCommits(of backend: SQLiteBackend) -> (
    entered: DispatchSemaphore, proceed: DispatchSemaphore
  ) {
    let entered = DispatchSemaphore(value: 0)
    let proceed = DispatchSemaphore(value: 0)
    backend.beforeCommit.withLock {
      $0 = {
        entered.signal()
        proceed.wait()
      }
    }
    return (entered, proceed)
  }

  @Test func aComputedCallIsServedBeforeItsCommitAndStoredAfter() throws {
    let directory = TemporaryDirectory()
    let backend = try SQLiteBackend(path: directory.path)
    let (entered, proceed) = holdCommits(of: backend)
    let store = quietStore(backend)
    let log = EventLog(store)
    #expect(double(store, 21) == 42)
    entered.wait()
    // Not committed: another process (another backend) does not see it yet,
    // and it is not reported stored ...
    #expect(try storedCalls(directory.path) == 0)
    #expect(!log.all.contains { if case .didStore = $0 { true } else { false } })
    // ... but a fresh store of this process finds it, and does not run it again.
    let other = quietStore(backend)
    let otherLog = EventLog(other)
    #expect(double(other, 21) == 42)
    #expect(otherLog.executed.isEmpty)
    #expect(otherLog.reused.count == 1)
    backend.beforeCommit.withLock { $0 = nil }
    proceed.signal()
    store.flush()
    #expect(try storedCalls(directory.path) == 1)
    #expect(log.all.contains { if case .didStore(_, let bytes) = $0 { bytes > 0 } else { false } })
  }

  @Test func aBlobNamedByTwoCallsOfOneCommitKeepsItsStamp() throws {
    let directory = TemporaryDirectory()
    var configuration = SQLiteBackend.Configuration()
    configuration.inlineThreshold = 1024
    let backend = try SQLiteBackend(path: directory.path, configuration: configuration)
    let store = quietStore(backend)
    let step = Op(id: "Tests.step(_:)", version: CodeFingerprint(hex: "s1"))
    let next = { (values: [Double]) in
      store.memoize(step, [Argument("values", values)]) { values.map { $0 + 1 } }
    }
    // The first commit waits, so that the next two calls share one: the
    // second one's input is the first one's output, a blob written once.
    let entered = DispatchSemaphore(value: 0)
    let proceed = DispatchSemaphore(value: 0)
    let commits = Atomic(0)
    backend.beforeCommit.withLock {
      $0 = {
        if commits.add(1, ordering: .relaxed).newValue == 1 {
          entered.signal()
          proceed.wait()
        }
      }
    }
    let first = next([Double](repeating: 0, count: 1_000))
    entered.wait()
    _ = next(next(first))
    proceed.signal()
    store.flush()
    #expect(commits.load(ordering: .relaxed) == 2, "the two later calls shared a commit")
    // Every blob has the stamp of its write: a hit maps it without reading it.
    let unstamped = try DatabaseQueue(path: directory.path + "/recall.sqlite").read { db in
      try Int.fetchOne(
        db,
        sql: "SELECT count(*) FROM value WHERE bytes IS NULL AND size IS NOT NULL AND stamp IS NULL"
      )
    }
    #expect(unstamped == 0)
    #expect(try storedCalls(directory.path) == 3)
  }

  @Test func queriesSeeEveryCallComputedBeforeThem() throws {
    let directory = TemporaryDirectory()
    let store = quietStore(try SQLiteBackend(path: directory.path))
    for x in 0..<200 { _ = double(store, x) }
    // No flush: a query waits for the calls being committed.
    #expect(try store.calls(of: Self.op.id).count == 200)
    #expect(try store.stats().calls == 200)
  }

  @Test func manyThreadsShareCommitsAndLoseNothing() throws {
    let directory = TemporaryDirectory()
    let backend = try SQLiteBackend(path: directory.path)
    let store = quietStore(backend)
    let log = EventLog(store)
    DispatchQueue.concurrentPerform(iterations: 4) { thread in
      for x in 0..<250 { #expect(double(store, thread * 1_000 + x) == (thread * 1_000 + x) * 2) }
    }
    store.flush()
    #expect(try storedCalls(directory.path) == 1_000)
    let stored = log.all.filter { if case .didStore = $0 { true } else { false } }
    #expect(stored.count == 1_000)
    // Another process finds every one of them.
    let reopened = quietStore(try SQLiteBackend(path: directory.path))
    let reopenedLog = EventLog(reopened)
    for x in 0..<250 { _ = double(reopened, 3_000 + x) }
    #expect(reopenedLog.executed.isEmpty)
  }

  @Test func releasingTheStoreCommitsItsCalls() throws {
    let directory = TemporaryDirectory()
    do {
      let store = quietStore(try SQLiteBackend(path: directory.path))
      for x in 0..<50 { _ = double(store, x) }
    }
    #expect(try storedCalls(directory.path) == 50)
  }

  @Test func releasingTheStoreClosesItsDatabase() throws {
    // The last connection to close checkpoints the WAL and removes it: a
    // released store must not leave connections open on the writer's thread.
    let directory = TemporaryDirectory()
    for round in 0..<20 {
      weak var released: SQLiteBackend?
      weak var releasedStore: Store?
      do {
        let store = try openStore(directory.path)
        released = store.backend as? SQLiteBackend
        releasedStore = store
        for x in 0..<50 { _ = double(store, round * 50 + x) }
      }
      #expect(releasedStore == nil)
      #expect(released == nil)
      #expect(
        !FileManager.default.fileExists(atPath: directory.path + "/recall.sqlite-wal"),
        "round \(round)")
    }
  }

  @Test func aProcessThatOnlyHitsOpensNoPoolAndLeavesNoWAL() throws {
    // Opening an existing store opens one lookup connection, not GRDB's pool
    // (most of a fresh process's open); the pool opens for the first write.
    let directory = TemporaryDirectory()
    do {
      let store = try openStore(directory.path)
      for x in 0..<10 { _ = double(store, x) }
    }
    var backend: SQLiteBackend? = try SQLiteBackend(path: directory.path)
    do {
      let store = quietStore(backend!)
      let log = EventLog(store)
      for x in 0..<10 { #expect(double(store, x) == x * 2) }
      #expect(log.executed.isEmpty)
    }
    // Releasing the store saved its usage counts, on a lookup connection.
    #expect(backend?.hasOpenedPool == false)
    backend = nil
    // The lookups' connections were the last: they removed the WAL (which a
    // read-only connection cannot).
    #expect(!FileManager.default.fileExists(atPath: directory.path + "/recall.sqlite-wal"))
    let storeHits = try DatabaseQueue(path: directory.path + "/recall.sqlite").read { db in
      try Int.fetchOne(db, sql: "SELECT sum(store_hits) FROM usage")
    }
    #expect(storeHits == 10)
    let writing = try SQLiteBackend(path: directory.path)
    let store = quietStore(writing)
    #expect(double(store, 10) == 20)
    store.flush()
    #expect(writing.hasOpenedPool)
    #expect(try storedCalls(directory.path) == 11)
  }

  @Test func aHitOfAListStoredByElementOpensNoPool() throws {
    // Its elements are read on a lookup connection too (decision 0123),
    // each checked: a damaged one is still refused.
    let directory = TemporaryDirectory()
    let op = Op(id: "Tests.rows(n:)", version: CodeFingerprint(hex: "e1"), parameters: ["n"])
    func rows(_ store: Store, _ n: Int) -> Elements<[Double]> {
      store.memoize(op, [Argument("n", n)]) {
        Elements((0..<n).map { row in (0..<64).map { Double(row * 64 + $0) } })
      }
    }
    do {
      let store = try openStore(directory.path)
      #expect(rows(store, 3).count == 3)
    }
    let expected = (0..<3).map { row in (0..<64).map { Double(row * 64 + $0) } }
    do {
      let backend = try SQLiteBackend(path: directory.path)
      let store = quietStore(backend)
      let log = EventLog(store)
      #expect(rows(store, 3).array == expected)
      #expect(log.executed.isEmpty)
      #expect(!backend.hasOpenedPool)
    }
    // One element's last number damaged (127.0 made 8,323,072.0): the hit
    // refuses the list and recomputes it.
    try DatabaseQueue(path: directory.path + "/recall.sqlite").write { db in
      let cid = try ValueCodec.contentID(of: expected[1]).digest.data
      try db.execute(
        sql: "UPDATE value SET bytes = substr(bytes, 1, length(bytes) - 1) || X'41' WHERE cid = ?",
        arguments: [cid])
      #expect(db.changesCount == 1)
    }
    let store = quietStore(try SQLiteBackend(path: directory.path))
    let log = EventLog(store)
    #expect(rows(store, 3).array == expected)
    #expect(log.executed == ["rows(n:)"])
  }

  @Test func aValueReadSeesAValueTheCommitterStillHolds() throws {
    // A list's elements are read on a lookup connection, which waits for
    // the committer only when a value is not found (decision 0123).
    let directory = TemporaryDirectory()
    let backend = try SQLiteBackend(path: directory.path)
    let entered = DispatchSemaphore(value: 0)
    backend.beforeCommit.withLock {
      $0 = {
        entered.signal()
        Thread.sleep(forTimeInterval: 0.2)
      }
    }
    let store = quietStore(backend)
    let op = Op(id: "Tests.pair(n:)", version: CodeFingerprint(hex: "f1"), parameters: ["n"])
    let list = store.memoize(op, [Argument("n", 2)]) { Elements([[1.0, 2.0], [3.0]]) }
    entered.wait()
    // The commit that stores the elements has not begun: read now, it is
    // waited for.
    let cids = try list.array.map { try ValueCodec.contentID(of: $0) }
    let values = try backend.values(cids)
    backend.beforeCommit.withLock { $0 = nil }
    #expect(values.count == 2)
    #expect(try values[cids[1]].map { try ValueCodec.decode([Double].self, from: $0) } == [3.0])
  }

  @Test func aFirstMissClaimsItsCallWithoutOpeningThePool() throws {
    // The claim and the op's version are read and written on a lookup
    // connection: GRDB's pool opens on the committer's thread, to store the
    // call (decision 0124).
    let directory = TemporaryDirectory()
    do { _ = double(try openStore(directory.path), 1) }
    let backend = try SQLiteBackend(path: directory.path)
    let (entered, proceed) = holdCommits(of: backend)
    let store = quietStore(backend)
    let log = EventLog(store)
    #expect(double(store, 2) == 4)
    entered.wait()
    #expect(log.executed == ["double(x:)"])
    #expect(!backend.hasOpenedPool)
    // Claimed while it ran (the claim is deleted when the call is stored),
    // with the columns' types a claim made through GRDB has.
    let claims = try DatabaseQueue(path: directory.path + "/recall.sqlite").read { db in
      try Row.fetchAll(
        db,
        sql: """
          SELECT op, typeof(pid), typeof(claimed_at), typeof(expires_at), length(call_id)
          FROM claim
          """
      ).map {
        "\($0[0] as String) \($0[1] as String) \($0[2] as String) \($0[3] as String) \($0[4] as Int)"
      }
    }
    #expect(claims == ["Tests.double(x:) integer real real 32"])
    backend.beforeCommit.withLock { $0 = nil }
    proceed.signal()
    store.flush()
    #expect(backend.hasOpenedPool)
    #expect(try storedCalls(directory.path) == 2)
    // The writer syncs each commit (GRDB leaves it at NORMAL): FULL; so does
    // the lookup connection that claimed, once its claim is committed.
    let level = try backend.database.writeWithoutTransaction {
      try Int.fetchOne($0, sql: "PRAGMA synchronous")
    }
    #expect(level == 2)
    #expect(try backend.lookups.withConnection { try $0.integerPragma("synchronous") } == 2)
  }

  @Test func aFirstCallOfAVersionNeverSeenRecordsItWithoutOpeningThePool() throws {
    // An edit that adds a parameter: the new version is recorded with its
    // components and inherits the semantic version of the version this
    // program ran last (not of one another program ran later), so the call
    // from before is found. Read and written on a lookup connection, as a
    // claim is (decision 0125).
    func scaled(_ hex: String, own: String, helper: String = "h1", _ parameters: [String]) -> Op {
      Op(
        id: "Tests.scaled(x:)", version: CodeFingerprint(hex: hex), parameters: parameters,
        addedParameters: ["scale"], ownIdentity: "func scaled(x:)",
        components: {
          [
            CodeComponent(identity: "func scaled(x:)", fingerprint: own, source: "// \(own)"),
            CodeComponent(identity: "func helper()", fingerprint: helper, source: "// \(helper)"),
          ]
        })
    }
    let here = "here:/bin/run"
    let directory = TemporaryDirectory()
    do {
      let first = quietStore(try SQLiteBackend(path: directory.path), program: here)
      #expect(first.memoize(scaled("a1", own: "f1", ["x"]), [Argument("x", 1)]) { 2 } == 2)
      first.flush()
    }
    do {
      // Another program, later, with another helper.
      let other = quietStore(
        try SQLiteBackend(path: directory.path), program: "elsewhere:/bin/other")
      #expect(
        other.memoize(scaled("c3", own: "f3", helper: "h9", ["x"]), [Argument("x", 1)]) { 3 } == 3)
      other.flush()
    }
    func call(_ store: Store, _ version: Op, _ x: Int) -> Int {
      store.memoize(version, [Argument("x", x), Argument(added: "scale", 1, default: 1)]) { x * 2 }
    }
    let edited = scaled("b2", own: "f2", ["x", "scale"])
    let backend = try SQLiteBackend(path: directory.path)
    let store = quietStore(backend, program: here)
    let log = EventLog(store)
    #expect(call(store, edited, 1) == 2)
    #expect(log.executed.isEmpty)
    #expect(!backend.hasOpenedPool)
    let (entered, proceed) = holdCommits(of: backend)
    #expect(call(store, edited, 5) == 10)
    entered.wait()
    #expect(log.executed == ["scaled(x:)"])
    #expect(!backend.hasOpenedPool)
    // Committed before the call is stored, with the columns' types GRDB's
    // writer gives them.
    func recorded() throws -> (versions: [String], components: [String], programs: [String]) {
      try DatabaseQueue(path: directory.path + "/recall.sqlite").read { db in
        try (
          String.fetchAll(
            db,
            sql: """
              SELECT version || ' ' || semantic_version || ' ' || replace(parameters, char(10), ',')
                || ' ' || typeof(first_seen) || ' ' || typeof(last_seen)
              FROM op_version ORDER BY version
              """),
          String.fetchAll(
            db,
            sql: """
              SELECT version || ' ' || identity || ' ' || fingerprint || ' ' || source
              FROM op_version_component JOIN code_component USING (identity, fingerprint)
              WHERE version IN ('b2', 'd4') ORDER BY version, identity
              """),
          String.fetchAll(
            db, sql: "SELECT location || ' ' || version FROM op_location ORDER BY location")
        )
      }
    }
    var found = try recorded()
    #expect(
      found.versions == [
        "a1 a1 x real real", "b2 a1 x,scale real real", "c3 c3 x real real",
      ])
    #expect(found.components == ["b2 func helper() h1 // h1", "b2 func scaled(x:) f2 // f2"])
    #expect(found.programs == ["elsewhere:/bin/other c3", "here:/bin/run b2"])
    // The claim's commit skipped its sync; the connection syncs again.
    #expect(try backend.lookups.withConnection { try $0.integerPragma("synchronous") } == 2)
    backend.beforeCommit.withLock { $0 = nil }
    proceed.signal()
    store.flush()
    #expect(backend.hasOpenedPool)
    #expect(try storedCalls(directory.path) == 3)
    // Once the pool is open, the next edit is recorded through GRDB's writer.
    #expect(call(store, scaled("d4", own: "f4", ["x", "scale"]), 9) == 18)
    store.flush()
    #expect(log.executed == ["scaled(x:)", "scaled(x:)"])
    found = try recorded()
    #expect(found.versions.last == "d4 d4 x,scale real real")
    #expect(
      found.components == [
        "b2 func helper() h1 // h1", "b2 func scaled(x:) f2 // f2",
        "d4 func helper() h1 // h1", "d4 func scaled(x:) f4 // f4",
      ])
    #expect(found.programs == ["elsewhere:/bin/other c3", "here:/bin/run d4"])
  }

  @Test func theWritersWALHasASizeLimit() throws {
    // A group commit can rewrite most index pages; without a limit the WAL
    // file keeps the size of the largest one (425 MB after a million calls).
    // (A WAL past the limit is too large to write in a test: the setting is
    // what is checked.)
    let directory = TemporaryDirectory()
    let backend = try SQLiteBackend(path: directory.path)
    let limit = try backend.pool.write { db in
      try Int.fetchOne(db, sql: "PRAGMA journal_size_limit")
    }
    #expect(limit == 64 << 20)
    // A lookup connection may start the WAL over too (a claim, usage counts).
    let lookupLimit = try backend.lookups.withConnection {
      try $0.integerPragma("journal_size_limit")
    }
    #expect(lookupLimit == 64 << 20)
  }

  @Test func theMigrationsNamesAreTheMigratorsOwn() {
    // An open compares a store's applied migrations with these names.
    #expect(SQLiteBackend.migrationIdentifiers == SQLiteBackend.migrator.migrations)
  }

  @Test func aCallThatCannotBeCommittedIsAWarningAndNotReportedStored() throws {
    let directory = TemporaryDirectory()
    let backend = try SQLiteBackend(path: directory.path)
    let store = quietStore(backend)
    let log = EventLog(store)
    // Another connection takes the table the insert needs away.
    backend.beforeCommit.withLock {
      $0 = {
        let queue = try? DatabaseQueue(path: directory.path + "/recall.sqlite")
        try? queue?.write { db in try db.execute(sql: "ALTER TABLE call_input RENAME TO elsewhere")
        }
      }
    }
    #expect(double(store, 5) == 10)
    store.flush()
    #expect(log.warnings.map(\.kind) == [.storeFailure])
    #expect(!log.all.contains { if case .didStore = $0 { true } else { false } })
    // The result is still served in this process.
    #expect(double(store, 5) == 10)
    #expect(log.executed.count == 1)
  }

  @Test func oneCommitFilesEachCallUnderItsOwnOpAndVersions() throws {
    // The writer finds a call's op and filing by comparing them with the
    // previous call's: calls of one commit that differ in op, version or
    // semantic version only must each keep their own.
    let directory = TemporaryDirectory()
    let backend = try SQLiteBackend(path: directory.path)
    let filings: [(op: String, version: String, semantic: String)] = [
      ("M.f(x:)", "a1", "a1"), ("M.f(x:)", "a2", "a2"), ("M.f(x:)", "a3", "a2"),
      ("M.f(x:)", "a3", "a3"), ("M.g(x:)", "a3", "a3"), ("M.f(x:)", "a1", "a1"),
      ("M.g(x:)", "a3", "a3"),
    ]
    let calls = try filings.enumerated().map { index, filing in
      let input = try ValueCodec.encode(index)
      let output = try ValueCodec.encode("output \(index)")
      let call = CallRecord(
        id: CallID(Digest.sha256("call \(index)")), op: OpID(filing.op),
        opVersion: CodeFingerprint(hex: filing.version),
        semanticVersion: CodeFingerprint(hex: filing.semantic), trial: 0,
        inputs: [CallInput(name: "x", cid: input.cid, hid: HistoryID(input.cid.digest))],
        outputCID: output.cid, outputHID: HistoryID(Digest.sha256("history \(index)")),
        outputSize: output.bytes.count, startedAt: Date(), duration: 0.5, host: "here", pid: 1)
      return (call: call, values: [output, input])
    }
    #expect(backend.commit(calls).allSatisfy { $0 == nil })
    let stored = try DatabaseQueue(path: directory.path + "/recall.sqlite").read { db in
      try Row.fetchAll(
        db,
        sql: """
          SELECT call.call_id, op_name.name, filing.op_version, filing.semantic_version, filing.calls
          FROM call JOIN filing ON filing.id = call.filing JOIN op_name ON op_name.id = call.op
          """)
    }
    #expect(stored.count == filings.count)
    for (index, filing) in filings.enumerated() {
      let id = Data(Digest.sha256("call \(index)").bytes)
      let row = try #require(stored.first { ($0[0] as Data) == id })
      #expect(row[1] as String == filing.op)
      #expect(row[2] as String == filing.version)
      #expect(row[3] as String == filing.semantic)
      #expect(row[4] as Int == filings.count { $0 == filing })
    }
    for (call, values) in calls {
      #expect(try backend.loadResult(call.id)?.bytes == values[0].bytes)
    }
  }
}
