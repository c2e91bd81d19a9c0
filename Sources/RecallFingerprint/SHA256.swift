import CRecallSHA256
import RecallCodeTable

/// SHA-256 for code fingerprints, over the runtime's implementation
/// (`CRecallSHA256`, a small C target), so that the macro plugin and the build
/// plugin's tool pull in no crypto library.
public struct SHA256 {
  private var context = recall_sha256()

  /// Starts a hash.
  public init() { recall_sha256_init(&context) }

  /// Feeds bytes into the hash.
  public mutating func update(_ bytes: some Sequence<UInt8>) {
    let contiguous: Void? = bytes.withContiguousStorageIfAvailable {
      update(UnsafeRawBufferPointer($0))
    }
    if contiguous == nil { Array(bytes).withUnsafeBytes { update($0) } }
  }

  /// Feeds bytes into the hash.
  public mutating func update(_ bytes: UnsafeRawBufferPointer) {
    recall_sha256_update(&context, bytes.baseAddress, bytes.count)
  }

  /// Feeds the UTF-8 bytes of a string into the hash.
  public mutating func update(_ string: String) {
    var string = string
    string.withUTF8 { update(UnsafeRawBufferPointer($0)) }
  }

  /// Finishes the hash and returns the 32-byte digest.
  public mutating func finalize() -> [UInt8] {
    var digest = [UInt8](repeating: 0, count: 32)
    digest.withUnsafeMutableBufferPointer { recall_sha256_final(&context, $0.baseAddress!) }
    recall_sha256_init(&context)
    return digest
  }

  /// Returns the lowercase hexadecimal SHA-256 digest of a string's UTF-8 bytes.
  public static func hex(_ string: String) -> String {
    var hasher = SHA256()
    hasher.update(string)
    return hexString(hasher.finalize())
  }

  /// Formats bytes as lowercase hexadecimal.
  public static func hexString(_ bytes: [UInt8]) -> String {
    bytes.withUnsafeBytes(Hexadecimal.string)
  }
}
