import SwiftSyntax

/// Where a component's source lies in its file: what the store keeps of each
/// component so that versions can be shown and diffed.
public struct SourceSpan: Codable, Hashable, Sendable {
  /// The UTF-8 offset of the component's first token.
  public var start: Int
  /// The UTF-8 offset just past its last token.
  public var end: Int
  /// Ranges left out, as start and end offsets in pairs, ascending: comments,
  /// and the bodies of a type's members and its nested types, which are
  /// components of their own.
  public var elided: [Int]

  /// Creates a span.
  public init(start: Int, end: Int, elided: [Int] = []) {
    self.start = start
    self.end = end
    self.elided = elided
  }

  /// The span of a node within its tree, eliding its comments and `skipping`.
  public init(of node: some SyntaxProtocol, skipping: [Range<AbsolutePosition>] = []) {
    let start = node.positionAfterSkippingLeadingTrivia
    let end = node.endPositionBeforeTrailingTrivia
    var ranges = skipping
    for token in node.tokens(viewMode: .sourceAccurate) {
      if skipping.contains(where: { $0.contains(token.positionAfterSkippingLeadingTrivia) }) {
        continue
      }
      for (pieces, origin) in [
        (token.leadingTrivia, token.position),
        (token.trailingTrivia, token.endPositionBeforeTrailingTrivia),
      ] {
        var offset = origin
        for piece in pieces {
          let next = offset + piece.sourceLength
          if piece.isComment, offset >= start, next <= end { ranges.append(offset..<next) }
          offset = next
        }
      }
    }
    self.init(
      start: start.utf8Offset, end: end.utf8Offset,
      elided: ranges.sorted { $0.lowerBound < $1.lowerBound }
        .flatMap { [$0.lowerBound.utf8Offset, $0.upperBound.utf8Offset] })
  }
}

/// The source of a component as a person reads it: the code as written,
/// without comments, blank lines and trailing whitespace, dedented, with elided
/// member bodies shown as `{ … }` and nested types left out.
///
/// Comments are left out so that editing one leaves the build plugin's table
/// unchanged, as it leaves the fingerprint unchanged.
public enum DisplaySource {
  /// The display source of the span of a file whose UTF-8 bytes are `file`.
  public static func text(of span: SourceSpan, in file: some Collection<UInt8>) -> String {
    let bytes = Array(file)
    guard span.start >= 0, span.start <= span.end, span.end <= bytes.count else { return "" }
    var out: [UInt8] = []
    var position = span.start
    var pairs = stride(from: 0, to: span.elided.count - 1, by: 2).map {
      (span.elided[$0], span.elided[$0 + 1])
    }
    pairs.removeAll { $0.0 < span.start || $0.1 > span.end || $0.0 > $0.1 }
    for (lower, upper) in pairs where lower >= position {
      out += bytes[position..<lower]
      // A body or accessor block is shown as `{ … }`; a nested type, which is
      // a member of its own, is left out with the line it was on.
      if let first = bytes[lower..<upper].first(where: { !isWhitespace($0) }),
        first == UInt8(ascii: "{")
      {
        out += Array(((out.last.map(isWhitespace) ?? true) ? "{ … }" : " { … }").utf8)
      }
      position = upper
    }
    out += bytes[position..<span.end]

    // The first line's indentation: the blanks between the line's start and the
    // first token, when there is nothing else before it.
    var column = 0
    var index = span.start - 1
    while index >= 0, bytes[index] == UInt8(ascii: " ") || bytes[index] == UInt8(ascii: "\t") {
      column += 1
      index -= 1
    }
    let firstLineIndent = index < 0 || bytes[index] == UInt8(ascii: "\n") ? column : Int.max
    var lines = String(decoding: out, as: UTF8.self).split(
      separator: "\n", omittingEmptySubsequences: false
    )
    .map { line in
      var line = Substring(line)
      while let last = line.last, last == " " || last == "\t" || last == "\r" { line.removeLast() }
      return line
    }
    let indent = lines.dropFirst().filter { !$0.isEmpty }
      .map { $0.prefix { $0 == " " || $0 == "\t" }.count }
      .reduce(firstLineIndent, min)
    if indent != Int.max, indent > 0 {
      for index in lines.indices.dropFirst() {
        lines[index] = lines[index].dropFirst(min(indent, leading(lines[index])))
      }
    }
    return lines.filter { !$0.isEmpty }.joined(separator: "\n")
  }

  /// The display source of a node, such as a declaration seen by a macro.
  public static func text(of node: some SyntaxProtocol, skipping: [Range<AbsolutePosition>] = [])
    -> String
  {
    let origin = node.position.utf8Offset
    var span = SourceSpan(of: node, skipping: skipping)
    span.start -= origin
    span.end -= origin
    span.elided = span.elided.map { $0 - origin }
    return text(of: span, in: node.syntaxTextBytes)
  }

  private static func leading(_ line: Substring) -> Int {
    line.prefix { $0 == " " || $0 == "\t" }.count
  }

  private static func isWhitespace(_ byte: UInt8) -> Bool {
    byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") || byte == UInt8(ascii: "\n")
      || byte == UInt8(ascii: "\r")
  }
}
