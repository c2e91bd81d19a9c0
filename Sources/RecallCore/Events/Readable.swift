import Foundation

/// Numbers as people read them, the same in the library's descriptions and in
/// the `recall` tool.
package enum Readable {
  /// A duration in seconds: µs, ms or s (`850 µs`, `12.5 ms`, `3.41 s`).
  package static func duration(_ seconds: Double) -> String {
    seconds < 1e-3
      ? String(format: "%.0f µs", seconds * 1e6)
      : seconds < 1 ? String(format: "%.1f ms", seconds * 1e3) : String(format: "%.2f s", seconds)
  }

  /// A size: B, KiB or MiB (`512 B`, `1.5 KiB`, `37.2 MiB`).
  package static func size(_ bytes: Int) -> String {
    bytes < 1 << 10
      ? "\(bytes) B"
      : bytes < 1 << 20
        ? String(format: "%.1f KiB", Double(bytes) / 1024)
        : String(format: "%.1f MiB", Double(bytes) / 1_048_576)
  }
}
