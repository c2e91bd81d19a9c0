import Foundation

/// Rows to print: as an aligned text table for people, or as JSON Lines for
/// programs.
struct Table {
  /// The format version of the JSON Lines output.
  static let jsonVersion = 1

  /// Column names, as printed in the header and as JSON keys (never
  /// `version`, which is the output format's version).
  var columns: [String]
  /// Rows: for each column, the text shown in the table and the JSON value.
  var rows: [[Cell]] = []

  struct Cell {
    var text: String
    var json: Any

    init(_ text: String, json: Any? = nil) {
      self.text = text
      self.json = json ?? text
    }
  }

  func text() -> String {
    guard !rows.isEmpty else { return "" }
    let headers = columns.map { $0.uppercased().replacingOccurrences(of: "_", with: " ") }
    var widths = headers.map(\.count)
    for row in rows {
      for (index, cell) in row.enumerated() { widths[index] = max(widths[index], cell.text.count) }
    }
    func line(_ cells: [String]) -> String {
      cells.enumerated().map { index, text in
        index == cells.count - 1
          ? text : text.padding(toLength: widths[index], withPad: " ", startingAt: 0)
      }.joined(separator: "  ") + "\n"
    }
    return line(headers) + rows.map { line($0.map(\.text)) }.joined()
  }

  func jsonLines() -> String {
    rows.map { row in
      var object: [String: Any] = ["version": Table.jsonVersion]
      for (column, cell) in zip(columns, row) { object[column] = cell.json }
      let data = try! JSONSerialization.data(
        withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])
      return String(decoding: data, as: UTF8.self) + "\n"
    }.joined()
  }
}

/// Parses JSON text (a rendered value) for embedding in JSON Lines.
func jsonValue(_ text: String) -> Any {
  (try? JSONSerialization.jsonObject(with: Data(text.utf8), options: [.fragmentsAllowed])) ?? text
}
