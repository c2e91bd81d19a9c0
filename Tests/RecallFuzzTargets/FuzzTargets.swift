#if !FUZZING
  import Foundation
  @testable import RecallCore
  @testable import RecallSQLite
#else
  import Foundation
#endif

/// The fuzz targets: functions that take any bytes and must return, never
/// trap, whatever the bytes. `.ci/fuzz` runs each under libFuzzer (compiled
/// into one module with RecallCore's sources); the tests run every input of
/// the committed corpus (`Fuzz/Corpus/TARGET/`) through them, so that each
/// input that once crashed stays a regression test.
public enum FuzzTargets {
  /// The targets by name.
  public static let all: [String: @Sendable (UnsafeRawBufferPointer) -> Void] = [
    "decode": decode, "blob": blob, "parsers": parsers,
  ]

  /// A value of many shapes, for the decoder to fill.
  struct Shapes: Codable {
    enum Kind: String, Codable { case small, large }
    var name: String
    var count: Int
    var ratio: Double?
    var kind: Kind
    var values: [Float]
    var nested: [String: [Int16]]
    var data: Data
    var flags: Set<Bool>
    var when: Date
  }

  /// Stored bytes as the canonical decoder, the integrity check and the
  /// renderer for `recall show` read them.
  @Sendable public static func decode(_ bytes: UnsafeRawBufferPointer) {
    let array = [UInt8](bytes)
    _ = try? ValueCodec.decode([Double].self, from: bytes)
    _ = try? ValueCodec.decode(String.self, from: bytes)
    _ = try? ValueCodec.decode(Shapes.self, from: bytes)
    _ = try? ValueCodec.decode([[UInt8]].self, from: bytes)
    _ = try? ValueCodec.decode([String: Shapes?].self, from: bytes)
    _ = try? ValueCodec.decode(MappedArray<Int32>.self, from: bytes)
    _ = try? ValueCodec.decode(Data.self, from: array)
    _ = try? ValueCodec.contentID(ofStored: bytes)
    _ = ValueCodec.checkStored(bytes, checksum: nil, cid: ContentID(Digest.sha256("fuzz")))
    _ = try? ValueCodec.renderJSON(array, maximumElements: 4)
  }

  /// A blob file as a store reads it: checked (by checksum and by content
  /// id), then decoded from its mapping.
  @Sendable public static func blob(_ bytes: UnsafeRawBufferPointer) {
    guard let blobs = blobDirectory else { return }
    let cid = ContentID(Digest.sha256("fuzz"))
    for checksum in [Checksum.xxh64(bytes), nil] {
      let path = blobs.path(cid)
      _ = FileManager.default.createFile(atPath: path, contents: Data(bytes))
      let found = try? blobs.readVerified(
        cid, checksum: checksum, store: blobs.root, forget: { _ in })
      switch found {
      case .intact(let stored), .unreadable(let stored), .checking(let stored, _):
        _ = try? stored.decode([Double].self)
        _ = try? stored.decode(MappedArray<Double>.self).reduce(0, +)
        _ = try? stored.decode([String: MappedArray<UInt8>].self).values.map { $0.count }
        _ = try? stored.decode(Shapes.self)
      case .missing, nil:
        break
      }
    }
  }

  /// Removes the blob directory ``blob(_:)`` made (what it quarantined).
  public static func removeTemporaryFiles() {
    if let blobs = blobDirectory { try? FileManager.default.removeItem(atPath: blobs.root) }
  }

  /// A blob directory of this process's, for ``blob(_:)``.
  static let blobDirectory: BlobDirectory? = {
    let root = NSTemporaryDirectory() + "recall-fuzz-\(getpid())"
    guard let blobs = try? BlobDirectory(root: root) else { return nil }
    let cid = ContentID(Digest.sha256("fuzz"))
    let directory = (blobs.path(cid) as NSString).deletingLastPathComponent
    try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    return blobs
  }()

  /// What users type and the store's compact records: call id prefixes,
  /// hexadecimal ids, `--since` dates, and the SQLite store's key fields.
  @Sendable public static func parsers(_ bytes: UnsafeRawBufferPointer) {
    let text = String(decoding: bytes, as: UTF8.self)
    _ = CallQuery(idPrefix: text).idRange
    _ = Digest(hex: text)
    _ = ContentID(hex: text)
    _ = CallID(hex: text)
    _ = Calendar(identifier: .gregorian).day(parsing: text)
    let inputs = [Digest.sha256("a"), Digest.sha256("b")]
    if let fields = StoredKeyFields.expand([UInt8](bytes), inputs: inputs) {
      // What expands must compact back to something that expands the same.
      let again = StoredKeyFields.expand(
        StoredKeyFields.compact(fields, inputs: inputs), inputs: inputs)
      precondition(again == fields, "key fields do not round-trip")
    }
  }
}
