import Foundation

/// What a hit needs of a stored call: its output and how long it took.
public struct StoredResult: Sendable {
  /// The output value's content id.
  public var cid: ContentID
  /// The output value's history id.
  public var hid: HistoryID
  /// How long the call's body ran, in seconds.
  public var duration: Double
  /// When the call was stored (seconds since 1970; when its body finished),
  /// if the backend knows: what ``StoragePolicy/expiresAfter`` counts from.
  public var storedAt: Double?
  /// The output's bytes, in memory or mapped from a blob file.
  package var storage: StoredBytes

  /// The output value's stored bytes. For a large value that the store mapped
  /// from its file, this is a copy; ``withUnsafeBytes(_:)`` is not. Empty for
  /// a result whose blob file a lookup left unopened
  /// (``StoreReader/loadResult(_:deferringBlob:)``): ``opened()`` reads it.
  public var bytes: [UInt8] {
    get { storage.array }
    set {
      storage = .array(newValue)
      unopened = nil
    }
  }

  /// The size of the output value's stored bytes.
  public var size: Int { unopened?.size ?? storage.count }

  /// A blob file left unopened by a lookup that deferred it
  /// (``StoreReader/loadResult(_:deferringBlob:)``): ``storage`` is empty
  /// until ``opened()``.
  package var unopened: UnopenedBlob?

  /// Whether the bytes are here: `false` for a result whose blob file a
  /// lookup left unopened (``StoreReader/loadResult(_:deferringBlob:)``).
  public var isOpened: Bool { unopened == nil }

  /// The result with its bytes: its blob file opened and checked, as a
  /// lookup checks it, if it was left unopened; else the result itself.
  ///
  /// - Throws: ``RecallError/corruptValue`` when the file is damaged or
  ///   missing (it is quarantined), or another ``RecallError`` when it cannot
  ///   be read.
  public func opened() throws -> StoredResult {
    guard let unopened else { return self }
    var result = self
    result.storage = try unopened.open()
    result.unopened = nil
    return result
  }

  /// Calls `body` with the output value's stored bytes, without copying them.
  public func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
    try storage.withUnsafeBytes(body)
  }

  /// Creates a stored result.
  public init(
    cid: ContentID, hid: HistoryID, bytes: [UInt8], duration: Double, storedAt: Double? = nil
  ) {
    self.init(cid: cid, hid: hid, storage: .array(bytes), duration: duration, storedAt: storedAt)
  }

  /// The check of a large blob's checksum, still running while the result
  /// is decoded (``confirm()``).
  package var pendingChecksum: PendingChecksum?

  /// Creates a stored result whose bytes may be a mapped file.
  package init(
    cid: ContentID, hid: HistoryID, storage: StoredBytes, duration: Double,
    storedAt: Double? = nil, pendingChecksum: PendingChecksum? = nil
  ) {
    self.storedAt = storedAt
    self.cid = cid
    self.hid = hid
    self.storage = storage
    self.duration = duration
    self.pendingChecksum = pendingChecksum
  }

  /// Waits for the integrity check of the bytes, when it runs alongside their
  /// decoding; throws ``RecallError/corruptValue`` when they fail it (the
  /// backend has then quarantined them).
  package func confirm() throws {
    try pendingChecksum?.confirm()
  }
}

/// A blob file a lookup found unchanged and did not open: opened (mapped, or
/// read) when the value is first used.
package final class UnopenedBlob: Sendable {
  /// The file's size.
  package let size: Int
  private let opening: @Sendable () throws -> StoredBytes

  package init(size: Int, open: @escaping @Sendable () throws -> StoredBytes) {
    self.size = size
    opening = open
  }

  /// Opens the file: its bytes, checked as a lookup checks them.
  package func open() throws -> StoredBytes { try opening() }
}
