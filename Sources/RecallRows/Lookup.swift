import Foundation
import RecallCore

/// Finds an op by its full name, or by its name without the module, or by its
/// base name, when that is unique.
package func findOp(_ name: String, in store: Store) throws -> OpID {
  let ops = try store.ops().map(\.op)
  if ops.contains(OpID(name)) { return OpID(name) }
  func local(_ full: String) -> Substring {
    guard let dot = full.firstIndex(of: "."), !full[..<dot].contains("(") else {
      return Substring(full)
    }
    return full[full.index(after: dot)...]
  }
  // Without the module, or by the name with labels only (overloads share it).
  var matches = ops.filter {
    local($0.name) == name || $0.labelName == name || local($0.labelName) == name
  }
  if matches.isEmpty { matches = ops.filter { local($0.name).prefix { $0 != "(" } == name } }
  guard !matches.isEmpty else {
    throw CommandFailure(
      "The store has no op named '\(name)'. Its ops: "
        + (ops.isEmpty ? "none yet." : ops.map(\.name).joined(separator: ", ")))
  }
  guard matches.count == 1 else {
    throw CommandFailure(
      "'\(name)' names several ops: \(matches.map(\.name).joined(separator: ", ")); give the full name "
        + "(overloads differ by their parameters' types).")
  }
  return matches[0]
}

/// Finds a call by a tag's name or by the first characters of its id.
package func findCall(_ text: String, in store: Store, path: String) throws -> CallRecord {
  if let tag = try store.tagged(text), case .call(let id) = tag.target,
    let call = try store.call(id)
  {
    return call
  }
  let matches = try store.calls(matching: CallQuery(idPrefix: text, limit: 2))
  guard let call = matches.first else {
    throw CommandFailure(
      "The store at '\(path)' has no call whose id starts with '\(text)', and no tag of that name.")
  }
  guard matches.count == 1 else {
    throw CommandFailure("'\(text)' matches several calls; give more characters.")
  }
  return call
}

/// Runs a store operation, turning Recall's errors into messages for people.
package func reporting<T>(_ body: () throws -> T) throws -> T {
  do {
    return try body()
  } catch let error as RecallError {
    throw CommandFailure(error.message)
  }
}

/// A failure that is not a usage error: the store could not be opened, or
/// what the command line names is not in it. It prints its message without
/// the usage and exits with status 1 (usage errors, `ValidationError`, exit
/// with 64 and show the usage).
package struct CommandFailure: Error, CustomStringConvertible {
  package let description: String
  package init(_ description: String) { self.description = description }
}
