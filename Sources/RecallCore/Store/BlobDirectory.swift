import Foundation
import Synchronization

#if canImport(Glibc)
  import Glibc
  private let systemRead = Glibc.read
  private let systemWrite = Glibc.write
#elseif canImport(Darwin)
  import Darwin
  private let systemRead = Darwin.read
  private let systemWrite = Darwin.write
#endif

/// Content-addressed blob files: `blobs/ab/cdef…`, one per cid, written to a
/// temporary file, fsynced and renamed into place, so a reader never sees a
/// partial file.
///
/// The SQLite store keeps its large values here, and so does a PostgreSQL
/// store given a shared blob directory. Writers store a value's file before the
/// row that names it commits; collectors delete files under the store's lock.
package struct BlobDirectory: Sendable {
  /// The file in a shared blob directory that names the store it belongs to
  /// (a PostgreSQL store's; an SQLite store's directory has none).
  package static let markerName = "recall-store-id"

  package let root: String
  /// Whether reads map files rather than copy them: true for local stores.
  /// A shared directory on a network file system is read with `read`, which
  /// reports a lost server as an error where a mapping would crash.
  package var mapsFiles = true
  package var blobs: String { root + "/blobs" }
  var temporary: String { root + "/tmp" }
  var quarantined: String { root + "/quarantine" }

  /// Whether the store was opened for reading only: then nothing here is
  /// created, moved or removed (damaged files stay where they are, refused).
  package let isReadOnly: Bool

  /// The blob directory of a store opened for reading only: nothing is created
  /// or cleaned up.
  package init(existing root: String) {
    self.root = root
    self.isReadOnly = true
  }

  package init(root: String) throws {
    self.root = root
    self.isReadOnly = false
    for directory in [root, blobs, temporary, quarantined] {
      try BlobDirectory.makeDirectory(directory, root: root)
      // Something else in a directory's place would fail every write or
      // quarantine, at every call: refused once, here.
      var info = stat()
      guard stat(directory, &info) == 0, info.st_mode & S_IFMT == S_IFDIR else {
        throw RecallError.storeUnavailable(
          path: root,
          detail:
            "\(directory) is not a directory, and Recall keeps its files there; move it away "
            + "(mv '\(directory)' '\(directory).moved') and run again")
      }
    }
    removeAbandonedTemporaryFiles()
  }

  /// Creates a directory (and its parents) unless it exists, with plain system
  /// calls: opening a store must be fast (scenario C), and Foundation's file
  /// manager is slow on first use.
  package static func makeDirectory(_ path: String, root: String) throws {
    if mkdir(path, 0o755) == 0 || errno == EEXIST { return }
    if errno == ENOENT {
      let parent = (path as NSString).deletingLastPathComponent
      if !parent.isEmpty && parent != path {
        try makeDirectory(parent, root: root)
        if mkdir(path, 0o755) == 0 || errno == EEXIST { return }
      }
    }
    throw RecallError.storeUnavailable(
      path: root, detail: "cannot create directory \(path): \(posixError())")
  }

  package func path(_ cid: ContentID) -> String {
    let hex = cid.hex
    return "\(blobs)/\(hex.prefix(2))/\(hex.dropFirst(2))"
  }

  /// What is at a blob's path, when it is not a file (a directory, say).
  private struct NotAFile: Error {}

  /// Opens a blob file and passes its descriptor and size to `body`, or
  /// returns `nil` when the file does not exist.
  ///
  /// - Throws: `NotAFile` when something other than a file is at its path.
  private func withOpenFile<T>(
    _ cid: ContentID, _ body: (_ fd: Int32, _ size: Int, _ stamp: BlobStamp) throws -> T
  ) throws -> T? {
    let fd = open(path(cid), O_RDONLY | O_CLOEXEC)
    if fd < 0 {
      if errno == ENOENT { return nil }
      throw RecallError.storeUnavailable(
        path: root, detail: "cannot open blob \(cid.hex): \(posixError())")
    }
    defer { close(fd) }
    var info = stat()
    guard fstat(fd, &info) == 0 else {
      throw RecallError.storeUnavailable(
        path: root, detail: "cannot stat blob \(cid.hex): \(posixError())")
    }
    guard info.st_mode & S_IFMT == S_IFREG else { throw NotAFile() }
    return try body(fd, Int(info.st_size), BlobStamp(info))
  }

  private func read(_ cid: ContentID, fd: Int32, size: Int) throws -> [UInt8] {
    try [UInt8](unsafeUninitializedCapacity: size) { buffer, initialized in
      if let start = buffer.baseAddress { LargeBuffers.prepare(start, count: size) }
      var done = 0
      while done < size {
        let n = systemRead(fd, buffer.baseAddress! + done, size - done)
        if n < 0 && errno == EINTR { continue }
        guard n > 0 else {
          throw RecallError.storeUnavailable(
            path: root,
            detail: "cannot read blob \(cid.hex): \(n == 0 ? "file shrank" : posixError())")
        }
        done += n
      }
      initialized = size
    }
  }

  /// What reading a value's blob found.
  package enum Verified {
    /// The file exists and holds the value its cid names.
    case intact(StoredBytes)
    /// The file exists and its checksum is being computed on another thread
    /// (``readVerified(_:checksum:stamp:store:overlapping:forget:)`` with
    /// `overlapping`): use the bytes, then ask the check before trusting them.
    case checking(StoredBytes, PendingChecksum)
    /// The file was written by a newer Recall: not corrupt, only unreadable here.
    case unreadable(StoredBytes)
    /// There is no file (collected, or never written by a writer that died).
    case missing
  }

  /// Reads a value's blob and checks it: against `checksum` (its XXH64, which
  /// the store recorded when it wrote the file) when there is one, else
  /// against its cid. A file whose ``BlobStamp`` is still `stamp` (the one
  /// ``write(_:)`` returned when it wrote the file) is not read through again:
  /// only its format header is checked. A corrupt file is moved to quarantine, `forget` drops
  /// the store's row for the value, and the corruption is thrown, so the
  /// caller recomputes rather than serving it.
  ///
  /// - Throws: ``RecallError/corruptValue`` for a corrupt file,
  ///   ``RecallError/storeUnavailable`` when the file cannot be read.
  ///
  /// With `overlapping`, a large mapped file's checksum is computed on
  /// another thread while the caller decodes it (``Verified/checking(_:_:)``);
  /// the check quarantines the file and forgets its row itself when it fails.
  package func readVerified(
    _ cid: ContentID, checksum: UInt64?, stamp: String? = nil, store: String,
    overlapping: Bool = false,
    forget: @escaping @Sendable (ContentID) throws -> Void
  ) throws -> Verified {
    do {
      return try readVerifiedFile(
        cid, checksum: checksum, stamp: stamp, store: store, overlapping: overlapping,
        forget: forget)
    } catch is NotAFile {
      // Moved aside, so that the value's next store writes its file.
      try quarantine(cid)
      try forget(cid)
      throw RecallError.corruptValue(
        cid, path: store, detail: "its blob path \(path(cid)) is not a file")
    }
  }

  private func readVerifiedFile(
    _ cid: ContentID, checksum: UInt64?, stamp: String?, store: String, overlapping: Bool,
    forget: @escaping @Sendable (ContentID) throws -> Void
  ) throws -> Verified {
    let found: StoredBytes
    let unchanged: Bool
    if mapsFiles {
      guard
        let (mapped, current) = try withOpenFile(
          cid, { fd, size, current in (try map(cid, fd: fd, size: size), current) })
      else { return .missing }
      found = .mapped(mapped)
      unchanged = stamp != nil && stamp == current.text
      if !unchanged, overlapping, let checksum, mapped.bytes.count >= PendingChecksum.minimumSize,
        case .intact = ValueCodec.checkFormat(of: mapped.bytes)
      {
        return .checking(
          found,
          PendingChecksum(mapped, expected: checksum) { [self] detail in
            try quarantine(cid)
            try forget(cid)
            return RecallError.corruptValue(cid, path: store, detail: detail)
          })
      }
    } else {
      guard
        let (bytes, current) = try withOpenFile(
          cid, { fd, size, current in (try read(cid, fd: fd, size: size), current) })
      else { return .missing }
      found = .array(bytes)
      unchanged = stamp != nil && stamp == current.text
    }
    let integrity = found.withUnsafeBytes { bytes in
      if unchanged { return ValueCodec.checkFormat(of: bytes) }
      LargeBuffers.populate(bytes)  // a whole pass over a mapped file
      return ValueCodec.checkStored(bytes, checksum: checksum, cid: cid)
    }
    switch integrity {
    case .intact:
      return .intact(found)
    case .unreadable:
      return .unreadable(found)
    case .corrupt(let detail):
      try quarantine(cid)
      try forget(cid)
      throw RecallError.corruptValue(cid, path: store, detail: detail)
    }
  }

  /// Maps a blob file into memory, read-only. Blob files never change once in
  /// place (a writer renames a complete file over nothing; removing one
  /// unlinks it), so a mapping stays valid. Pages are mapped as they are
  /// used: a pass over the whole file asks for them all first
  /// (``LargeBuffers/populate(_:)``).
  private func map(_ cid: ContentID, fd: Int32, size: Int) throws -> MappedFile {
    guard size > 0 else { return MappedFile(start: nil, count: 0) }
    guard let start = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0), start != MAP_FAILED else {
      throw RecallError.storeUnavailable(
        path: root, detail: "cannot map blob \(cid.hex): \(posixError())")
    }
    return MappedFile(start: UnsafeRawPointer(start), count: size)
  }

  /// Writes a blob unless its file already exists; returns the new file's
  /// stamp (`nil` when the file was there already: nothing here wrote its
  /// bytes, so nothing vouches for them).
  @discardableResult
  package func write(_ value: EncodedValue) throws -> BlobStamp? {
    let final = path(value.cid)
    if access(final, F_OK) == 0 { return nil }
    let directory = (final as NSString).deletingLastPathComponent
    if access(directory, F_OK) != 0 {
      try BlobDirectory.makeDirectory(directory, root: root)
      syncDirectory(blobs)  // the new directory's entry must survive a power loss too
    }
    let temporaryPath =
      "\(temporary)/\(value.cid.hex).\(getpid()).\(UInt64.random(in: 0...UInt64.max))"
    let fd = open(temporaryPath, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
    guard fd >= 0 else {
      throw RecallError.storeUnavailable(
        path: root, detail: "cannot create \(temporaryPath): \(posixError())")
    }
    defer {
      close(fd)
      unlink(temporaryPath)  // no-op after the rename
    }
    try value.bytes.withUnsafeBytes { bytes in
      var done = 0
      while done < bytes.count {
        let n = systemWrite(fd, bytes.baseAddress! + done, bytes.count - done)
        if n < 0 && errno == EINTR { continue }
        guard n > 0 else {
          throw RecallError.storeUnavailable(
            path: root, detail: "cannot write blob: \(posixError())")
        }
        done += n
      }
    }
    guard fsync(fd) == 0 else {
      throw RecallError.storeUnavailable(path: root, detail: "cannot fsync blob: \(posixError())")
    }
    guard rename(temporaryPath, final) == 0 else {
      throw RecallError.storeUnavailable(
        path: root, detail: "cannot move blob into place: \(posixError())")
    }
    syncDirectory(directory)
    // The stamp of this very file (still open), renamed: another process that
    // put the same blob in place meanwhile cannot lend it its own.
    var info = stat()
    return fstat(fd, &info) == 0 ? BlobStamp(info) : nil
  }

  /// Whether a blob's file exists.
  package func exists(_ cid: ContentID) -> Bool {
    access(path(cid), F_OK) == 0
  }

  /// Deletes a blob's file, if it exists.
  package func remove(_ cid: ContentID) throws {
    guard !isReadOnly else { return }
    if unlink(path(cid)) != 0 && errno != ENOENT {
      throw RecallError.storeUnavailable(
        path: root, detail: "cannot delete blob \(cid.hex): \(posixError())")
    }
  }

  /// The cids of blob files last modified before `cutoff` (seconds since 1970).
  package func files(modifiedBefore cutoff: Int) -> [ContentID] {
    var found: [ContentID] = []
    for prefix in Self.entries(of: blobs) where prefix.count == 2 {
      for rest in Self.entries(of: "\(blobs)/\(prefix)") {
        guard let cid = ContentID(hex: prefix + rest) else { continue }
        var info = stat()
        if stat(path(cid), &info) == 0 && modificationTime(info) < cutoff { found.append(cid) }
      }
    }
    return found
  }

  private static func entries(of directory: String) -> [String] {
    guard let handle = opendir(directory) else { return [] }
    defer { closedir(handle) }
    var names: [String] = []
    while let entry = readdir(handle) {
      let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
        String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
      }
      if name != "." && name != ".." { names.append(name) }
    }
    return names
  }

  /// Moves a blob that failed its integrity check aside for inspection.
  package func quarantine(_ cid: ContentID) throws {
    guard !isReadOnly else { return }
    if rename(path(cid), quarantinePath(cid)) != 0 && errno != ENOENT {
      throw RecallError.storeUnavailable(
        path: root, detail: "cannot quarantine blob \(cid.hex): \(posixError())")
    }
  }

  /// Keeps the bytes of a value stored in the database (inline) that failed
  /// their check, for inspection: the store then forgets them. Best effort:
  /// not keeping a copy of damaged bytes is no reason to fail.
  package func quarantine(_ cid: ContentID, inline bytes: UnsafeRawBufferPointer) {
    guard !isReadOnly else { return }
    let target = quarantinePath(cid) + ".inline"
    let fd = open(target, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
    guard fd >= 0 else { return }
    defer { close(fd) }
    var done = 0
    while done < bytes.count {
      let n = systemWrite(fd, bytes.baseAddress! + done, bytes.count - done)
      if n < 0 && errno == EINTR { continue }
      guard n > 0 else { return }
      done += n
    }
  }

  private func quarantinePath(_ cid: ContentID) -> String {
    "\(quarantined)/\(cid.hex).\(Int(Date().timeIntervalSince1970)).\(UInt32.random(in: 0...UInt32.max))"
  }

  private func syncDirectory(_ directory: String) {
    let fd = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
    guard fd >= 0 else { return }
    fsync(fd)
    close(fd)
  }

  /// Deletes temporary files left by processes that died while writing (older
  /// than a day, so that files being written right now are never touched).
  private func removeAbandonedTemporaryFiles() {
    guard let directory = opendir(temporary) else { return }
    defer { closedir(directory) }
    let cutoff = time(nil) - 86_400
    while let entry = readdir(directory) {
      let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
        String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
      }
      if name == "." || name == ".." { continue }
      let file = "\(temporary)/\(name)"
      var info = stat()
      if stat(file, &info) == 0 && modificationTime(info) < cutoff { unlink(file) }
    }
  }
}

/// A blob file mapped into memory, read-only; unmapped when released.
///
/// Sendable: the mapping is read-only and never changes while it exists.
package final class MappedFile: @unchecked Sendable {
  package let bytes: UnsafeRawBufferPointer

  init(start: UnsafeRawPointer?, count: Int) {
    bytes = UnsafeRawBufferPointer(start: start, count: count)
  }

  deinit {
    if let start = bytes.baseAddress {
      munmap(UnsafeMutableRawPointer(mutating: start), bytes.count)
    }
  }

  /// Whether some memory lies inside this mapping.
  func contains(_ region: UnsafeRawBufferPointer) -> Bool {
    guard let start = bytes.baseAddress, let base = region.baseAddress else { return false }
    return base >= start && base + region.count <= start + bytes.count
  }

  /// The mapped file a value is being decoded from (``StoredBytes/decode(_:)``),
  /// for ``MappedArray`` to use its pages instead of copying them.
  @TaskLocal static var decoding: MappedFile?
}

/// What identifies one state of a blob file on its file system: device,
/// inode, size, and modification and status-change times in nanoseconds.
///
/// Any write to a file, any truncation, rename or permission change moves its
/// status-change time to the present, and no program can set it back; a file
/// replaced by another has another inode. So a file whose stamp is the one
/// the store took just after writing it holds the bytes that were written,
/// and a hit needs not read 100 MB through to check them again. It does not
/// defend against damage below the file system (a disk that flips bits
/// without reporting an error), which the database file itself is not
/// checked for either. Where timestamps are coarse (Linux before 6.13 keeps
/// them to the clock tick), a write within the same few milliseconds as the
/// store's own would go unnoticed.
package struct BlobStamp: Equatable, Sendable {
  var device, inode, size, modified, changed: Int64

  init(_ info: stat) {
    // Bit patterns and wrapping arithmetic: file systems may report inode
    // numbers with the top bit set, and times past 2262 overflow nanoseconds.
    device = Int64(bitPattern: UInt64(truncatingIfNeeded: info.st_dev))
    inode = Int64(bitPattern: UInt64(truncatingIfNeeded: info.st_ino))
    size = Int64(info.st_size)
    #if canImport(Darwin)
      modified =
        Int64(info.st_mtimespec.tv_sec) &* 1_000_000_000 &+ Int64(info.st_mtimespec.tv_nsec)
      changed = Int64(info.st_ctimespec.tv_sec) &* 1_000_000_000 &+ Int64(info.st_ctimespec.tv_nsec)
    #else
      modified = Int64(info.st_mtim.tv_sec) &* 1_000_000_000 &+ Int64(info.st_mtim.tv_nsec)
      changed = Int64(info.st_ctim.tv_sec) &* 1_000_000_000 &+ Int64(info.st_ctim.tv_nsec)
    #endif
  }

  /// The form stores record: five numbers separated by colons.
  package var text: String { "\(device):\(inode):\(size):\(modified):\(changed)" }
}

/// The checksum of a large mapped blob, computed on a thread of its own while
/// the caller decodes the blob (the decoded copy and the checksum take about
/// as long, so overlapping them on two cores saves one: scenario E).
package final class PendingChecksum: Sendable {
  /// Smaller files are checked before they are returned.
  static let minimumSize = 8 << 20

  private let done = DispatchSemaphore(value: 0)
  private let actual = Mutex<UInt64>(0)
  /// The outcome of the first ``confirm()``, returned by later ones.
  private let outcome = Mutex<Result<Void, RecallError>?>(nil)
  private let expected: UInt64
  private let file: MappedFile
  private let onCorrupt: @Sendable (String) throws -> RecallError

  init(
    _ file: MappedFile, expected: UInt64,
    onCorrupt: @escaping @Sendable (String) throws -> RecallError
  ) {
    self.file = file
    self.expected = expected
    self.onCorrupt = onCorrupt
    Thread.detachNewThread { [self] in
      LargeBuffers.populate(file.bytes)
      let sum = Checksum.xxh64(file.bytes)
      actual.withLock { $0 = sum }
      done.signal()
    }
  }

  /// Waits for the checksum; throws ``RecallError/corruptValue`` (having
  /// quarantined the file) when it is not the recorded one.
  package func confirm() throws {
    try outcome.withLock { outcome in
      if outcome == nil {
        done.wait()
        let actual = self.actual.withLock { $0 }
        if actual == expected {
          outcome = .success(())
        } else {
          do {
            outcome = .failure(
              try onCorrupt(
                "its checksum is \(String(actual, radix: 16)), not \(String(expected, radix: 16))"))
          } catch let error as RecallError {
            outcome = .failure(error)
          } catch {
            outcome = .failure(RecallError.storeUnavailable(path: "", detail: "\(error)"))
          }
        }
      }
      try outcome!.get()
    }
  }
}

/// A stored value's bytes: in memory, or a mapping of its blob file.
package enum StoredBytes: Sendable {
  case array([UInt8])
  case mapped(MappedFile)

  package var count: Int {
    switch self {
    case .array(let bytes): bytes.count
    case .mapped(let file): file.bytes.count
    }
  }

  /// The bytes as an array (a copy, for a mapped file).
  package var array: [UInt8] {
    switch self {
    case .array(let bytes): bytes
    case .mapped(let file): copyingRaw(file.bytes, as: UInt8.self, populating: true)
    }
  }

  /// Whether the bytes are a manifest: a value stored by parts.
  package var isManifest: Bool { withUnsafeBytes { $0.first == Format.partsVersion } }

  package func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
    switch self {
    case .array(let bytes): try bytes.withUnsafeBytes(body)
    case .mapped(let file): try body(file.bytes)
    }
  }

  /// Whether the value may hold a ``TrackedFile``: it has a keyed container
  /// with exactly the keys a tracked file encodes (`digest` and `path`), or
  /// its bytes are not well formed. Walks the value's structure only, never
  /// the memory of its raw arrays (a mapped file's pages stay unread).
  package var mayHoldTrackedFiles: Bool {
    withUnsafeBytes { bytes in
      var reader = ByteReader(bytes, offset: 1)
      return (try? reader.holdsFileShape()) ?? true
    }
  }

  /// Decodes the value; a ``MappedArray`` in a mapped file uses its pages.
  package func decode<T: Decodable>(_ type: T.Type) throws -> T {
    switch self {
    case .array(let bytes):
      try ValueCodec.decode(T.self, from: bytes)
    case .mapped(let file):
      try MappedFile.$decoding.withValue(file) { try ValueCodec.decode(T.self, from: file.bytes) }
    }
  }
}

private func posixError() -> String { String(cString: strerror(errno)) }

/// A file's modification time in seconds since 1970 (the field's name differs
/// between Linux and Darwin).
private func modificationTime(_ info: stat) -> Int {
  #if canImport(Darwin)
    Int(info.st_mtimespec.tv_sec)
  #else
    Int(info.st_mtim.tv_sec)
  #endif
}
