import Foundation
import RecallCore
import RecallRows

/// Two versions of an op compared on the versions page: one box per changed
/// component, its unified diff with Swift highlighted, or the old and new
/// code side by side.
enum Diffs {
  static func render(_ comparison: VersionComparison, split: Bool) -> HTML {
    let op = comparison.op
    let from = comparison.from.hex
    let to = comparison.to.hex
    let modes: HTML =
      split
      ? "\(HTML.link("unified", to: Paths.versions(op, from: from, to: to))) · <b>side by side</b>"
      : "<b>unified</b> · \(HTML.link("side by side", to: Paths.versions(op, from: from, to: to, split: true)))"
    let sharing: HTML =
      comparison.sharing.map {
        "<p class=\"notice\">\(short(to)) shares the results of \(short(from)) (\($0)): the edit below did not make them recompute.</p>"
      } ?? ""
    let incomplete: HTML =
      comparison.diff.isComplete
      ? ""
      : "<p class=\"notice\">The store does not have the source of every component of these versions (recorded by an older Recall, or without the build plugin): only the components it has are compared.</p>"
    let changes: [HTML] = comparison.diff.changes.map { change in
      let lines = change.unifiedDiff.split(separator: "\n", omittingEmptySubsequences: false)
        .map(String.init)
      return """
        <section class="diff"><h3>\(change.summary) <span class="muted mono">\(change.identity)</span></h3>
        \(split ? sideBySide(lines) : unified(lines))</section>
        """
    }
    return """
      <h2>\(short(from)) → \(short(to))</h2>
      <p class="muted">\(modes)</p>
      \(sharing)\(incomplete)
      \(changes.isEmpty ? HTML("<p class=\"muted\">No component differs.</p>") : HTML(raw: changes.map(\.markup).joined()))
      """
  }

  private static func unified(_ lines: [String]) -> HTML {
    var out = "<pre>"
    for (index, line) in lines.enumerated() where !line.isEmpty {
      if index < 2 || line.hasPrefix("@@") {
        out += "<span class=\"line hunk\">\(HTML.escape(line))</span>"
      } else {
        let kind = line.first == "+" ? " add" : line.first == "-" ? " del" : ""
        out +=
          "<span class=\"line\(kind)\">\(HTML.escape(String(line.prefix(1))))\(SwiftHighlighting.line(String(line.dropFirst())).markup)</span>"
      }
    }
    return HTML(raw: out + "</pre>")
  }

  private static func sideBySide(_ lines: [String]) -> HTML {
    var rows: [(old: String?, new: String?)] = []
    var removed: [String] = []
    var added: [String] = []
    func flush() {
      for index in 0..<max(removed.count, added.count) {
        rows.append(
          (index < removed.count ? removed[index] : nil, index < added.count ? added[index] : nil))
      }
      removed = []
      added = []
    }
    // The first two lines name the old and new code (--- and +++).
    for line in lines.dropFirst(2) where !line.isEmpty {
      if line.hasPrefix("@@") {
        flush()
        rows.append((line, line))
      } else if line.first == "-" {
        removed.append(String(line.dropFirst()))
      } else if line.first == "+" {
        added.append(String(line.dropFirst()))
      } else {
        flush()
        rows.append((String(line.dropFirst()), String(line.dropFirst())))
      }
    }
    flush()
    func cell(_ text: String?, _ changed: Bool, _ kind: String) -> String {
      guard let text else { return "<td></td>" }
      if text.hasPrefix("@@") { return "<td class=\"hunk\">\(HTML.escape(text))</td>" }
      return "<td\(changed ? " class=\"\(kind)\"" : "")>\(SwiftHighlighting.line(text).markup)</td>"
    }
    let body = rows.map { old, new in
      let changed = old != new
      return "<tr>\(cell(old, changed, "del"))\(cell(new, changed, "add"))</tr>"
    }
    return HTML(
      raw: "<table class=\"split\"><colgroup><col><col></colgroup>" + body.joined() + "</table>")
  }
}

/// Swift source as HTML, its keywords, strings, numbers and comments marked
/// for the stylesheet; a line at a time (a block comment that spans lines is
/// shown as code after its first line).
enum SwiftHighlighting {
  static let keywords: Set<String> = [
    "actor", "any", "as", "async", "await", "break", "case", "catch", "class", "continue",
    "default", "defer", "do", "else", "enum", "extension", "false", "fileprivate", "for", "func",
    "guard", "if", "import", "in", "init", "inout", "internal", "is", "let", "nil", "open",
    "operator", "package", "private", "protocol", "public", "repeat", "rethrows", "return",
    "self", "Self", "some", "static", "struct", "subscript", "super", "switch", "throw", "throws",
    "true", "try", "typealias", "var", "where", "while",
  ]

  static func line(_ text: String) -> HTML {
    var out = ""
    let characters = Array(text)
    var index = 0
    func span(_ kind: String, _ range: Range<Int>) {
      out += "<span class=\"\(kind)\">\(HTML.escape(String(characters[range])))</span>"
    }
    while index < characters.count {
      let character = characters[index]
      if character == "/", index + 1 < characters.count,
        characters[index + 1] == "/" || characters[index + 1] == "*"
      {
        span("com", index..<characters.count)
        break
      } else if character == "\"" {
        var end = index + 1
        while end < characters.count && characters[end] != "\"" {
          end += characters[end] == "\\" ? 2 : 1
        }
        end = min(end + 1, characters.count)
        span("str", index..<end)
        index = end
      } else if character.isNumber {
        var end = index
        while end < characters.count
          && (characters[end].isNumber || characters[end] == "." || characters[end] == "_")
        {
          end += 1
        }
        span("num", index..<end)
        index = end
      } else if character.isLetter || character == "_" || character == "@" || character == "#" {
        var end = index + 1
        while end < characters.count
          && (characters[end].isLetter || characters[end].isNumber || characters[end] == "_")
        {
          end += 1
        }
        let word = String(characters[index..<end])
        if keywords.contains(word) || word.hasPrefix("@") || word.hasPrefix("#") {
          span("kw", index..<end)
        } else {
          out += HTML.escape(word)
        }
        index = end
      } else {
        out += HTML.escape(String(character))
        index += 1
      }
    }
    return HTML(raw: out)
  }
}
