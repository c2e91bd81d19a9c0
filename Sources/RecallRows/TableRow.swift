import Foundation

/// A row a command prints: its JSON Lines form is its `Codable` encoding (keys
/// are the columns, in the vocabulary of the store's tables: `op_version`,
/// `started_at`, `time_saved`…), its table form the texts of ``cells``.
package protocol TableRow: Encodable, Sendable {
  /// The column names, in order: the JSON keys, and (upper-cased, with spaces
  /// for underscores) the table's header.
  static var columns: [String] { get }
  /// The texts shown in the table, one per column.
  var cells: [String] { get }
}

/// Rows as an aligned text table for people.
package enum TextTable {
  package static func text<Row: TableRow>(_ rows: [Row]) -> String {
    guard !rows.isEmpty else { return "" }
    let headers = Row.columns.map { $0.uppercased().replacingOccurrences(of: "_", with: " ") }
    let cells = rows.map(\.cells)
    var widths = headers.map(\.count)
    for row in cells {
      for (index, text) in row.enumerated() { widths[index] = max(widths[index], text.count) }
    }
    func line(_ texts: [String]) -> String {
      texts.enumerated().map { index, text in
        index == texts.count - 1
          ? text : text.padding(toLength: widths[index], withPad: " ", startingAt: 0)
      }.joined(separator: "  ") + "\n"
    }
    return line(headers) + cells.map(line).joined()
  }
}

/// Rows as JSON Lines for programs: one object per line, with the row's
/// fields and `"version"`, the format's version.
package enum JSONLines {
  /// The format version of the JSON Lines output: 2 since keys follow the
  /// store's vocabulary (`started_at`, `time_saved`, `output_bytes`…) and a
  /// value that is not stored is `null`.
  package static let version = 2

  package static func text<Row: Encodable>(_ rows: [Row]) -> String {
    let encoder = Self.encoder
    return rows.map { row in
      // Rows hold plain values: encoding cannot fail.
      let data = try! encoder.encode(Line(row: row))
      return String(decoding: data, as: UTF8.self) + "\n"
    }.joined()
  }

  /// Rows as one JSON array of the objects JSON Lines prints one per line:
  /// the body of the viewer's `/api/v1/…` answers.
  package static func array<Row: Encodable>(_ rows: [Row]) -> String {
    // Rows hold plain values: encoding cannot fail.
    String(decoding: try! encoder.encode(rows.map { Line(row: $0) }), as: UTF8.self)
  }

  private static var encoder: JSONEncoder {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    encoder.dateEncodingStrategy = .iso8601
    return encoder
  }

  /// A row with the format's version added to its fields: one line of JSON
  /// Lines, one element of the viewer's JSON arrays.
  package struct Line<Row: Encodable>: Encodable {
    package let row: Row

    package init(row: Row) { self.row = row }

    private enum Keys: String, CodingKey { case version }

    package func encode(to encoder: any Encoder) throws {
      try row.encode(to: encoder)
      var container = encoder.container(keyedBy: Keys.self)
      try container.encode(JSONLines.version, forKey: .version)
    }
  }
}

/// A JSON value: a stored value as rendered for JSON Lines.
package enum JSONValue: Codable, Equatable, Sendable {
  case null
  case bool(Bool)
  case integer(Int64)
  case number(Double)
  case string(String)
  case array([JSONValue])
  case object([String: JSONValue])

  /// Parses rendered JSON text; text that is not JSON stays a string.
  package init(parsing text: String) {
    self = (try? JSONDecoder().decode(JSONValue.self, from: Data(text.utf8))) ?? .string(text)
  }

  package init(from decoder: any Decoder) throws {
    let container = try decoder.singleValueContainer()
    if container.decodeNil() {
      self = .null
    } else if let value = try? container.decode(Bool.self) {
      self = .bool(value)
    } else if let value = try? container.decode(Int64.self) {
      self = .integer(value)
    } else if let value = try? container.decode(Double.self) {
      self = .number(value)
    } else if let value = try? container.decode(String.self) {
      self = .string(value)
    } else if let value = try? container.decode([JSONValue].self) {
      self = .array(value)
    } else {
      self = .object(try container.decode([String: JSONValue].self))
    }
  }

  package func encode(to encoder: any Encoder) throws {
    var container = encoder.singleValueContainer()
    switch self {
    case .null: try container.encodeNil()
    case .bool(let value): try container.encode(value)
    case .integer(let value): try container.encode(value)
    case .number(let value): try container.encode(value)
    case .string(let value): try container.encode(value)
    case .array(let value): try container.encode(value)
    case .object(let value): try container.encode(value)
    }
  }
}

/// A row field that JSON Lines shows as `null` when it has no value (a
/// synthesized encoding leaves such a key out), so every row has every column.
// swift-format-ignore: UseSynthesizedInitializer
@propertyWrapper
package struct Nullable<Value: Encodable & Sendable>: Encodable, Sendable {
  package var wrappedValue: Value?

  // Declared, not synthesized: only a declared `init(wrappedValue:)` lets a
  // row's memberwise initializer take the plain optional.
  package init(wrappedValue: Value?) {
    self.wrappedValue = wrappedValue
  }

  package func encode(to encoder: any Encoder) throws {
    var container = encoder.singleValueContainer()
    if let wrappedValue { try container.encode(wrappedValue) } else { try container.encodeNil() }
  }
}
