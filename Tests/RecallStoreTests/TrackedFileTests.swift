import Foundation
import RecallStoreTestSupport
import RecallTestSupport
import Testing

@testable import RecallCore

/// Files as inputs and outputs (``TrackedFile``), on every backend.
@Suite struct TrackedFileTests {
  let directory = TemporaryDirectory()

  init() throws {
    try FileManager.default.createDirectory(
      atPath: directory.path, withIntermediateDirectories: true)
  }

  func write(_ text: String, to name: String) throws -> String {
    let path = directory.path + "/" + name
    try text.write(toFile: path, atomically: false, encoding: .utf8)
    return path
  }

  /// Counts the lines of a file, as a memoized op.
  func lines(_ store: Store, _ file: TrackedFile) -> Int {
    store.memoize(testOp("Tests.lines(file:)"), [Argument("file", file)]) {
      (try? String(contentsOfFile: file.path, encoding: .utf8))?.split(separator: "\n").count ?? -1
    }
  }

  @Test(arguments: Backend.allCases) func aCallRecomputesWhenItsInputFilesContentChanges(
    _ kind: Backend
  ) throws {
    let place = try Reopenable(kind)
    let store = place.open()
    let log = EventLog(store)
    let path = try write("a\nb\n", to: "data.csv")
    #expect(lines(store, TrackedFile(path)) == 2)
    #expect(lines(store, TrackedFile(path)) == 2)
    #expect(log.executed == ["lines(file:)"], "the same content: reused")
    // Same path, new content: computed again; the old content's result stays.
    _ = try write("a\nb\nc\n", to: "data.csv")
    #expect(lines(store, TrackedFile(path)) == 3)
    _ = try write("a\nb\n", to: "data.csv")
    #expect(lines(store, TrackedFile(path)) == 2)
    #expect(log.executed == ["lines(file:)", "lines(file:)"])
    // Recorded with its path and the content's digest, in a fresh process too.
    store.flush()
    let later = place.open()
    let laterLog = EventLog(later)
    #expect(lines(later, TrackedFile(path)) == 2)
    #expect(laterLog.executed.isEmpty)
    // Two calls: one per content, each recorded with its digest.
    let recorded = try later.calls(of: "Tests.lines(file:)").map {
      try #require(try later.value($0.inputs[0].cid, as: TrackedFile.self))
    }
    #expect(recorded.count == 2)
    #expect(recorded.allSatisfy { $0.path == URL(fileURLWithPath: path).standardizedFileURL.path })
    #expect(Set(recorded.compactMap(\.recordedDigest)).count == 2)
    #expect(recorded.contains { $0.recordedDigest == (try? TrackedFile(path).currentDigest()) })
    // A relative path is the same file.
    let relative = TrackedFile("data.csv")
    #expect(relative.path.hasSuffix("/data.csv") && relative.path.hasPrefix("/"))

    // A file that is not there: the call runs without memoization, and the
    // warning names the file.
    #expect(lines(later, TrackedFile(directory.path + "/missing.csv")) == -1)
    let warning = try #require(laterLog.warnings.first)
    #expect(warning.message.contains("missing.csv") && warning.message.contains("cannot be read"))
  }

  /// Writes `n` lines to `name` and returns the file, as a memoized op.
  func written(_ store: Store, _ n: Int, to name: String) -> TrackedFile {
    let path = directory.path + "/" + name
    return store.memoize(testOp("Tests.written(n:)"), [Argument("n", n)]) {
      try? (0..<n).map(String.init).joined(separator: "\n").write(
        toFile: path, atomically: true, encoding: .utf8)
      return TrackedFile(path)
    }
  }

  @Test(arguments: Backend.allCases) func aHitWhoseOutputFileChangedRecomputes(_ kind: Backend)
    throws
  {
    let place = try Reopenable(kind)
    let store = place.open()
    let log = EventLog(store)
    let file = written(store, 3, to: "out.txt")
    #expect(written(store, 3, to: "out.txt") == file)
    #expect(log.executed == ["written(n:)"])
    // Changed behind the store's back: this process's memory notices.
    try "edited".write(toFile: file.path, atomically: true, encoding: .utf8)
    _ = written(store, 3, to: "out.txt")
    #expect(log.executed == ["written(n:)", "written(n:)"])
    #expect(try String(contentsOfFile: file.path, encoding: .utf8) == "0\n1\n2")
    store.flush()

    // Another process: the stored result is served while the file is as it
    // was, and recomputed, saying why, once it is not.
    let later = place.open()
    let laterLog = EventLog(later)
    _ = written(later, 3, to: "out.txt")
    #expect(laterLog.executed.isEmpty)
    let fresh = place.open()
    let freshLog = EventLog(fresh)
    try FileManager.default.removeItem(atPath: file.path)
    let call = MemoizedCall<TrackedFile>(
      op: testOp("Tests.written(n:)"), arguments: [Argument("n", 3)])
    #expect(try fresh.explain(call) == .fileChanged(path: file.path))
    _ = written(fresh, 3, to: "out.txt")
    #expect(freshLog.executed == ["written(n:)"])
    let causes = freshLog.all.compactMap {
      if case .didMiss(_, let cause) = $0 { cause } else { nil }
    }
    #expect(causes == [.fileChanged])
    fresh.flush()
    let id = try #require(try fresh.calls(of: "Tests.written(n:)").first?.id)
    #expect(try fresh.explainRun(of: id) == .sawWhenItRan(.fileChanged))
    #expect(FileManager.default.fileExists(atPath: file.path))
    #expect(try fresh.explain(call) == .stored)
  }

  @Test func aFilesDigestIsTheChunkedDigestOfItsBytesReadInBatches() throws {
    // Empty, one chunk, across the 64-chunk batches it is read in.
    for size in [0, 5, Digest.chunkSize + 1, 65 * Digest.chunkSize + 7] {
      let bytes = (0..<size).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ $0 >> 11) }
      let path = directory.path + "/bytes-\(size)"
      try Data(bytes).write(to: URL(fileURLWithPath: path))
      #expect(
        try FileDigests.hash(path) == bytes.withUnsafeBytes { Digest.chunkedSHA256($0).hex },
        "\(size) bytes")
    }
  }

  /// A short window for recent changes (two seconds in use), waited out.
  static let window: Int64 = 100_000_000

  func waitOutTheWindow() { Thread.sleep(forTimeInterval: 0.15) }

  @Test func anUnchangedFileIsRecognizedWithoutReadingIt() throws {
    let cache = directory.path + "/digests"
    let path = try write(String(repeating: "x", count: 10_000), to: "big.bin")
    let old = Date(timeIntervalSinceNow: -3600)
    try FileManager.default.setAttributes([.modificationDate: old], ofItemAtPath: path)
    waitOutTheWindow()
    let digests = FileDigests(cacheFile: cache, recentWindow: Self.window)
    let first = try digests.digest(of: path)
    #expect(digests.reads.load(ordering: .relaxed) == 1)
    #expect(try digests.digest(of: path) == first)
    #expect(digests.reads.load(ordering: .relaxed) == 1, "the stamp matched: not read again")
    // A later process: from the cache file.
    let later = FileDigests(cacheFile: cache, recentWindow: Self.window)
    #expect(try later.digest(of: path) == first)
    #expect(later.reads.load(ordering: .relaxed) == 0)
    // New content of the same size, the modification time put back: the
    // change time still differs, so it is read again.
    try String(repeating: "y", count: 10_000).write(
      toFile: path, atomically: false, encoding: .utf8)
    try FileManager.default.setAttributes([.modificationDate: old], ofItemAtPath: path)
    waitOutTheWindow()
    let changed = try later.digest(of: path)
    #expect(changed != first && later.reads.load(ordering: .relaxed) == 1)
    // A damaged line (here, the current one naming the old digest) fails its
    // check and is skipped: the file is read again, never served wrong.
    let text = try String(contentsOfFile: cache, encoding: .utf8)
    try (text.replacingOccurrences(of: changed, with: first)).write(
      toFile: cache, atomically: true, encoding: .utf8)
    let third = FileDigests(cacheFile: cache, recentWindow: Self.window)
    #expect(try third.digest(of: path) == changed)
    #expect(third.reads.load(ordering: .relaxed) == 1)
    // A file modified (or changed) just now is read every time, never
    // cached: a change within the clock's tick would keep its stamp.
    let recent = try write("new", to: "recent.txt")
    _ = try third.digest(of: recent)
    _ = try third.digest(of: recent)
    #expect(third.reads.load(ordering: .relaxed) == 3)
    #expect(throws: RecallError.self) { try third.digest(of: directory.path) }
  }
}
