/// What a backend does with a stored value's bytes before anything uses
/// them: checks them, and when they cannot be served, makes sure the call
/// that recomputes the value stores it again.
///
/// Both backends keep small values in their database (inline) and large ones
/// in a ``BlobDirectory``; both check an inline value here, as the blob
/// directory checks a file.
package struct ValueChecks: Sendable {
  /// The store's location, for messages.
  package let store: String
  /// The store's blob directory, where damaged inline values are kept for
  /// inspection too; a PostgreSQL store may have none.
  package let blobs: BlobDirectory?
  /// Drops the store's bytes of a value (SQLite keeps the row while calls
  /// name it; PostgreSQL deletes it), so that the next store of the value
  /// puts them back. A no-op in a store opened read-only.
  package let forget: @Sendable (ContentID) throws -> Void

  package init(
    store: String, blobs: BlobDirectory?, forget: @escaping @Sendable (ContentID) throws -> Void
  ) {
    self.store = store
    self.blobs = blobs
    self.forget = forget
  }

  /// Checks a value kept in the database against its recorded checksum (or,
  /// recorded before there was one, its content id).
  ///
  /// - Returns: ``ValueIntegrity/intact``, or ``ValueIntegrity/unreadable``
  ///   for bytes a newer Recall wrote.
  /// - Throws: ``RecallError/corruptValue`` for damaged bytes, after keeping
  ///   a copy in quarantine and forgetting them (unless the store was opened
  ///   read-only).
  package func checkInline(
    _ cid: ContentID, _ bytes: UnsafeRawBufferPointer, checksum: UInt64?
  ) throws -> ValueIntegrity {
    switch ValueCodec.checkStored(bytes, checksum: checksum, cid: cid) {
    case .intact: return .intact
    case .unreadable(let detail): return .unreadable(detail)
    case .corrupt(let detail):
      blobs?.quarantine(cid, inline: bytes)
      try forget(cid)
      throw RecallError.corruptValue(cid, path: store, detail: detail)
    }
  }

  /// Lets go of a value a newer Recall wrote, which a lookup cannot serve:
  /// its file is removed and its bytes forgotten, so that the call that
  /// recomputes it stores it again, in this Recall's format (which newer
  /// ones read too). Otherwise every run would recompute it and keep the
  /// unreadable bytes.
  ///
  /// - Throws: ``RecallError/valueFromNewerVersion``, always (or the error
  ///   that kept the value from being let go).
  package func replaceNewer(_ cid: ContentID) throws -> Never {
    try blobs?.remove(cid)
    try forget(cid)
    throw RecallError.valueFromNewerVersion(
      cid, path: store, detail: "its encoding format is newer than this version of Recall reads")
  }
}
