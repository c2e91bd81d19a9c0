import Foundation
import GRDB
import RecallTestSupport
import Testing

@testable import RecallCore
@testable import RecallSQLite

private let mappedOp = Op(id: "Tests.mapped(n:)", version: CodeFingerprint(hex: "1"))

private func mapped(_ store: Store, _ n: Int) -> MappedArray<Double> {
  store.memoize(mappedOp, [Argument("n", n)]) { MappedArray((0..<n).map { Double($0) / 3 }) }
}

/// SQLite-specific: a hit maps the store's blob file. (PostgreSQL's shared
/// blob directory is read, never mapped: it is usually a network file system.)
@Suite struct MappedArrayTests {
  @Test func isStoredAndHashedExactlyAsTheArray() throws {
    let array = (0..<100_000).map { Double($0) * 1.5 }
    let mapped = MappedArray(array)
    #expect(!mapped.isMapped)
    #expect(mapped.count == array.count && mapped[99_999] == array[99_999])
    #expect(Array(mapped) == array)
    let encoded = try ValueCodec.encode(mapped)
    #expect(encoded.cid == (try ValueCodec.encode(array)).cid)
    #expect(encoded.bytes == (try ValueCodec.encode(array)).bytes)
    #expect(try ValueCodec.decode(MappedArray<Double>.self, from: encoded.bytes) == mapped)
    #expect(try ValueCodec.decode([Double].self, from: encoded.bytes) == array)
    // Small ones too (a plain raw array, version 1).
    let small: MappedArray<Int32> = [1, 2, 3]
    #expect(try ValueCodec.encode(small).cid == ValueCodec.encode([1, 2, 3] as [Int32]).cid)
    #expect(
      try ValueCodec.decode(MappedArray<Int32>.self, from: ValueCodec.encode(small).bytes) == small)
    // Other coders see an array.
    let json = try JSONEncoder().encode(small)
    #expect(String(decoding: json, as: UTF8.self) == "[1,2,3]")
    #expect(try JSONDecoder().decode(MappedArray<Int32>.self, from: json) == small)
    #expect(small.description == "[1, 2, 3]")
  }

  @Test func aHitInAnotherStoreUsesTheBlobFilesPages() throws {
    let directory = TemporaryDirectory()
    let count = 300_000  // 2.4 MB: a blob file
    do {
      let store = try openStore(directory.path, inlineThreshold: 1024)
      let computed = mapped(store, count)
      #expect(!computed.isMapped)
    }
    let store = try openStore(directory.path, inlineThreshold: 1024)
    let log = EventLog(store)
    let hit = mapped(store, count)
    #expect(log.executed.isEmpty)
    #expect(hit.isMapped)
    #expect(hit.count == count)
    #expect(hit == MappedArray((0..<count).map { Double($0) / 3 }))
    hit.withUnsafeBufferPointer { buffer in
      #expect(Int(bitPattern: buffer.baseAddress) % MemoryLayout<Double>.alignment == 0)
      #expect(buffer[count - 1] == Double(count - 1) / 3)
    }
    // The same result read as an array is a copy.
    let asArray = store.memoize(mappedOp, [Argument("n", count)]) { [Double]() }
    #expect(asArray.count == count)
    // Passed on as an argument, it hashes like the array.
    #expect(try ValueCodec.contentID(of: hit) == ValueCodec.contentID(of: asArray))
  }

  @Test func insideAnotherValueItIsMappedToo() throws {
    struct Trace: Codable, Sendable, Equatable {
      var name: String
      var samples: MappedArray<Float>
      var steps: MappedArray<Int64>
    }
    let traceOp = Op(id: "Tests.trace()", version: CodeFingerprint(hex: "1"))
    let make = {
      Trace(
        name: "run", samples: MappedArray((0..<50_000).map { Float($0) }),
        steps: MappedArray((0..<3_000).map { Int64($0) * 7 }))
    }
    let directory = TemporaryDirectory()
    do {
      let store = try openStore(directory.path, inlineThreshold: 1024)
      _ = store.memoize(traceOp, [], make)
    }
    let store = try openStore(directory.path, inlineThreshold: 1024)
    let hit = store.memoize(traceOp, []) { Trace(name: "", samples: [], steps: []) }
    #expect(hit == make())
    #expect(hit.samples.isMapped && hit.steps.isMapped)
  }

  @Test func inUnorderedCollectionsItIsMappedOnlyWhereAligned() throws {
    // Arrays inside a dictionary with Double keys are aligned within their
    // key-value group only.
    let op = Op(id: "Tests.table()", version: CodeFingerprint(hex: "1"))
    let make = { () -> [Double: MappedArray<Double>] in
      var table: [Double: MappedArray<Double>] = [:]
      for key in 0..<6 {
        let elements: [Double] = (0..<(1_000 + key * 3)).map { Double($0 * key) }
        table[Double(key) + 0.5] = MappedArray(elements)
      }
      return table
    }
    let directory = TemporaryDirectory()
    do {
      let store = try openStore(directory.path, inlineThreshold: 1024)
      _ = store.memoize(op, [], make)
    }
    let store = try openStore(directory.path, inlineThreshold: 1024)
    let hit = store.memoize(op, []) { [Double: MappedArray<Double>]() }
    #expect(hit == make())
    for array in hit.values where array.isMapped {
      array.withUnsafeBufferPointer {
        #expect(Int(bitPattern: $0.baseAddress) % MemoryLayout<Double>.alignment == 0)
      }
    }
  }

  @Test func aLargeArrayIsCopiedExactlyOutOfItsMappedFile() throws {
    // 17.6 MB: copied in parts, each asking for its pages first.
    let directory = TemporaryDirectory()
    let count = 2_200_003
    do {
      let store = try openStore(directory.path, inlineThreshold: 1024)
      _ = series(store, count)
    }
    let store = try openStore(directory.path, inlineThreshold: 1024)
    let log = EventLog(store)
    #expect(series(store, count) == (0..<count).map { Double($0) / 3 })
    #expect(log.executed.isEmpty)
  }

  @Test func aDamagedBlobIsNeverMappedIntoAResult() throws {
    let directory = TemporaryDirectory()
    let count = 1_200_000  // 9.6 MB: checked alongside the decoding
    do {
      let store = try openStore(directory.path, inlineThreshold: 1024)
      _ = mapped(store, count)
    }
    try damageABlob(in: directory)
    let store = try openStore(directory.path, inlineThreshold: 1024)
    let log = EventLog(store)
    let value = mapped(store, count)
    #expect(log.executed.count == 1)
    #expect(log.warnings.map(\.kind) == [.corruptValue])
    #expect(!value.isMapped)
    #expect(value[1_666] == 1_666.0 / 3)
  }

  @Test func aLazyResultOfADamagedBlobIsNeverReadAndIsComputedAgain() throws {
    let directory = TemporaryDirectory()
    let lazyOp = Op(id: "Tests.series(n:)", version: CodeFingerprint(hex: "1"))
    let expected = (0..<10_000).map { Double($0) / 3 }
    let lazySeries = { (store: Store) -> Lazy<[Double]> in
      store.memoize(lazyOp, [Argument("n", 10_000)]) { Lazy(expected) }
    }
    do {
      let store = try openStore(directory.path, inlineThreshold: 1024)
      _ = lazySeries(store)
    }
    // Intact: a hit that opens no file, read when asked.
    do {
      let store = try openStore(directory.path, inlineThreshold: 1024)
      let log = EventLog(store)
      let hit = lazySeries(store)
      #expect(log.executed.isEmpty && !hit.isLoaded)
      #expect(try hit.value == expected)
    }
    // Damaged: the hit is still a hit (nothing was opened), but reading it
    // checks the file, whose stamp changed: it fails, is quarantined, and is
    // said as a corrupt value; the next call computes it again.
    try damageABlob(in: directory)
    let store = try openStore(directory.path, inlineThreshold: 1024)
    let log = EventLog(store)
    let damaged = lazySeries(store)
    #expect(log.executed.isEmpty)
    let error = #expect(throws: RecallError.self) { try damaged.value }
    #expect(error?.code == RecallError.corruptValue)
    #expect(log.warnings.map(\.kind) == [.corruptValue])
    let again = lazySeries(store)
    #expect(log.executed == ["series(n:)"])
    #expect(try again.value == expected)
    // Its file removed: the same.
    store.flush()
    try FileManager.default.removeItem(atPath: try aBlobFile(in: directory))
    let later = try openStore(directory.path, inlineThreshold: 1024)
    let laterLog = EventLog(later)
    let gone = lazySeries(later)
    let missing = #expect(throws: RecallError.self) { try gone.value }
    #expect(missing?.code == RecallError.corruptValue)
    #expect(missing?.message.contains("missing") == true)
    #expect(laterLog.warnings.map(\.kind) == [.corruptValue])
    #expect(try lazySeries(later).value == expected)
    #expect(laterLog.executed == ["series(n:)"])
  }

  @Test func aLazyStringLeavesItsBlobUnopenedUntilRead() throws {
    // A string cannot hold a tracked file: its hit opens no file, so a
    // damaged blob is found when the value is read, not at the hit.
    let directory = TemporaryDirectory()
    let textOp = Op(id: "Tests.text(n:)", version: CodeFingerprint(hex: "1"))
    let expected = String(repeating: "recall ", count: 200)
    let text = { (store: Store) -> Lazy<String> in
      store.memoize(textOp, [Argument("n", 1_000)]) { Lazy(expected) }
    }
    do {
      let store = try openStore(directory.path, inlineThreshold: 1024)
      _ = text(store)
    }
    try damageABlob(in: directory)
    let store = try openStore(directory.path, inlineThreshold: 1024)
    let log = EventLog(store)
    let damaged = text(store)
    #expect(log.executed.isEmpty && !damaged.isLoaded)
    let error = #expect(throws: RecallError.self) { try damaged.value }
    #expect(error?.code == RecallError.corruptValue)
    #expect(try text(store).value == expected)
    #expect(log.executed == ["text(n:)"])
  }

  @Test func aRecomputedCallWhoseLazyInputIsDamagedIsNotServedTheOldResult() throws {
    let directory = TemporaryDirectory()
    let produce = Op(id: "Tests.produce()", version: CodeFingerprint(hex: "1"))
    let consume = Op(id: "Tests.consume(_:)", version: CodeFingerprint(hex: "1"))
    let produced = { (store: Store) -> Lazy<[Double]> in
      store.memoize(produce, []) { Lazy((0..<10_000).map(Double.init)) }
    }
    let consumed = { (store: Store, input: Lazy<[Double]>) -> Int in
      store.memoize(consume, [Argument("input", input)]) { 1 }
    }
    do {
      let store = try openStore(directory.path, inlineThreshold: 1024)
      #expect(consumed(store, produced(store)) == 1)
    }
    try damageABlob(in: directory)
    let store = try openStore(directory.path, inlineThreshold: 1024)
    let log = EventLog(store)
    let input = produced(store)  // a hit: nothing read yet
    // Recomputing the consumer runs it, but its damaged input cannot be
    // stored with it: the new result is not stored, and the old one is
    // forgotten rather than left to be served.
    let again = Memoization.recomputing { consumed(store, input) }
    #expect(again == 1)
    #expect(log.executed == ["consume(_:)"])
    #expect(log.warnings.map(\.kind) == [.storeFailure])
    store.flush()
    let later = try openStore(directory.path, inlineThreshold: 1024)
    #expect(
      try MemoizedCall<Int>(op: consume, arguments: [Argument("input", input)]).isStored(in: later)
        == false)
  }
}
