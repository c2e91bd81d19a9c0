import Foundation
import PostgresNIO
import RecallCore

/// A statement's parameter.
enum SQLValue: Sendable {
  case bytes(Data)
  case text(String)
  case int(Int)
  case double(Double)
  case null

  init(_ digest: Digest) { self = .bytes(digest.withUnsafeBytes { Data($0) }) }
  init(_ date: Date) { self = .double(date.timeIntervalSince1970) }
}

extension PostgresQuery {
  /// A statement with `$1`, `$2`, … placeholders and their values.
  static func sql(_ sql: String, _ values: [SQLValue] = []) throws -> PostgresQuery {
    var binds = PostgresBindings(capacity: values.count)
    for value in values {
      switch value {
      case .bytes(let data): try binds.append(data)
      case .text(let text): binds.append(text)
      case .int(let int): binds.append(int)
      case .double(let double): binds.append(double)
      case .null: binds.appendNull()
      }
    }
    return PostgresQuery(unsafeSQL: sql, binds: binds)
  }
}

extension Connection {
  /// Runs a statement with parameters and returns its rows, by column index.
  @discardableResult
  func rows(_ sql: String, _ values: [SQLValue] = []) throws -> [PostgresRandomAccessRow] {
    try query(.sql(sql, values)).map { $0.makeRandomAccess() }
  }

  /// Runs a statement with parameters and returns how many rows it changed.
  @discardableResult
  func execute(_ sql: String, _ values: [SQLValue] = []) throws -> Int {
    try changes(.sql(sql, values))
  }
}

extension PostgresRandomAccessRow {
  func text(_ index: Int) throws -> String { try self[index].decode(String.self) }
  func int(_ index: Int) throws -> Int { try self[index].decode(Int.self) }
  func optionalInt(_ index: Int) throws -> Int? { try self[index].decode(Int?.self) }
  func double(_ index: Int) throws -> Double { try self[index].decode(Double.self) }
  func bool(_ index: Int) throws -> Bool { try self[index].decode(Bool.self) }
  func date(_ index: Int) throws -> Date { Date(timeIntervalSince1970: try double(index)) }
  func bytes(_ index: Int) throws -> Data? { try self[index].decode(Data?.self) }

  func digest(_ index: Int) throws -> Digest {
    guard let data = try bytes(index), let digest = Digest(bytes: data) else {
      throw RecallError.malformedStoredID
    }
    return digest
  }
}
