import Foundation
import Recall
import Synchronization
import Testing

/// Behaviour across processes: a real child program runs against a real store.
@Suite(.serialized) struct ProcessTests {
  /// Starts a child that stores large values until killed; returns once it has
  /// reported `count` of them, with what it printed so far.
  func startHammer(_ path: String, storing count: Int) throws -> (Process, Pipe, String) {
    let process = Process()
    process.executableURL = productsDirectory.appendingPathComponent("recall-test-child")
    process.arguments = ["hammer", path]
    let pipe = Pipe()
    process.standardOutput = pipe
    try process.run()
    var output = ""
    while output.components(separatedBy: "stored").count <= count {
      let chunk = pipe.fileHandleForReading.availableData
      if chunk.isEmpty { break }
      output += String(decoding: chunk, as: UTF8.self)
    }
    return (process, pipe, output)
  }

  @Test func asecondProcessExecutesNothing() throws {
    let directory = TemporaryDirectory()
    #expect(try runChild(["run", directory.path]) == "executed 5 reused 0")
    #expect(try runChild(["run", directory.path]) == "executed 0 reused 5")
  }

  @Test func aProcessThatExitsWithItsStoreOpenLeavesNoWALToReplay() throws {
    // Else the next process to open the store reads every frame of it first.
    let directory = TemporaryDirectory()
    let wal = directory.path + "/recall.sqlite-wal"
    func walSize() throws -> Int {
      try FileManager.default.attributesOfItem(atPath: wal)[.size] as? Int ?? -1
    }
    #expect(try runChild(["exit-open", directory.path]) == "executed 5 reused 0")
    #expect(try walSize() == 0)
    #expect(try runChild(["exit-open", directory.path]) == "executed 0 reused 5")
    #expect(try walSize() == 0)
    // Everything the processes stored and counted is in the database.
    let usage = try Store.sqlite(at: directory.path).usage()
    #expect(usage.map(\.misses).reduce(0, +) == 5)
    #expect(usage.map(\.storeHits).reduce(0, +) == 5)
  }

  @Test func theDefaultStoreComesFromTheEnvironment() throws {
    let directory = TemporaryDirectory()
    let path = directory.path + "/from-env"
    let environment = ["RECALL_STORE": path]
    #expect(try runChild(["default"], environment: environment) == "executed 4 reused 0 at \(path)")
    #expect(try runChild(["default"], environment: environment) == "executed 0 reused 4 at \(path)")
    #expect(FileManager.default.fileExists(atPath: path + "/recall.sqlite"))
    // The default store lives until the process exits: its hits and misses are
    // saved then.
    let usage = try Store.sqlite(at: path).usage()
    #expect(usage.map(\.misses).reduce(0, +) == 4)
    #expect(usage.map(\.storeHits).reduce(0, +) == 4)
  }

  @Test func processesOpeningANewStoreAtOnceAllSucceed() throws {
    // Creating the database and switching it to WAL fails at once, without
    // waiting, in a process that races another doing the same.
    for _ in 0..<6 {
      let directory = TemporaryDirectory()
      let children = try (0..<4).map { _ in try BackgroundChild(["run", directory.path]) }
      var executed = 0
      for child in children {
        let (status, output) = child.finish()
        #expect(status == 0, "\(output)")
        executed += Int(output.split(separator: " ").dropFirst().first ?? "") ?? 0
      }
      // Each call ran at least once; the first call of each op is claimed,
      // the quick calls after it are not (ClaimPolicy.quickCall), so another
      // process may run them too.
      #expect((5...20).contains(executed))
    }
  }

  @Test func contentIDsAreStableAcrossProcesses() throws {
    // Each process seeds its hash tables differently, so dictionaries and sets
    // iterate in different orders; their cids must not change.
    let first = try runChild(["cid"])
    let second = try runChild(["cid"])
    #expect(first.split(separator: "\n").count == 3)
    #expect(first == second)
  }

  @Test func killingAWriterNeverLeavesAPartialResult() throws {
    let directory = TemporaryDirectory()
    var reported = -1
    for round in 0..<5 {
      // Let it store a few values, then kill it at a moment that falls inside
      // a blob write or a transaction most of the time.
      let (process, pipe, started) = try startHammer(directory.path, storing: 2 + round)
      var output = started
      usleep(UInt32.random(in: 0...30_000))
      kill(process.processIdentifier, SIGKILL)
      process.waitUntilExit()
      output += String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
      let stored = output.split(separator: "\n").compactMap { line in
        line.hasPrefix("stored ") ? Int(line.dropFirst(7)) : nil
      }
      reported = max(reported, stored.max() ?? -1)
    }
    #expect(reported >= 2)
    // Every value reported stored is served; every value served is correct (the
    // child exits with an error on a wrong one); the store opens fine.
    let verify = try runChild(["verify", directory.path, "\(reported + 1)"])
    let parts = verify.split(separator: " ")
    #expect(parts.first == "executed")
    #expect(parts.count == 4)
    #expect(Int(parts[3]) == reported + 1, "\(verify)")
  }

  @Test func killingAPruneLeavesAStoreThatServesEveryCurrentResult() throws {
    let directory = TemporaryDirectory()
    var configuration = Store.Configuration()
    configuration.printsWarnings = false
    configuration.program = "tests:prune"
    // Results large enough to be blob files, so a prune deletes files too.
    func values(_ i: Int, _ version: String) -> [Double] {
      [Double](repeating: Double(i) + (version == "v2" ? 0.5 : 0), count: 20_000)
    }
    func op(_ version: String) -> Op {
      Op(id: "Lab.blob(i:)", version: CodeFingerprint(hex: version), parameters: ["i"])
    }
    var pruned = 0
    for round in 0..<4 {
      // A program that ran the old version, then one that runs the new one
      // (new calls, so that it is the program's last version again): the old
      // version's calls are stale.
      do {
        let old = try Store.sqlite(at: directory.path, configuration: configuration)
        for i in (round * 60)..<(round * 60 + 60) {
          _ = old.memoize(op("v1"), [Argument("i", i)]) { values(i, "v1") }
        }
      }
      do {
        let new = try Store.sqlite(at: directory.path, configuration: configuration)
        for i in (round * 10)..<(round * 10 + 10) {
          _ = new.memoize(op("v2"), [Argument("i", i)]) { values(i, "v2") }
        }
      }
      let child = try BackgroundChild(["prune", directory.path])
      // Early in the prune, in the middle, late, and (last) after it.
      usleep([5_000, 15_000, 30_000, 2_000_000][round] + UInt32.random(in: 0...5_000))
      kill(child.process.processIdentifier, SIGKILL)
      let (_, output) = child.finish()
      if output.hasPrefix("pruned ") { pruned += 1 }
    }
    // The store opens; every current result is served, and right; what is
    // left of the old version is stale, and a prune to the end removes it.
    let store = try Store.sqlite(at: directory.path, configuration: configuration)
    let log = EventLog(store)
    for i in 0..<40 {
      let served = store.memoize(op("v2"), [Argument("i", i)]) { [-1.0] }
      #expect(served.count == 20_000 && served.first == Double(i) + 0.5, "call \(i)")
    }
    #expect(log.executed.isEmpty, "a current result was lost")
    let report = try store.prune(unusedFor: .zero)
    #expect(try store.staleCalls().isEmpty)
    #expect(try store.calls(of: "Lab.blob(i:)").count == 40)
    #expect(try store.collectGarbage(keepingFilesNewerThan: Date()).values == 0)
    print("prunes finished before the kill: \(pruned) of 4; the last removed \(report.calls) calls")
  }

  @Test(arguments: ClaimProcessTests.sharedStores)
  func killingAnEvictionLeavesEveryResultWholeOrMarkedEvicted(_ kind: String) throws {
    let directory = TemporaryDirectory()
    let store = ClaimProcessTests.location(kind, directory)
    var finished = 0
    /// The calls of the payload op marked evicted, once the count is settled:
    /// a PostgreSQL server may still be finishing the killed child's last
    /// statement (a COMMIT it sent before it died), so the count is read
    /// until two reads a moment apart agree.
    func marked() throws -> Int {
      var last = -1
      for _ in 0..<20 {
        let output = try runChild(["marked", store])
        if let count = Int(output), count == last { return count }
        last = Int(output) ?? -1
        usleep(200_000)
      }
      Issue.record("the count of evicted calls did not settle (last: \(last))")
      return last
    }
    for round in 0..<4 {
      // Thirty more results (blob files in SQLite) each round, then an
      // eviction down to a quarter of the store, killed early, midway, late,
      // or not at all. Every call not marked evicted by the killed evictions
      // before is served whole; the marked ones are computed again.
      let count = (round + 1) * 30
      let evicted = try marked()
      let verified = try runChild(["verify", store, "\(count)"])
      #expect(
        verified == "executed \(30 + evicted) reused \(count - 30 - evicted)",
        "round \(round): \(evicted) marked evicted")
      let child = try BackgroundChild(["evict", store, "0.25"])
      usleep([5_000, 20_000, 60_000, 3_000_000][round] + UInt32.random(in: 0...10_000))
      kill(child.process.processIdentifier, SIGKILL)
      let (_, output) = child.finish()
      if output.hasPrefix("evicted ") { finished += 1 }
    }
    // Every call not marked evicted is served whole without running (a row
    // naming bytes that are gone would be a miss); the marked ones are
    // computed again, right.
    let evicted = try marked()
    #expect(evicted > 0)
    #expect(
      try runChild(["verify", store, "120"]) == "executed \(evicted) reused \(120 - evicted)")
    // Files of killed evictions are garbage, and go; nothing else does.
    #expect(try runChild(["gc", store]).hasPrefix("deleted "))
    #expect(try runChild(["verify", store, "120"]) == "executed 0 reused 120")
    print("\(kind): evictions finished before the kill: \(finished) of 4; \(evicted) evicted")
  }

  @Test(arguments: ClaimProcessTests.sharedStores)
  func evictingWhileAnotherProcessReadsServesWholeValuesOrMisses(_ kind: String) throws {
    let directory = TemporaryDirectory()
    let store = ClaimProcessTests.location(kind, directory)
    #expect(try runChild(["verify", store, "40"]) == "executed 40 reused 0")
    // The reader asks for all forty results over and over, each round in a
    // fresh store, and exits on a wrong value; meanwhile other processes
    // evict half of the store again and again (the reader stores what it
    // recomputes).
    let reader = try BackgroundChild(["reread", store, "40"])
    #expect(reader.waitForLine(startingWith: "round 0"))
    var evicted = 0
    for _ in 0..<12 {
      let output = try runChild(["evict", store, "0.5"])
      evicted += Int(output.split(separator: " ").last ?? "") ?? 0
    }
    #expect(reader.waitForLine(startingWith: "round 2"))
    kill(reader.process.processIdentifier, SIGKILL)
    let (_, output) = reader.finish()
    #expect(!output.contains("wrong"), "\(output)")
    let rounds = output.split(separator: "\n").filter { $0.hasPrefix("round ") }
    let executed = rounds.compactMap { Int($0.split(separator: " ")[3]) }.reduce(0, +)
    #expect(evicted > 0)
    #expect(executed > 0, "the reader computed again what was evicted")
    let marked = Int(try runChild(["marked", store])) ?? -1
    #expect(try runChild(["verify", store, "40"]) == "executed \(marked) reused \(40 - marked)")
  }

  @Test func forgettingAndCollectingWhileAnotherProcessWritesLosesNothing() throws {
    let directory = TemporaryDirectory()
    let (process, pipe, started) = try startHammer(directory.path, storing: 3)
    var output = started
    // While the child stores blob after blob: forget the oldest calls and
    // collect, with no grace period for unnamed blob files, over and over.
    var configuration = Store.Configuration()
    configuration.printsWarnings = false
    let store = try Store.sqlite(at: directory.path, configuration: configuration)
    let op = try #require(try store.ops().first { $0.op.name.contains("payload(") }?.op)
    var forgotten: Set<Int> = []
    var collected = 0
    for _ in 0..<15 {
      let calls = try store.calls(of: op).sorted { $0.startedAt < $1.startedAt }
      for call in calls.prefix(2) {
        forgotten.insert(try store.value(try #require(call.inputs.first).cid, as: Int.self)!)
        try store.forget([call.id])
      }
      collected += try store.collectGarbage(keepingFilesNewerThan: Date()).values
      usleep(100_000)
    }
    kill(process.processIdentifier, SIGKILL)
    process.waitUntilExit()
    output += String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    let reported =
      output.split(separator: "\n").compactMap {
        $0.hasPrefix("stored ") ? Int($0.dropFirst(7)) : nil
      }
      .max() ?? -1
    #expect(collected > 0)
    #expect(reported > 5)
    // Every call that was not forgotten is served, with the right value (the
    // child fails on a wrong one); the forgotten ones are computed again.
    let verify = try runChild(["verify", directory.path, "\(reported + 1)"])
    let expectedForgotten = forgotten.filter { $0 <= reported }.count
    #expect(
      verify == "executed \(expectedForgotten) reused \(reported + 1 - expectedForgotten)",
      "\(verify)")
  }

  @Test func withoutThePluginANoteSaysOnceHowToTrackHelpers() throws {
    let directory = TemporaryDirectory()
    // The child's target does not apply RecallPlugin; it makes five calls of three ops.
    let (output, errors) = try runChildCapturing(["run", directory.path])
    #expect(output == "executed 5 reused 0")
    #expect(errors.components(separatedBy: "recall: note:").count - 1 == 1, "\(errors)")
    #expect(errors.contains(#"plugins: [.plugin(name: "RecallPlugin", package: "Recall")]"#))
    let quiet = try runChildCapturing(["run", directory.path], environment: ["RECALL_QUIET": "1"])
    #expect(quiet.output == "executed 0 reused 5")
    #expect(!quiet.errors.contains("recall: note:"))
  }

  @Test func aDefaultStoreThatCannotOpenTurnsMemoizationOffWithOneMessage() throws {
    let directory = TemporaryDirectory()
    try FileManager.default.createDirectory(
      atPath: directory.path, withIntermediateDirectories: true)
    // A file where the store's directory should be.
    let blocked = directory.path + "/not-a-directory"
    try "x".write(toFile: blocked, atomically: true, encoding: .utf8)
    let (output, errors) = try runChildCapturing(
      ["unmemoized-default"], environment: ["RECALL_STORE": blocked, "RECALL_QUIET": "1"])
    #expect(output == "results 1 4 9 1 4 9")
    #expect(
      errors.components(separatedBy: "memoization is off for this process").count - 1 == 1,
      "\(errors)")
    #expect(errors.contains(blocked))
  }
}

/// A test child running in the background; its output is collected as it comes.
final class BackgroundChild: @unchecked Sendable {
  let process = Process()
  // Guarded by `condition`.
  private let condition = NSCondition()
  private var text = ""
  private var isFinished = false

  init(_ arguments: [String], environment: [String: String] = [:]) throws {
    process.executableURL = productsDirectory.appendingPathComponent("recall-test-child")
    process.arguments = arguments
    process.environment = ProcessInfo.processInfo.environment.merging(["RECALL_QUIET": "1"]) { $1 }
      .merging(environment) { $1 }
    let pipe = Pipe()
    process.standardOutput = pipe
    try process.run()
    Thread { [self] in
      while case let chunk = pipe.fileHandleForReading.availableData, !chunk.isEmpty {
        condition.lock()
        text += String(decoding: chunk, as: UTF8.self)
        condition.broadcast()
        condition.unlock()
      }
      condition.lock()
      isFinished = true
      condition.broadcast()
      condition.unlock()
    }.start()
  }

  /// Waits until the output has a line starting with `prefix` (or the child
  /// ends, or `timeout` passes); returns whether it has.
  func waitForLine(startingWith prefix: String, timeout: TimeInterval = 60) -> Bool {
    let deadline = Date() + timeout
    condition.lock()
    defer { condition.unlock() }
    while !text.split(separator: "\n").contains(where: { $0.hasPrefix(prefix) }) {
      guard !isFinished, condition.wait(until: deadline) else {
        return text.split(separator: "\n").contains { $0.hasPrefix(prefix) }
      }
    }
    return true
  }

  /// Waits for the child to exit; returns its status and everything it printed.
  func finish() -> (status: Int32, output: String) {
    process.waitUntilExit()
    condition.lock()
    while !isFinished { condition.wait() }
    defer { condition.unlock() }
    return (process.terminationStatus, text)
  }
}

/// What a `stress` child reported.
struct StressReport {
  var executed: [Int] = []
  var reused = 0
  var waited = 0

  init(_ output: String) throws {
    let line = try #require(output.split(separator: "\n").last { $0.hasPrefix("executed") })
    let fields = line.split(separator: " ")
    // "executed 1,2,3 reused 4 waited 5" (the list is empty when nothing ran).
    if fields.count == 6 { executed = fields[1].split(separator: ",").compactMap { Int($0) } }
    reused = Int(fields[fields.count - 3]) ?? -1
    waited = Int(fields[fields.count - 1]) ?? -1
  }
}

@Suite(.serialized) struct ClaimProcessTests {
  /// The stores the stress tests run on: a directory, and a fresh schema of
  /// the test database when `RECALL_TEST_POSTGRES_URL` is set.
  static var sharedStores: [String] {
    let postgres = ProcessInfo.processInfo.environment["RECALL_TEST_POSTGRES_URL"].flatMap {
      $0.isEmpty ? nil : $0
    }
    return ["sqlite"] + (postgres == nil ? [] : ["postgres"])
  }

  static func location(_ kind: String, _ directory: TemporaryDirectory) -> String {
    guard kind == "postgres",
      let url = ProcessInfo.processInfo.environment["RECALL_TEST_POSTGRES_URL"]
    else {
      return directory.path
    }
    return url + (url.contains("?") ? "&" : "?") + "schema=recall_stress_"
      + UUID().uuidString.prefix(8).lowercased()
  }

  @Test(arguments: sharedStores)
  func fourProcessesShareOneStoreAndRunEveryCallOnce(_ kind: String) throws {
    let directory = TemporaryDirectory()
    let store = Self.location(kind, directory)
    // Four processes × 200 tasks, each process asking for all 1,000 calls in
    // its own order: they overlap on every call. They also open the new store
    // at the same moment.
    let children = try (1...4).map { seed in
      try BackgroundChild(["stress", store, "1000", "\(seed)"])
    }
    var executed: [Int] = []
    for child in children {
      let (status, output) = child.finish()
      #expect(status == 0, "\(output.suffix(300))")
      let report = try StressReport(output)
      #expect(report.executed.count + report.reused == 1000, "\(output.suffix(300))")
      executed += report.executed
    }
    #expect(executed.count == 1000, "\(executed.count) executions")
    #expect(Set(executed) == Set(0..<1000))
    // Everything is stored: a fifth process runs nothing.
    let again = try StressReport(try runChild(["stress", store, "1000", "5"]))
    #expect(again.executed.isEmpty)
    #expect(again.reused == 1000)
  }

  @Test(arguments: sharedStores)
  func whenAHolderIsKilledAWaiterTakesItsCallsOver(_ kind: String) throws {
    let directory = TemporaryDirectory()
    let store = Self.location(kind, directory)
    // Slow calls: the first child claims all 40 calls, the second waits for
    // them; the first dies before finishing any. The default lease (30 s) is
    // not waited out: the holder's process is gone, so its claims are taken
    // over at once.
    let environment = ["RECALL_TEST_BODY_MS": "1500"]
    let holder = try BackgroundChild(["stress", store, "40", "1"], environment: environment)
    #expect(holder.waitForLine(startingWith: "began"))
    usleep(200_000)
    let started = Date()
    let waiter = try BackgroundChild(["stress", store, "40", "2"], environment: environment)
    usleep(500_000)
    kill(holder.process.processIdentifier, SIGKILL)
    let (_, holderOutput) = holder.finish()
    #expect(!holderOutput.contains("ran "), "the holder finished a call before it was killed")
    let (status, output) = waiter.finish()
    let elapsed = Date().timeIntervalSince(started)
    #expect(status == 0, "\(output.suffix(300))")
    let report = try StressReport(output)
    #expect(report.waited > 0)
    #expect(Set(report.executed) == Set(0..<40))
    #expect(report.executed.count == 40)
    // The call (1.5 s) after the kill, plus start-up: far less than the lease.
    #expect(elapsed < 15, "the waiter took \(elapsed) s")
    let again = try StressReport(try runChild(["stress", store, "40", "3"]))
    #expect(again.executed.isEmpty)
    #expect(again.reused == 40)
  }

  #if os(Linux)
    /// On a terminal, lines a program prints during a sweep appear whole,
    /// above the progress bar, never on the bar's line. (A Linux
    /// pseudo-terminal: `/dev/ptmx` and its ioctls.)
    @Test func printedLinesDoNotTangleWithTheProgressBar() throws {
      let store = TemporaryDirectory()
      // A pseudo-terminal: its master end is read here, its slave end is the
      // child's standard output and error (TIOCSPTLCK unlocks it, TIOCGPTN
      // names it).
      let master = open("/dev/ptmx", O_RDWR | O_NOCTTY)
      var unlock: Int32 = 0
      var number: UInt32 = 0
      try #require(master >= 0)
      defer { close(master) }
      try #require(
        ioctl(master, 0x4004_5431, &unlock) == 0 && ioctl(master, 0x8004_5430, &number) == 0)
      let slave = try #require(FileHandle(forUpdatingAtPath: "/dev/pts/\(number)"))
      // Read the terminal as the child writes it, until the child is gone.
      let screen = Mutex<[UInt8]>([])
      let finished = DispatchSemaphore(value: 0)
      Thread.detachNewThread {
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
          let count = buffer.withUnsafeMutableBytes { read(master, $0.baseAddress, $0.count) }
          guard count > 0 else { break }
          screen.withLock { $0 += buffer[0..<count] }
        }
        finished.signal()
      }
      let process = Process()
      process.executableURL = productsDirectory.appendingPathComponent("recall-test-child")
      process.arguments = ["printing-sweep", store.path]
      process.standardOutput = slave
      process.standardError = slave
      try process.run()
      // A deadline, so that a hang in the router fails the test, not the suite.
      let deadline = Date().addingTimeInterval(60)
      while process.isRunning, Date() < deadline { Thread.sleep(forTimeInterval: 0.05) }
      if process.isRunning { process.terminate() }
      process.waitUntilExit()
      try slave.close()
      _ = finished.wait(timeout: .now() + 10)
      #expect(process.terminationStatus == 0)

      // What a person sees: each line as the terminal leaves it (a carriage
      // return starts it over; the bar clears its line with ESC [2K).
      let text = String(decoding: screen.withLock { $0 }, as: UTF8.self)
        .replacingOccurrences(of: "\r\n", with: "\n")
        .replacingOccurrences(of: "\u{1B}[2K", with: "")
      let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map {
        String($0.split(separator: "\r", omittingEmptySubsequences: false).last ?? "")
      }
      let printed = lines.filter { $0.contains("line ") }
      #expect(printed.count == 12, "\(lines)")
      #expect(printed.allSatisfy { $0.hasPrefix("line ") && $0.count <= 7 }, "\(lines)")
      #expect(lines.first == "starting" && lines.contains("done"), "\(lines)")
      #expect(lines.contains { $0.contains("12/12") }, "the bar's last state stays: \(lines)")
    }
  #endif

  @Test func ctrlCStopsASweepAndTheNextRunResumesIt() throws {
    let directory = TemporaryDirectory()
    let environment = ["RECALL_TEST_BODY_MS": "100"]
    let child = try BackgroundChild(["sweep", directory.path, "60"], environment: environment)
    #expect(child.waitForLine(startingWith: "ran"))
    usleep(250_000)
    kill(child.process.processIdentifier, SIGINT)
    let (status, output) = child.finish()
    #expect(status == 130, "\(output.suffix(300))")
    let kept = try #require(
      output.split(separator: "\n").last { $0.hasPrefix("cancelled kept") }.flatMap {
        Int($0.dropFirst(15))
      })
    #expect(kept >= 2 && kept < 60, "\(kept)")
    // Everything that finished was stored: the next run computes the rest only.
    let report = try StressReport(
      try runChild(["sweep", directory.path, "60"], environment: environment))
    #expect(report.reused >= kept)
    #expect(report.executed.count + report.reused == 60)
  }
}
