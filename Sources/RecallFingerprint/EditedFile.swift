import SwiftParser
import SwiftSyntax

/// A summary made again after an edit by parsing only the top-level item the
/// edit lies in, and its neighbours (``FileSummary/updated(from:to:)``).
public struct EditedSummary: Sendable {
  /// The edited file's summary, equal to the one a parse of the whole file
  /// gives.
  public var summary: FileSummary
  /// The components of the old summary that the edited item replaced.
  public var replaced: Range<Int>
  /// The components in ``summary`` that replace them: those made from the
  /// edited item. The components after them are the old ones, moved by the
  /// edit's change in length.
  public var inserted: Range<Int>
}

extension FileSummary {
  /// Where the file's top-level items begin, then where the last one ends, as
  /// UTF-8 offsets; empty when the file has syntax errors. An item is a
  /// declaration or statement with its trivia: together they cover the file
  /// up to the end-of-file token's leading trivia.
  static func itemBoundaries(of file: SourceFileSyntax) -> [Int] {
    guard !file.hasError else { return [] }
    return file.statements.map(\.position.utf8Offset) + [file.statements.endPosition.utf8Offset]
  }

  /// The summary of `new`, an edit of `old` (the file this summary was made
  /// from), made by parsing only the top-level item the edit lies in, with
  /// the items on either side of it.
  ///
  /// The build plugin's tool runs at every build, usually in debug, where
  /// parsing a 500-line file takes a tenth of a second; an edit of one
  /// function parses that function and its two neighbours. The neighbours
  /// show where the parser ends the edited item and begins the next: they
  /// must come out as they were, so that the parse of the whole file would
  /// have found the same items. The result equals what parsing the whole of
  /// `new` gives. Returns `nil` when that cannot be known without parsing
  /// the whole file: the edit spans more than one item, the edited text no
  /// longer parses as one item between its unchanged neighbours, or has an
  /// error, either version of the item mentions `import`, or either file is
  /// not valid UTF-8.
  public func updated(from old: [UInt8], to new: [UInt8]) -> EditedSummary? {
    guard items.count >= 2, items.last! <= old.count,
      String(validating: old, as: UTF8.self) != nil,
      String(validating: new, as: UTF8.self) != nil
    else { return nil }
    let (prefix, suffix) = Self.commonEnds(old, new)
    if prefix == old.count, prefix == new.count {
      return EditedSummary(summary: self, replaced: 0..<0, inserted: 0..<0)
    }
    // The edit replaces old[prefix..<oldEnd] with new[prefix..<new.count -
    // suffix]: it must lie in one item. One that begins where an item ends
    // (a comment after a closing brace) may belong to either.
    let oldEnd = old.count - suffix
    guard let found = items.lastIndex(where: { $0 <= prefix }) else { return nil }
    let candidates = [found, found - 1].filter { item in
      item >= 0 && item + 1 < items.count && items[item] <= prefix && oldEnd <= items[item + 1]
    }
    for item in candidates {
      if let edited = reparsed(item, old, new) { return edited }
    }
    return nil
  }

  /// ``updated(from:to:)`` for an edit that lies in `item`.
  private func reparsed(_ item: Int, _ old: [UInt8], _ new: [UInt8]) -> EditedSummary? {
    let delta = new.count - old.count
    let (start, end) = (items[item], items[item + 1])
    guard old[start..<end].firstRange(of: Self.importKeyword) == nil,
      new[start..<(end + delta)].firstRange(of: Self.importKeyword) == nil
    else { return nil }

    // The item and its neighbours, which must parse as they did.
    let first = max(item - 1, 0)
    let last = min(item + 2, items.count - 1)
    let text = String(decoding: new[items[first]..<(items[last] + delta)], as: UTF8.self)
    let tree = Parser.parse(source: text)
    let parsed = tree.statements.map { $0.position.utf8Offset + items[first] }
    let expected =
      Array(items[first...item]) + (item + 1..<last).map { items[$0] + delta }
    guard !tree.hasError, tree.endOfFileToken.leadingTrivia.isEmpty, parsed == expected,
      tree.statements.endPosition.utf8Offset + items[first] == items[last] + delta
    else { return nil }

    // The components of the old item and its neighbours are one run (in
    // source order); the neighbours' must come out the same.
    func run(from lower: Int, to upper: Int, in components: [Component]) -> Range<Int> {
      let from = components.firstIndex { $0.span.start >= lower } ?? components.endIndex
      let to = components[from...].firstIndex { $0.span.start >= upper } ?? components.endIndex
      return from..<to
    }
    let reparsed = FileSummary(tree).components.map { $0.moved(by: items[first]) }
    let inserted = run(from: start, to: end + delta, in: reparsed)
    let replaced = run(from: start, to: end, in: components)
    let before = run(from: items[first], to: start, in: components)
    let after = run(from: end, to: items[last], in: components)
    guard Array(reparsed[..<inserted.lowerBound]) == Array(components[before]),
      Array(reparsed[inserted.upperBound...]) == components[after].map({ $0.moved(by: delta) })
    else { return nil }

    var updated = self
    updated.components.replaceSubrange(replaced, with: reparsed[inserted])
    let now = replaced.lowerBound..<(replaced.lowerBound + inserted.count)
    for index in now.upperBound..<updated.components.count {
      updated.components[index] = updated.components[index].moved(by: delta)
    }
    for index in (item + 1)..<updated.items.count {
      updated.items[index] += delta
    }
    return EditedSummary(summary: updated, replaced: replaced, inserted: now)
  }

  private static let importKeyword = Array("import".utf8)

  /// The lengths of the longest common prefix and suffix of two byte
  /// arrays, which do not overlap in the shorter.
  private static func commonEnds(_ a: [UInt8], _ b: [UInt8]) -> (prefix: Int, suffix: Int) {
    a.withUnsafeBufferPointer { a in
      b.withUnsafeBufferPointer { b in
        let shorter = min(a.count, b.count)
        var prefix = 0
        while prefix < shorter, a[prefix] == b[prefix] { prefix += 1 }
        var suffix = 0
        while suffix < shorter - prefix, a[a.count - 1 - suffix] == b[b.count - 1 - suffix] {
          suffix += 1
        }
        return (prefix, suffix)
      }
    }
  }
}

extension Component {
  /// The component with its span moved `offset` bytes.
  func moved(by offset: Int) -> Component {
    guard offset != 0 else { return self }
    var moved = self
    moved.span = SourceSpan(
      start: span.start + offset, end: span.end + offset, elided: span.elided.map { $0 + offset })
    return moved
  }
}
