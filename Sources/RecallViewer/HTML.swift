import Foundation
import RecallCore

/// HTML text, built from escaped pieces: every string from the store goes
/// through ``HTML/text(_:)`` or an attribute helper, never in raw.
struct HTML: Sendable, ExpressibleByStringInterpolation {
  var markup: String

  init(raw markup: String) { self.markup = markup }

  init(stringLiteral value: String) { markup = value }

  init(stringInterpolation: Interpolation) { markup = stringInterpolation.markup }

  /// Interpolation escapes strings and numbers and keeps HTML as it is.
  struct Interpolation: StringInterpolationProtocol {
    var markup = ""

    init(literalCapacity: Int, interpolationCount: Int) {
      markup.reserveCapacity(literalCapacity + interpolationCount * 16)
    }

    mutating func appendLiteral(_ literal: String) { markup += literal }
    mutating func appendInterpolation(_ html: HTML) { markup += html.markup }
    mutating func appendInterpolation(_ html: [HTML]) { markup += html.map(\.markup).joined() }
    mutating func appendInterpolation(_ text: String) { markup += HTML.escape(text) }
    mutating func appendInterpolation(_ number: Int) { markup += String(number) }
    mutating func appendInterpolation(_ number: Double) { markup += String(number) }
  }

  /// Text with `&`, `<`, `>`, `"` and `'` escaped: safe in content and in
  /// quoted attributes.
  static func escape(_ text: String) -> String {
    var out = ""
    out.reserveCapacity(text.utf8.count)
    for character in text.unicodeScalars {
      switch character {
      case "&": out += "&amp;"
      case "<": out += "&lt;"
      case ">": out += "&gt;"
      case "\"": out += "&quot;"
      case "'": out += "&#39;"
      default: out.unicodeScalars.append(character)
      }
    }
    return out
  }

  static func text(_ text: String) -> HTML { HTML(raw: escape(text)) }

  /// A link to one of the viewer's pages.
  static func link(_ text: String, to url: String, title: String? = nil) -> HTML {
    let title = title.map { " title=\"\(escape($0))\"" } ?? ""
    return HTML(raw: "<a href=\"\(escape(url))\"\(title)>\(escape(text))</a>")
  }
}

/// The viewer's URLs: every path and query it links to is made here, with
/// the values percent-encoded.
enum Paths {
  static let allowed: CharacterSet = {
    var set = CharacterSet.alphanumerics
    set.insert(charactersIn: "-._~")
    return set
  }()

  static func encode(_ value: String) -> String {
    value.addingPercentEncoding(withAllowedCharacters: allowed) ?? ""
  }

  static func query(_ path: String, _ items: [(String, String?)]) -> String {
    let parts = items.compactMap { name, value in value.map { "\(name)=\(encode($0))" } }
    return parts.isEmpty ? path : path + "?" + parts.joined(separator: "&")
  }

  static func op(_ op: OpID, version: String? = nil) -> String {
    query("/op", [("name", op.name), ("version", version)])
  }

  static func call(_ id: CallID) -> String { "/call/" + id.hex }

  static func graph(op: OpID) -> String { query("/graph", [("op", op.name)]) }

  static func graph(call: CallID) -> String { query("/graph", [("call", call.hex)]) }

  static func versions(_ op: OpID, from: String? = nil, to: String? = nil, split: Bool = false)
    -> String
  {
    query(
      "/versions", [("op", op.name), ("from", from), ("to", to), ("mode", split ? "split" : nil)])
  }
}

/// The frame every page shares: its title, the navigation and the store.
enum Layout {
  static func page(title: String, store: String, active: String, body: HTML) -> HTML {
    let sections: [(String, String)] = [("Overview", "/"), ("Running", "/running")]
    let navigation = sections.map { name, url in
      name == active
        ? HTML("<a class=\"active\" href=\"\(url)\">\(name)</a>")
        : HTML("<a href=\"\(url)\">\(name)</a>")
    }
    return """
      <!DOCTYPE html>
      <html lang="en"><head><meta charset="utf-8">
      <meta name="viewport" content="width=device-width, initial-scale=1">
      <title>\(title) · Recall</title>
      <link rel="stylesheet" href="/assets/viewer.css">
      <script src="/assets/viewer.js" defer></script>
      </head><body>
      <header><a class="brand" href="/">Recall</a><nav>\(navigation)</nav>
      <span class="store" title="the store this viewer reads">\(store)</span></header>
      <main>\(body)</main>
      </body></html>
      """
  }

  /// A table; `sortable` lets people sort by a column by clicking its header.
  static func table(
    id: String? = nil, columns: [String], rows: [[HTML]], sortable: Bool = false,
    classes: [String?] = []
  ) -> HTML {
    let head = columns.map { HTML("<th>\($0)</th>") }
    let body = rows.enumerated().map { index, cells in
      let rowClass = index < classes.count ? classes[index].map { " class=\"\($0)\"" } ?? "" : ""
      return HTML(raw: "<tr\(rowClass)>" + cells.map { "<td>\($0.markup)</td>" }.joined() + "</tr>")
    }
    let idAttribute = id.map { " id=\"\(HTML.escape($0))\"" } ?? ""
    return HTML(
      raw:
        "<table\(idAttribute)\(sortable ? " class=\"sortable\"" : "")><thead><tr>\(head.map(\.markup).joined())</tr></thead><tbody>\(body.map(\.markup).joined())</tbody></table>"
    )
  }

  /// Fields as a two-column list.
  static func fields(_ pairs: [(String, HTML)]) -> HTML {
    HTML(
      raw: "<dl class=\"fields\">"
        + pairs.map { "<dt>\(HTML.escape($0.0))</dt><dd>\($0.1.markup)</dd>" }.joined() + "</dl>")
  }
}
