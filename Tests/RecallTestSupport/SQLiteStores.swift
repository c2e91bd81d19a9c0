import Foundation
import RecallCore
import RecallSQLite
import Testing

public func openStore(_ path: String, inlineThreshold: Int = 64 << 10) throws -> Store {
  var backend = SQLiteBackend.Configuration()
  backend.inlineThreshold = inlineThreshold
  var configuration = Store.Configuration()
  configuration.printsWarnings = false
  return try Store.sqlite(at: path, configuration: configuration, backend: backend)
}

public let op = Op(id: "Tests.series(n:)", version: CodeFingerprint(hex: "1"))

public func series(_ store: Store, _ n: Int) -> [Double] {
  store.memoize(op, [Argument("n", n)]) { (0..<n).map { Double($0) / 3 } }
}

/// The path of a store's (first) blob file.
public func aBlobFile(in directory: TemporaryDirectory) throws -> String {
  let blobsPath = directory.path + "/blobs"
  let blob = try #require(
    FileManager.default.subpathsOfDirectory(atPath: blobsPath).first { $0.count > 3 })
  return "\(blobsPath)/\(blob)"
}

/// Overwrites three bytes in the middle of a store's (first) blob file. Its
/// modification time is set to another moment too, so that the damage shows in
/// its stamp even where file times are coarser than the test is quick.
public func damageABlob(in directory: TemporaryDirectory) throws {
  let path = try aBlobFile(in: directory)
  let handle = try #require(FileHandle(forUpdatingAtPath: path))
  handle.seek(toFileOffset: 5_000)
  handle.write(Data([0xFF, 0xFE, 0xFD]))
  try handle.close()
  try FileManager.default.setAttributes(
    [.modificationDate: Date(timeIntervalSince1970: 1_000_000_000)], ofItemAtPath: path)
}

/// Opens the store in `directory` and checks that its damaged `series` result
/// is computed again, with one corrupt-value warning; returns the store and
/// its warnings.
public func expectSeriesRecomputedAsCorrupt(
  in directory: TemporaryDirectory, count: Int = 10_000
) throws -> (Store, [RecallWarning]) {
  let store = try openStore(directory.path, inlineThreshold: 1024)
  let log = EventLog(store)
  #expect(series(store, count) == (0..<count).map { Double($0) / 3 })
  #expect(log.executed.count == 1)
  #expect(log.warnings.map(\.kind) == [.corruptValue])
  return (store, log.warnings)
}
