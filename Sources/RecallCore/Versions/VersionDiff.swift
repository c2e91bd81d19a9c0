/// What changed between two versions of an op, component by component.
///
/// ```swift
/// let diff = try store.diff("Experiments.train(_:epochs:)", from: old, to: new)
/// print(diff)
/// // Experiments.train(_:epochs:) 3f2a9c81d0e4 → 9b1d44e07a2c
/// // func scale(_:) changed
/// // --- func scale(_:) 3f2a…
/// // +++ func scale(_:) 9b1d…
/// // @@ -1,3 +1,3 @@
/// //  func scale(_ x: Double) -> Double {
/// // -  x * 2
/// // +  x * 3
/// //  }
/// ```
public struct VersionDiff: Sendable, Hashable, CustomStringConvertible {
  /// How one component differs.
  public enum Change: Sendable, Hashable {
    /// The newer version reaches a component the older did not.
    case added(CodeComponent)
    /// The older version reached a component the newer does not.
    case removed(CodeComponent)
    /// Both reach the component, with different code.
    case changed(from: CodeComponent, to: CodeComponent)

    /// The component's identity.
    public var identity: String {
      switch self {
      case .added(let component), .removed(let component): component.identity
      case .changed(_, let component): component.identity
      }
    }

    /// The component as people name it: its identity, with `let` for a
    /// global or static constant (whose identity says `var`, as for every
    /// stored variable, so that turning one into the other keeps its key).
    public var displayName: String {
      switch self {
      case .added(let component), .removed(let component): Self.name(of: component)
      case .changed(_, let component): Self.name(of: component)
      }
    }

    /// A one-line summary, such as `func scale(_:) changed`.
    public var summary: String {
      switch self {
      case .added: "\(displayName) added"
      case .removed: "\(displayName) removed"
      case .changed: "\(displayName) changed"
      }
    }

    /// The identity, with `let` for a variable that its source declares
    /// with `let`.
    static func name(of component: CodeComponent) -> String {
      guard component.identity.hasPrefix("var ") else { return component.identity }
      let words = component.source.split { !($0.isLetter || $0 == "_") }
      guard words.first(where: { $0 == "let" || $0 == "var" }) == "let" else {
        return component.identity
      }
      return "let " + component.identity.dropFirst(4)
    }

    /// The change as a unified diff of the component's source.
    public var unifiedDiff: String {
      switch self {
      case .added(let new):
        UnifiedDiff.render(old: "", new: new.source, oldName: "/dev/null", newName: Self.label(new))
      case .removed(let old):
        UnifiedDiff.render(old: old.source, new: "", oldName: Self.label(old), newName: "/dev/null")
      case .changed(let old, let new):
        // Whitespace does not change a version: lines that differ only in
        // it, and blank lines, are not shown as changes.
        UnifiedDiff.render(
          old: old.source, new: new.source, oldName: Self.label(old), newName: Self.label(new),
          ignoringWhitespace: true)
      }
    }

    private static func label(_ component: CodeComponent) -> String {
      "\(name(of: component)) \(component.fingerprint.prefix(12))"
    }
  }

  /// The op.
  public var op: OpID
  /// The older version.
  public var from: CodeFingerprint
  /// The newer version.
  public var to: CodeFingerprint
  /// The components that differ, by identity.
  public var changes: [Change]
  /// Whether the store has the components of both versions. Without them (a
  /// version recorded by a process that had no sources to give), ``changes``
  /// is empty although the versions differ.
  public var isComplete: Bool

  /// Creates a diff.
  public init(
    op: OpID, from: CodeFingerprint, to: CodeFingerprint, changes: [Change], isComplete: Bool
  ) {
    self.op = op
    self.from = from
    self.to = to
    self.changes = changes
    self.isComplete = isComplete
  }

  /// Compares two versions' components by identity. Overloads share an
  /// identity; one edited overload is a change, anything else among them is
  /// removals and additions.
  public init(
    op: OpID, from: CodeFingerprint, to: CodeFingerprint, old: [CodeComponent], new: [CodeComponent]
  ) {
    let oldByIdentity = Dictionary(grouping: old, by: \.identity)
    let newByIdentity = Dictionary(grouping: new, by: \.identity)
    var changes: [Change] = []
    for identity in Set(oldByIdentity.keys).union(newByIdentity.keys).sorted() {
      let before = oldByIdentity[identity] ?? []
      let after = newByIdentity[identity] ?? []
      let removed = before.filter { component in
        !after.contains { $0.fingerprint == component.fingerprint }
      }
      let added = after.filter { component in
        !before.contains { $0.fingerprint == component.fingerprint }
      }
      if removed.count == 1, added.count == 1 {
        changes.append(.changed(from: removed[0], to: added[0]))
      } else {
        changes += removed.map(Change.removed) + added.map(Change.added)
      }
    }
    self.init(op: op, from: from, to: to, changes: changes, isComplete: true)
  }

  /// A one-line summary per change, then each change as a unified diff.
  public var description: String {
    var lines = ["\(op) \(from) → \(to)"]
    if !isComplete {
      lines.append(
        "(the store lacks the code of one of these versions; it cannot show what changed)")
    } else if changes.isEmpty {
      lines.append("(no component differs: the versions cover the same code)")
    }
    lines += changes.map(\.summary)
    for change in changes { lines.append(change.unifiedDiff) }
    return lines.joined(separator: "\n")
  }
}

/// Unified diffs of line-based text.
public enum UnifiedDiff {
  /// Returns a unified diff (as `diff -u` prints it) from `old` to `new`, with
  /// `context` unchanged lines around each change, or an empty string when the
  /// texts are equal.
  ///
  /// With `ignoringWhitespace`, lines that differ only in whitespace are the
  /// same line (shown as in `new`), and blank lines added or removed start no
  /// hunk (inside a hunk of other changes they show), as `diff -u -w -B`
  /// prints it.
  public static func render(
    old: String, new: String, oldName: String, newName: String, context: Int = 3,
    ignoringWhitespace: Bool = false
  ) -> String {
    let a = lines(of: old)
    let b = lines(of: new)
    // Lines are compared by their keys: without whitespace when it is
    // ignored, so that a line that differs only in it is the same line.
    func key(_ line: String) -> String {
      ignoringWhitespace ? String(line.unicodeScalars.filter { !$0.properties.isWhitespace }) : line
    }
    // Walk both texts along the edit script: each line is kept, removed or
    // inserted. A kept line is shown as the new text has it.
    enum Line {
      case keep(String)
      case remove(String)
      case insert(String)
    }
    let difference = b.map(key).difference(from: a.map(key))
    var removed = Set<Int>()
    var inserted = Set<Int>()
    for change in difference {
      switch change {
      case .remove(let offset, _, _): removed.insert(offset)
      case .insert(let offset, _, _): inserted.insert(offset)
      }
    }
    var script: [(line: Line, oldIndex: Int, newIndex: Int)] = []
    var i = 0
    var j = 0
    while i < a.count || j < b.count {
      if i < a.count, removed.contains(i) {
        script.append((.remove(a[i]), i, j))
        i += 1
      } else if j < b.count, inserted.contains(j) {
        script.append((.insert(b[j]), i, j))
        j += 1
      } else {
        script.append((.keep(b[j]), i, j))
        i += 1
        j += 1
      }
    }
    // A change that starts a hunk: any, or when whitespace is ignored, one
    // of a line that is not blank (blank lines added or removed show only
    // inside a hunk of other changes, as `diff -B` shows them).
    func isChange(_ entry: (line: Line, oldIndex: Int, newIndex: Int)) -> Bool {
      switch entry.line {
      case .keep: false
      case .remove(let text), .insert(let text): !ignoringWhitespace || !key(text).isEmpty
      }
    }
    guard script.contains(where: isChange) else { return "" }

    // Group changes whose context overlaps into hunks.
    var output = ["--- \(oldName)", "+++ \(newName)"]
    var index = 0
    while index < script.count {
      guard let firstChange = script[index...].firstIndex(where: isChange) else { break }
      let start = max(index, firstChange - context)
      var end = firstChange
      var lastChange = firstChange
      while end < script.count {
        if isChange(script[end]) {
          lastChange = end
        } else if end - lastChange > 2 * context {
          break
        }
        end += 1
      }
      let stop = min(script.count, lastChange + context + 1)
      let hunk = script[start..<stop]
      let oldCount = hunk.filter { if case .insert = $0.line { false } else { true } }.count
      let newCount = hunk.filter { if case .remove = $0.line { false } else { true } }.count
      let oldStart = oldCount == 0 ? hunk.first!.oldIndex : hunk.first!.oldIndex + 1
      let newStart = newCount == 0 ? hunk.first!.newIndex : hunk.first!.newIndex + 1
      output.append("@@ -\(range(oldStart, oldCount)) +\(range(newStart, newCount)) @@")
      for entry in hunk {
        switch entry.line {
        case .keep(let text): output.append(" " + text)
        case .remove(let text): output.append("-" + text)
        case .insert(let text): output.append("+" + text)
        }
      }
      index = stop
    }
    return output.joined(separator: "\n")
  }

  private static func range(_ start: Int, _ count: Int) -> String {
    count == 1 ? "\(start)" : "\(start),\(count)"
  }

  private static func lines(of text: String) -> [String] {
    guard !text.isEmpty else { return [] }
    var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
    if lines.last == "" { lines.removeLast() }
    return lines
  }
}
