import Foundation

/// A file whose content is part of a memoized call: as an argument, the call
/// is keyed by the file's path and content, so it is computed again when the
/// content changes; as a result (a file the call wrote), a hit checks the file
/// still has the content it had when the result was stored, and computes the
/// call again when it does not.
///
/// ```swift
/// @Memoized
/// func clean(_ raw: TrackedFile) throws -> TrackedFile {
///   let output = TrackedFile("cleaned/" + raw.url.lastPathComponent)
///   try transform(raw.contents()).write(to: output.url)
///   return output
/// }
///
/// let table = try clean(TrackedFile("data/raw.csv"))
/// ```
///
/// An unchanged file is recognized without reading it: its content digest
/// is kept, by path, with the file's device, inode, size, modification and
/// change times, and read again only when one of them differs — in this
/// process, and in later ones through a cache file (`$RECALL_FILE_DIGESTS`, else
/// `$XDG_CACHE_HOME/recall/file-digests`, else `~/.cache/recall/file-digests`;
/// `RECALL_FILE_DIGESTS=` with no value keeps digests in memory only).
///
/// A tracked file is encoded as its absolute path and its content digest
/// (Recall's chunked SHA-256: ``Digest/chunkedSHA256(_:)``), so two paths
/// with the same content are two different arguments, and moving a file
/// computes its calls again.
public struct TrackedFile: Codable, Sendable, Hashable, CustomStringConvertible {
  /// The file's absolute path.
  public let path: String
  /// The content digest the file had when this value was stored, for a
  /// tracked file read back from a store (a call's recorded argument or
  /// result); `nil` for one made in this process.
  public let recordedDigest: String?

  /// A tracked file at `path`, absolute or relative to the current directory.
  public init(_ path: String) {
    let absolute =
      path.hasPrefix("/") ? path : FileManager.default.currentDirectoryPath + "/" + path
    self.path = URL(fileURLWithPath: absolute).standardizedFileURL.path
    recordedDigest = nil
  }

  /// A tracked file at a file URL.
  public init(_ url: URL) { self.init(url.path) }

  /// The file's URL.
  public var url: URL { URL(fileURLWithPath: path) }

  /// The file's content.
  public func contents() throws -> Data { try Data(contentsOf: url) }

  /// The file's content digest now (from the cache when the file is
  /// unchanged).
  ///
  /// - Throws: ``RecallError`` when the file cannot be read.
  public func currentDigest() throws -> String { try FileDigests.shared.digest(of: path) }

  /// Whether the file still has the content it had when this value was
  /// stored: `false` when it changed, is gone, or cannot be read; `true`
  /// for a tracked file not read from a store.
  public var isUnchanged: Bool {
    guard let recordedDigest else { return true }
    return (try? currentDigest()) == recordedDigest
  }

  public var description: String { path }

  /// Tracked files are equal when they name the same path: the digest a
  /// value read back from a store carries is not part of its identity.
  public static func == (lhs: TrackedFile, rhs: TrackedFile) -> Bool { lhs.path == rhs.path }

  public func hash(into hasher: inout Hasher) { hasher.combine(path) }

  private enum CodingKeys: String, CodingKey {
    case path, digest
  }

  /// Encodes the path and the file's content digest now.
  ///
  /// - Throws: ``RecallError`` when the file cannot be read: a call with it
  ///   then runs without memoization, with a warning that names the file.
  public func encode(to encoder: any Encoder) throws {
    let digest = try currentDigest()
    FileCollection.note(TrackedFile(path: path, recordedDigest: digest))
    var container = encoder.container(keyedBy: CodingKeys.self)
    try container.encode(path, forKey: .path)
    try container.encode(digest, forKey: .digest)
  }

  /// Decodes a tracked file with the digest it was stored with.
  public init(from decoder: any Decoder) throws {
    let container = try decoder.container(keyedBy: CodingKeys.self)
    self.init(
      path: try container.decode(String.self, forKey: .path),
      recordedDigest: try container.decode(String.self, forKey: .digest))
    FileCollection.note(self)
  }

  private init(path: String, recordedDigest: String) {
    self.path = path
    self.recordedDigest = recordedDigest
  }
}

/// The tracked files a value held, noted while it is encoded or decoded on
/// this thread (``collecting(_:)``), so that a hit can check them: a
/// thread-specific pointer, so that the codec needs no context of its own,
/// and a value without files costs two stores and a load of it (the list is
/// made at the first file).
enum FileCollection {
  final class Collector {
    var files: [TrackedFile] = []
  }

  private static let key: pthread_key_t = {
    var key = pthread_key_t()
    pthread_key_create(&key, nil)
    return key
  }()

  /// What the thread-specific pointer holds while collecting, before the
  /// first file.
  private static var collectingNone: UnsafeMutableRawPointer {
    UnsafeMutableRawPointer(bitPattern: 1)!
  }

  /// Whether a value of `type` can never hold a tracked file: a number, a
  /// string, a Boolean, a numeric array or `Data`. A hit decodes such a
  /// result without ``collecting(_:)``.
  static func cannotHold(_ type: any Any.Type) -> Bool {
    type is any RawBuffer.Type || scalarTypes.contains(ObjectIdentifier(type))
  }

  private static let scalarTypes: Set<ObjectIdentifier> = Set(
    ([
      Bool.self, String.self, Double.self, Float.self, Int.self, Int8.self, Int16.self,
      Int32.self, Int64.self, UInt.self, UInt8.self, UInt16.self, UInt32.self, UInt64.self,
    ] as [any Any.Type]).map(ObjectIdentifier.init))

  /// Runs `body` (an encoding or decoding), returning the tracked files it
  /// met.
  static func collecting<T>(_ body: () throws -> T) rethrows -> (T, [TrackedFile]) {
    let previous = pthread_getspecific(key)
    pthread_setspecific(key, collectingNone)
    var files: [TrackedFile] = []
    defer {
      if let pointer = pthread_getspecific(key), pointer != collectingNone {
        files = Unmanaged<Collector>.fromOpaque(pointer).takeRetainedValue().files
      }
      pthread_setspecific(key, previous)
    }
    let result = try body()
    if let pointer = pthread_getspecific(key), pointer != collectingNone {
      files = Unmanaged<Collector>.fromOpaque(pointer).takeUnretainedValue().files
    }
    return (result, files)
  }

  /// Notes a file met while encoding or decoding, when someone collects.
  static func note(_ file: TrackedFile) {
    guard let pointer = pthread_getspecific(key) else { return }
    if pointer == collectingNone {
      let collector = Collector()
      collector.files.append(file)
      pthread_setspecific(key, Unmanaged.passRetained(collector).toOpaque())
    } else {
      Unmanaged<Collector>.fromOpaque(pointer).takeUnretainedValue().files.append(file)
    }
  }

  /// The first of `files` that changed since it was stored, if any.
  static func firstChanged(_ files: [TrackedFile]) -> TrackedFile? {
    files.first { !$0.isUnchanged }
  }
}
