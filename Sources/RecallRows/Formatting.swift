import Foundation
import RecallCore
import Synchronization

/// A date as people and programs read it: ISO 8601, UTC.
package func iso(_ date: Date) -> String {
  date.formatted(.iso8601)
}

/// A duration for people: µs, ms or s.
package func seconds(_ value: Double) -> String { Readable.duration(value) }

/// A size for people: B, KiB or MiB.
package func bytes(_ count: Int) -> String { Readable.size(count) }

/// `count` and a noun, in the plural unless the count is 1: "3 calls".
package func counted(_ count: Int, _ noun: String) -> String {
  "\(count) \(noun)\(count == 1 ? "" : "s")"
}

/// Stored values as the commands show them: JSON text, shortened for a
/// table's cell or in full.
package struct ValueText: Sendable {
  package let store: Store
  /// What this instance rendered for table cells, by value and length: a
  /// listing whose calls share an input (a data set every call of a sweep
  /// took) reads it once.
  private let rendered = Rendered()

  package init(store: Store) { self.store = store }

  private final class Rendered: Sendable {
    let texts = Mutex<[String: String?]>([:])
  }

  /// How much of a value to show.
  package enum Length {
    /// An input in a table cell.
    case cell
    /// An output in a table row.
    case row
    /// All of it, but for the middle of long arrays.
    case full
    /// All of it.
    case whole

    var maximumElements: Int {
      switch self {
      case .cell: 3
      case .row: 5
      case .full: 20
      case .whole: .max
      }
    }

    var maximumCharacters: Int? {
      switch self {
      case .cell: 24
      case .row: 60
      case .full, .whole: nil
      }
    }
  }

  /// The value as JSON text, or `nil` when the store does not have it (or
  /// cannot render it).
  package func json(_ cid: ContentID, _ length: Length) -> String? {
    // Only what table cells show is kept: a value shown in full is shown once.
    guard length == .cell || length == .row else { return render(cid, length) }
    let key = "\(cid.hex) \(length)"
    if let text = rendered.texts.withLock({ $0[key] }) { return text }
    let text = render(cid, length)
    rendered.texts.withLock { $0[key] = text }
    return text
  }

  private func render(_ cid: ContentID, _ length: Length) -> String? {
    guard let stored = try? store.encodedValue(cid),
      let text = try? ValueCodec.renderJSON(
        stored, maximumElements: length.maximumElements,
        part: { (try? store.encodedValue($0)) ?? nil })
    else { return nil }
    guard let limit = length.maximumCharacters, text.count > limit else { return text }
    return String(text.prefix(limit - 1)) + "…"
  }

  /// The value as JSON, for JSON Lines (in full, but for the middle of long
  /// arrays unless `whole`).
  package func jsonValue(_ cid: ContentID, whole: Bool = false) -> JSONValue {
    json(cid, whole ? .whole : .full).map(JSONValue.init(parsing:)) ?? .null
  }

  /// A call's inputs as `name=value` pairs.
  package func inputs(_ call: CallRecord) -> String {
    call.inputs.map { "\($0.name)=\(json($0.cid, .cell) ?? $0.cid.description)" }
      .joined(separator: " ")
  }
}

/// An id or version as tables show it: its first 12 hex digits, as
/// `CallID.description` and `CodeFingerprint.description` do.
package func short(_ hex: String) -> String {
  String(hex.prefix(12))
}
