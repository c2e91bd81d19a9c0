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

  /// A size: B, KiB, MiB or GiB (`512 B`, `1.5 KiB`, `37.2 MiB`, `20.0 GiB`).
  package static func size(_ bytes: Int) -> String {
    bytes < 1 << 10
      ? "\(bytes) B"
      : bytes < 1 << 20
        ? String(format: "%.1f KiB", Double(bytes) / 1024)
        : bytes < 1 << 30
          ? String(format: "%.1f MiB", Double(bytes) / 1_048_576)
          : String(format: "%.1f GiB", Double(bytes) / 1_073_741_824)
  }

  /// Parses a size as people write it: a number of bytes, or a number with a
  /// unit, decimal (`kB`, `MB`, `GB`, `TB`: powers of 1000) or binary (`KiB`,
  /// `MiB`, `GiB`, `TiB`, and the single letters `K`, `M`, `G`, `T`: powers of
  /// 1024), in any case, with or without a space (`20GB`, `1.5 GiB`, `500M`).
  /// Returns `nil` for anything else, or a size that does not fit an `Int`.
  package static func size(parsing text: String) -> Int? {
    let trimmed = text.trimmingCharacters(in: .whitespaces)
    let number = trimmed.prefix { $0.isNumber || $0 == "." }
    let unit = trimmed.dropFirst(number.count).trimmingCharacters(in: .whitespaces).lowercased()
    let units: [String: Double] = [
      "": 1, "b": 1, "kb": 1e3, "mb": 1e6, "gb": 1e9, "tb": 1e12,
      "k": 1024, "kib": 1024, "m": 1_048_576, "mib": 1_048_576, "g": 1_073_741_824,
      "gib": 1_073_741_824, "t": 1_099_511_627_776, "tib": 1_099_511_627_776,
    ]
    guard let value = Double(number), let scale = units[unit] else { return nil }
    let bytes = (value * scale).rounded()
    guard bytes.isFinite, bytes < 9.2e18 else { return nil }
    return Int(bytes)
  }
}
