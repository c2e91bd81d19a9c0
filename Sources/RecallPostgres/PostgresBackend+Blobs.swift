import Foundation
import RecallCore

/// Large values in a directory every worker mounts, rather than in the
/// database (``PostgresBackend/Configuration/blobDirectory``).
///
/// A value's file is complete and durable before the row that names it
/// commits (with `bytes` NULL), so no process ever sees a partial value; a
/// garbage collection deletes files only while it holds the `value` table's
/// lock, which every writer's transaction waits for.
extension PostgresBackend {
  /// Makes sure `blobs` is this store's blob directory as every other worker
  /// sees it, and marks a new one as the store's.
  ///
  /// - Throws: `RecallError.storeUnavailable` when the directory belongs to
  ///   another store, or is empty while the store already keeps values in a
  ///   blob directory (the shared file system is not mounted at that path).
  func adopt(_ blobs: BlobDirectory) throws {
    let storeID = try transaction { connection in
      try connection.execute(
        "INSERT INTO setting (name, value) VALUES ('store_id', $1) ON CONFLICT (name) DO NOTHING",
        [.text(UUID().uuidString.lowercased())])
      return try connection.rows("SELECT value FROM setting WHERE name = 'store_id'").first?.text(0)
        ?? ""
    }
    let markerPath = blobs.root + "/" + BlobDirectory.markerName
    func refuse(_ detail: String) -> RecallError {
      RecallError.storeUnavailable(
        path: location, detail: "the blob directory '\(blobs.root)' \(detail)")
    }
    if let marker = try? String(contentsOfFile: markerPath, encoding: .utf8) {
      let owner = marker.trimmingCharacters(in: .whitespacesAndNewlines)
      guard owner == storeID else {
        throw refuse(
          "belongs to another store (its \(BlobDirectory.markerName) file names store \(owner); this store is "
            + "\(storeID)). Give each store a blob directory of its own.")
      }
      return
    }
    let kept = try withConnection { connection in
      try connection.rows("SELECT count(*)::bigint FROM value WHERE bytes IS NULL").first?.int(0)
        ?? 0
    }
    guard kept == 0 else {
      throw refuse(
        "has no \(BlobDirectory.markerName) file, but the store keeps \(kept) values in a blob directory. Is the "
          + "shared directory mounted here? Give the path under which this machine sees it.")
    }
    guard blobs.files(modifiedBefore: .max).isEmpty else {
      throw refuse(
        "already holds another store's blob files (and no \(BlobDirectory.markerName) file). Give this store an "
          + "empty directory of its own.")
    }
    do {
      try Data((storeID + "\n").utf8).write(to: URL(fileURLWithPath: markerPath), options: .atomic)
    } catch {
      throw refuse("cannot be marked as this store's (\(error.localizedDescription)).")
    }
  }

  /// Whether a value of this size goes to the blob directory.
  func isBlob(_ value: EncodedValue) -> Bool {
    blobs != nil && value.bytes.count > configuration.inlineThreshold
  }

  /// The bytes of a stored value whose row holds `inline` (NULL when the value
  /// is a file in the blob directory) and the file's `checksum`.
  func bytes(of cid: ContentID, inline: Data?, checksum: Int?) throws -> BlobDirectory.Verified {
    if let inline {
      let checksum = checksum.map { UInt64(bitPattern: Int64($0)) }
      let integrity = try inline.withUnsafeBytes {
        try checks.checkInline(cid, $0, checksum: checksum)
      }
      let bytes = StoredBytes.array([UInt8](inline))
      return integrity == .intact ? .intact(bytes) : .unreadable(bytes)
    }
    guard let blobs else {
      throw RecallError.storeUnavailable(
        path: location,
        detail:
          "the value \(cid.hex) is kept in the store's blob directory, and this process opened the "
          + "store without one; add ?blobs=PATH to the store's URL (or set "
          + "PostgresBackend.Configuration.blobDirectory) with the path of the shared directory")
    }
    let checksum = checksum.map { UInt64(bitPattern: Int64($0)) }
    return try blobs.readVerified(cid, checksum: checksum, store: location) { [self] cid in
      try forgetValue(cid)
    }
  }

  /// What a lookup does with a value's bytes it read.
  var checks: ValueChecks {
    ValueChecks(store: location, blobs: blobs, forget: { [self] in try forgetValue($0) })
  }

  /// Deletes the row of a value whose bytes failed their check or cannot be
  /// read here (a newer Recall wrote them): the calls that name it become
  /// misses, and the first to be recomputed stores the value again. (Rows
  /// name values by cid: no row names the deleted one's.)
  func forgetValue(_ cid: ContentID) throws {
    try transaction { connection in
      _ = try connection.execute("DELETE FROM value WHERE cid = $1", [SQLValue(cid.digest)])
      // Lost, not evicted (an eviction recorded before it was stored again).
      _ = try connection.execute(
        "DELETE FROM evicted_value WHERE cid = $1", [SQLValue(cid.digest)])
    }
  }
}
