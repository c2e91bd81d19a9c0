import Foundation
import Synchronization

#if canImport(Darwin)
  import Darwin
#else
  import Glibc
#endif

/// The content digests of tracked files (``TrackedFile``), kept by path with
/// the file's stamp — device, inode, size, modification and change times —
/// so that an unchanged file is recognized by one `stat` instead of being
/// read: in memory for this process, and for later processes in a cache file,
/// `$RECALL_FILE_DIGESTS`, else `$XDG_CACHE_HOME/recall/file-digests`, else
/// `~/.cache/recall/file-digests` (without a writable one, in memory only).
///
/// A file modified or changed within the last two seconds is not cached: a
/// change in the same tick of a coarse clock would leave its stamp unchanged.
final class FileDigests: Sendable {
  static let shared = FileDigests(cacheFile: FileDigests.defaultCacheFile)

  /// How recently a file may have been modified or changed and still be
  /// cached, in nanoseconds: two seconds (FAT's clock ticks that slowly).
  let recentWindow: Int64

  /// What identifies a file's content without reading it.
  struct Stamp: Hashable {
    var device: UInt64
    var inode: UInt64
    var size: Int64
    var modified: Int64
    var changed: Int64
  }

  private struct Known {
    var stamp: Stamp
    var digest: String
  }

  private let known = Mutex<[String: Known]?>(nil)
  private let cacheFile: String?
  /// How many files this process read to hash them (for tests).
  let reads = Atomic<Int>(0)

  init(cacheFile: String?, recentWindow: Int64 = 2_000_000_000) {
    self.cacheFile = cacheFile
    self.recentWindow = recentWindow
  }

  static var defaultCacheFile: String? {
    if let file = ProcessEnvironment.value("RECALL_FILE_DIGESTS") {
      return file.isEmpty ? nil : file
    }
    if let cache = ProcessEnvironment.value("XDG_CACHE_HOME"), !cache.isEmpty {
      return cache + "/recall/file-digests"
    }
    guard let home = ProcessEnvironment.value("HOME"), !home.isEmpty else { return nil }
    return home + "/.cache/recall/file-digests"
  }

  /// The file's content digest: from the cache when its stamp is the one
  /// cached, else read and hashed.
  ///
  /// - Throws: ``RecallError`` when the file cannot be read.
  func digest(of path: String) throws -> String {
    let stamp = try Self.stamp(of: path)
    if let cached = cachedDigest(path, stamp) { return cached }
    // Before reading: a write while the file is read must count as recent.
    let now = Int64(Date().timeIntervalSince1970 * 1e9)
    let digest = try Self.hash(path)
    reads.add(1, ordering: .relaxed)
    // Cached only if the file did not change while it was read, and not
    // within the last two seconds (by either time: `touch -d` and `cp -p`
    // set the modification time back, not the change time).
    if (try? Self.stamp(of: path)) == stamp,
      now - max(stamp.modified, stamp.changed) > recentWindow
    {
      known.withLock { $0?[path] = Known(stamp: stamp, digest: digest) }
      append(path, stamp, digest)
    }
    return digest
  }

  private func cachedDigest(_ path: String, _ stamp: Stamp) -> String? {
    known.withLock { known in
      if known == nil { known = loadCacheFile() }
      guard let entry = known?[path], entry.stamp == stamp else { return nil }
      return entry.digest
    }
  }

  static func stamp(of path: String) throws -> Stamp {
    var info = stat()
    guard stat(path, &info) == 0 else {
      throw RecallError.invalidValue(
        "the tracked file '\(path)' cannot be read (\(String(cString: strerror(errno)))): "
          + "create it before the call, or track another path")
    }
    guard info.st_mode & S_IFMT == S_IFREG else {
      throw RecallError.invalidValue(
        "the tracked path '\(path)' is not a regular file: track a file, not a directory")
    }
    #if canImport(Darwin)
      let (modified, changed) = (info.st_mtimespec, info.st_ctimespec)
    #else
      let (modified, changed) = (info.st_mtim, info.st_ctim)
    #endif
    return Stamp(
      device: UInt64(truncatingIfNeeded: info.st_dev),
      inode: UInt64(truncatingIfNeeded: info.st_ino), size: Int64(info.st_size),
      modified: Int64(modified.tv_sec) * 1_000_000_000 + Int64(modified.tv_nsec),
      changed: Int64(changed.tv_sec) * 1_000_000_000 + Int64(changed.tv_nsec))
  }

  /// Reads the file and hashes it as ``Digest/chunkedSHA256(_:)`` does: the
  /// SHA-256 of its 1 MiB chunks' SHA-256s, 64 chunks at a time on all
  /// cores. Read, not mapped: a file another process cuts short while it is
  /// hashed must not stop this one (a mapped page past the end is a bus
  /// error).
  static func hash(_ path: String) throws -> String {
    // Without blocking: what is opened is checked to be a regular file
    // (the path may have been replaced since it was stat'ed).
    let descriptor = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)
    guard descriptor >= 0 else {
      throw RecallError.invalidValue(
        "the tracked file '\(path)' cannot be read (\(String(cString: strerror(errno)))): "
          + "check its permissions")
    }
    defer { close(descriptor) }
    var info = stat()
    guard fstat(descriptor, &info) == 0, info.st_mode & S_IFMT == S_IFREG else {
      throw RecallError.invalidValue(
        "the tracked path '\(path)' is not a regular file: track a file, not a directory")
    }
    let chunk = Digest.chunkSize
    // A buffer as large as the file (in whole chunks), up to 64 chunks.
    let size = max(0, Int(info.st_size))
    var buffer = [UInt8](
      repeating: 0, count: chunk * min(64, max(1, (size + chunk - 1) / chunk)))
    var digests: [Digest] = []
    while true {
      // Fill the buffer (a read may return less than asked).
      var filled = 0
      while filled < buffer.count {
        let count = buffer.withUnsafeMutableBytes {
          read(descriptor, $0.baseAddress! + filled, $0.count - filled)
        }
        if count < 0, errno == EINTR { continue }
        guard count >= 0 else {
          throw RecallError.invalidValue(
            "the tracked file '\(path)' could not be read (\(String(cString: strerror(errno)))).")
        }
        if count == 0 { break }
        filled += count
      }
      let (chunks, end) = ((filled + chunk - 1) / chunk, filled)
      if chunks > 0 {
        var batchDigests = [Digest](repeating: Digest.sha256([]), count: chunks)
        buffer.withUnsafeBytes { bytes in
          batchDigests.withUnsafeMutableBufferPointer { out in
            nonisolated(unsafe) let (out, bytes) = (out, bytes)
            let hashChunk = { @Sendable (index: Int) in
              let start = index * chunk
              out[index] = Digest.sha256(
                UnsafeRawBufferPointer(rebasing: bytes[start..<min(start + chunk, end)]))
            }
            if chunks >= 4 {
              DispatchQueue.concurrentPerform(iterations: chunks, execute: hashChunk)
            } else {
              for index in 0..<chunks { hashChunk(index) }
            }
          }
        }
        digests += batchDigests
      }
      if filled < buffer.count { break }
    }
    // An empty file is one empty chunk, as chunkedSHA256 has it.
    if digests.isEmpty { digests = [Digest.sha256([])] }
    return digests.flatMap(\.bytes).withUnsafeBytes { Digest.sha256($0).hex }
  }

  // MARK: The cache file

  /// One line per entry: device, inode, size, modification and change
  /// times, digest, a check of those fields, then the path (tab-separated;
  /// paths with a line feed or a tab are not cached). A later line for a
  /// path wins; a line cut short or damaged fails its check and is skipped.
  private static func line(_ path: String, _ stamp: Stamp, _ digest: String) -> String {
    let fields =
      "\(stamp.device)\t\(stamp.inode)\t\(stamp.size)\t\(stamp.modified)\t\(stamp.changed)\t\(digest)"
    return fields + "\t" + check(fields + "\t" + path) + "\t" + path + "\n"
  }

  private static func check(_ text: String) -> String { String(Digest.sha256(text).hex.prefix(16)) }

  private func loadCacheFile() -> [String: Known] {
    guard let cacheFile, let data = FileManager.default.contents(atPath: cacheFile) else {
      return [:]
    }
    // Line by line, each decoded on its own: a torn write spoils one line.
    var known: [String: Known] = [:]
    var lines = 0
    for bytes in data.split(separator: UInt8(ascii: "\n")) {
      let line = String(decoding: bytes, as: UTF8.self)
      lines += 1
      let parts = line.split(separator: "\t", maxSplits: 7, omittingEmptySubsequences: false)
      guard parts.count == 8,
        let device = UInt64(parts[0]), let inode = UInt64(parts[1]), let size = Int64(parts[2]),
        let modified = Int64(parts[3]), let changed = Int64(parts[4]),
        parts[6] == Self.check(parts[0..<6].joined(separator: "\t") + "\t" + parts[7])
      else { continue }
      known[String(parts[7])] = Known(
        stamp: Stamp(
          device: device, inode: inode, size: size, modified: modified, changed: changed),
        digest: String(parts[5]))
    }
    // Rewritten when most of its lines are old ones, or it holds many: without
    // files that are gone, one line per path.
    if lines > 1_000, lines > 2 * known.count || lines > known.count + 100_000 {
      let kept = known.filter { FileManager.default.fileExists(atPath: $0.key) }
      let text = kept.map { Self.line($0.key, $0.value.stamp, $0.value.digest) }.joined()
      try? text.write(toFile: cacheFile, atomically: true, encoding: .utf8)
    }
    return known
  }

  /// Appends an entry with one `write` (`O_APPEND`), which other processes'
  /// appends do not interleave with.
  private func append(_ path: String, _ stamp: Stamp, _ digest: String) {
    guard let cacheFile, !path.contains("\n"), !path.contains("\t") else { return }
    try? FileManager.default.createDirectory(
      atPath: (cacheFile as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
    let descriptor = open(cacheFile, O_WRONLY | O_APPEND | O_CREAT, 0o644)
    guard descriptor >= 0 else { return }
    defer { close(descriptor) }
    let bytes = Array(Self.line(path, stamp, digest).utf8)
    _ = bytes.withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
  }
}
