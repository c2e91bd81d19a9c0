import Foundation
import RecallCore
import RecallRows

/// Stored values as the call page shows them, without their Swift types:
/// numbers and strings as they are, structs and dictionaries as trees, long
/// arrays of numbers as their shape, range, mean and a small plot.
struct ValueView {
  let store: Store

  /// Values larger than this are described, not read: a page must not load
  /// a gigabyte.
  static let largestShown = 256 * 1_048_576
  /// Arrays of numbers longer than this are summarised.
  static let longArray = 32

  /// `producer`, the call whose output the value is, lets a value in a blob
  /// file be read where it lies (mapped): an array of numbers is summarised
  /// from its pages, of a long one only evenly spaced elements.
  func render(_ cid: ContentID, size: Int? = nil, producer: CallID? = nil) -> HTML {
    if let producer, let mapped = mappedSummary(cid, of: producer) { return mapped }
    if let size, size > Self.largestShown {
      return
        "<p class=\"notice\">\(bytes(size)): too large to show here. Read it in Swift with store.value(_:as:).</p>"
    }
    let stored: [UInt8]?
    do {
      stored = try store.encodedValue(cid)
    } catch {
      return "<p class=\"error\">The value cannot be read: \(String(describing: error))</p>"
    }
    guard let stored else {
      return
        "<p class=\"muted\">Not stored (the op's storage policy kept it in memory only, or it was collected).</p>"
    }
    if let summary = try? ValueCodec.numericSummary(stored), summary.count > Self.longArray {
      return Charts.summary(summary, bytes: stored.count)
    }
    guard
      let text = try? ValueCodec.renderJSON(
        stored, maximumElements: 100, part: { (try? store.encodedValue($0)) ?? nil })
    else {
      return
        "<p class=\"error\">The value's bytes do not parse: it may come from a newer Recall.</p>"
    }
    return "<div class=\"value-tree\">\(Self.tree(JSONValue(parsing: text), depth: 0))</div>"
  }

  private func mappedSummary(_ cid: ContentID, of producer: CallID) -> HTML? {
    // Only a blob file the store maps (SQLite's): anything else would be
    // read whole here, before the size check.
    guard let result = try? store.backend.loadResult(producer), result.cid == cid,
      case .mapped = result.storage
    else { return nil }
    guard let summary = try? result.withUnsafeBytes({ try ValueCodec.numericSummary(of: $0) }),
      summary.count > Self.longArray
    else { return nil }
    // A file whose checksum is still being checked is shown only once it
    // passed (a corrupt one is quarantined by a writer, refused here).
    do {
      try result.confirm()
    } catch {
      return "<p class=\"error\">The value cannot be read: \(String(describing: error))</p>"
    }
    return Charts.summary(summary, bytes: result.size)
  }

  static func tree(_ value: JSONValue, depth: Int) -> HTML {
    switch value {
    case .null: return "<span class=\"muted\">null</span>"
    case .bool(let flag): return "<span class=\"number\">\(flag ? "true" : "false")</span>"
    case .integer(let number): return "<span class=\"number\">\(String(number))</span>"
    case .number(let number): return "<span class=\"number\">\(String(number))</span>"
    case .string(let text): return "<span class=\"string\">\(quoted(text))</span>"
    case .array(let elements):
      guard !elements.isEmpty else { return "[]" }
      if elements.allSatisfy(\.isScalar) {
        return
          "<span class=\"mono\">[\(elements.map { tree($0, depth: depth + 1).markup }.joined(separator: ", "))]</span>"
          .html
      }
      let items = elements.enumerated().map { index, element in
        HTML("<li><span class=\"key\">[\(index)]</span> \(tree(element, depth: depth + 1))</li>")
      }
      return "<ul>\(items)</ul>"
    case .object(let fields):
      guard !fields.isEmpty else { return "{}" }
      let items = fields.keys.sorted().map { key in
        HTML(
          "<li><span class=\"key\">\(key)</span>: \(tree(fields[key] ?? .null, depth: depth + 1))</li>"
        )
      }
      return "<ul>\(items)</ul>"
    }
  }

  private static func quoted(_ text: String) -> String {
    "\"" + text + "\""
  }
}

extension String {
  /// The string, already HTML, as HTML.
  fileprivate var html: HTML { HTML(raw: self) }
}

extension JSONValue {
  fileprivate var isScalar: Bool {
    switch self {
    case .array, .object: false
    default: true
    }
  }
}

/// Small charts drawn as inline SVG on the server.
enum Charts {
  /// Hits and misses per period, as stacked bars.
  static func usage(_ rows: [PeriodRow]) -> HTML {
    guard !rows.isEmpty else {
      return
        "<p class=\"muted\">No hits or misses recorded yet (processes save their counts within ten seconds of a call and when they exit).</p>"
    }
    let width = 720.0
    let height = 140.0
    let most = Double(rows.map { $0.hits + $0.misses }.max() ?? 1)
    let step = width / Double(rows.count)
    var bars = ""
    for (index, row) in rows.enumerated() {
      let x = Double(index) * step + 1
      let hitHeight = Double(row.hits) / max(most, 1) * (height - 20)
      let missHeight = Double(row.misses) / max(most, 1) * (height - 20)
      let title = HTML.escape(
        "\(row.label): \(row.hits) hits, \(row.misses) misses, \(seconds(row.timeSaved)) saved")
      bars +=
        "<g><title>\(title)</title><rect class=\"hits\" x=\"\(format(x))\" y=\"\(format(height - 20 - hitHeight))\" width=\"\(format(max(step - 2, 1)))\" height=\"\(format(hitHeight))\"/>"
        + "<rect class=\"misses\" x=\"\(format(x))\" y=\"\(format(height - 20 - hitHeight - missHeight))\" width=\"\(format(max(step - 2, 1)))\" height=\"\(format(missHeight))\"/></g>"
    }
    let first = HTML.escape(rows.first?.label ?? "")
    let last = HTML.escape(rows.last?.label ?? "")
    return HTML(
      raw: """
        <svg class="chart" viewBox="0 0 \(format(width)) \(format(height))" width="\(format(width))" height="\(format(height))" role="img" aria-label="hits and misses by day">\
        \(bars)<text x="0" y="\(format(height - 4))">\(first)</text>\
        <text x="\(format(width))" y="\(format(height - 4))" text-anchor="end">\(last)</text></svg>
        <p class="muted"><span style="color:#4f8f5b">■</span> hits <span style="color:#c9743a">■</span> misses</p>
        """)
  }

  /// A long array of numbers: its length, range, mean and a line plot of
  /// evenly spaced elements.
  static func summary(_ summary: NumericSummary, bytes count: Int) -> HTML {
    let width = 480.0
    let height = 90.0
    var plot = ""
    let finite = summary.samples.filter(\.isFinite)
    if finite.count > 1, let low = finite.min(), let high = finite.max() {
      let span = high > low ? high - low : 1
      let points = summary.samples.enumerated().compactMap { index, value -> String? in
        guard value.isFinite else { return nil }
        let x = Double(index) / Double(max(summary.samples.count - 1, 1)) * (width - 4) + 2
        let y = height - 2 - (value - low) / span * (height - 4)
        return "\(format(x)),\(format(y))"
      }
      plot =
        "<svg class=\"sparkline\" viewBox=\"0 0 \(format(width)) \(format(height))\" width=\"\(format(width))\" height=\"\(format(height))\" role=\"img\" aria-label=\"the array plotted\"><polyline fill=\"none\" stroke=\"#2f5fb3\" stroke-width=\"1.2\" points=\"\(points.joined(separator: " "))\"/></svg>"
    }
    let first = summary.samples.prefix(8).map { Self.number($0) }.joined(separator: ", ")
    return HTML(
      raw: """
        <div class="summary"><p><b>\(summary.count) numbers</b> (\(HTML.escape(bytes(count))) stored\(summary.measured < summary.count ? "; range and mean of \(summary.measured) of them, in \(ValueCodec.measuredRuns) runs spread over the array" : "")) · \
        min <span class="number">\(Self.number(summary.minimum))</span> · \
        max <span class="number">\(Self.number(summary.maximum))</span> · \
        mean <span class="number">\(Self.number(summary.mean))</span></p>\(plot)\
        <p class="muted mono">[\(first), …]</p></div>
        """)
  }

  private static func number(_ value: Double) -> String {
    value.isNaN ? "nan" : String(format: "%.6g", value)
  }

  private static func format(_ value: Double) -> String { String(format: "%.1f", value) }
}
