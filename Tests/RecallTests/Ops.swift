import Foundation
import Recall

// Memoized declarations of every supported shape, used by the behaviour tests.

@Memoized
func add(_ a: Int, to b: Int) -> Int { a + b }

@Memoized
func greet(name: String, punctuation: String = "!") -> String { "Hello, \(name)\(punctuation)" }

struct ParseError: Error, Equatable { var input: String }

@Memoized
func parse(_ text: String) throws -> Int {
  guard let value = Int(text) else { throw ParseError(input: text) }
  return value
}

@Memoized
func parseTyped(_ text: String) throws(ParseError) -> Int {
  guard let value = Int(text) else { throw ParseError(input: text) }
  return value
}

@Memoized
func slowDouble(_ x: Int) async -> Int {
  try? await Task.sleep(for: .milliseconds(10))
  return x * 2
}

@Memoized
func fetch(_ key: String) async throws -> [String] {
  try await Task.sleep(for: .milliseconds(1))
  if key.isEmpty { throw ParseError(input: key) }
  return [key, key.uppercased()]
}

@Memoized
func zeros<T: Codable & Sendable & Numeric>(count: Int) -> [T] {
  [T](repeating: 0, count: count)
}

@Memoized(ignoring: ["verbose"])
func scaled(_ values: [Double], by factor: Double, verbose: Bool) -> [Double] {
  if verbose { print("scaling \(values.count) values") }
  return values.map { $0 * factor }
}

@Memoized(version: "2")
func versioned(_ x: Int) -> Int { x + 2 }

@Memoized
func versionedBefore(_ x: Int) -> Int { x + 2 }

struct Polynomial: Codable, Sendable, Hashable {
  var coefficients: [Double]

  @Memoized
  func evaluate(at x: Double) -> Double {
    coefficients.reversed().reduce(0) { $0 * x + $1 }
  }

  @Memoized
  static func line(slope: Double, intercept: Double) -> Polynomial {
    Polynomial(coefficients: [intercept, slope])
  }
}

struct Box<Element: Codable & Sendable & Hashable>: Codable, Sendable {
  var items: [Element]

  @Memoized
  func count() -> Int { items.count }
}

actor Tracker {
  var seen = 0

  @Memoized
  static func label(_ n: Int) -> String { "#\(n)" }
}

/// A parameter whose declared type does not fix the argument's type.
@Memoized
func describe(_ value: some Encodable & Sendable) -> String { "\(type(of: value))" }

@Memoized
func describeAny(_ value: any Encodable & Sendable) -> String { "\(type(of: value))" }

/// A block inside a generic function: `T` must enter the block's key.
func zerosBlock<T: Codable & Sendable & Numeric>(_ type: T.Type, count: Int) -> [T] {
  #memoized("zeros-block", count) {
    [T](repeating: 0, count: count)
  }
}

/// Kept in memory only, whatever the store's policy.
@Memoized(storage: .memoryOnly)
func tokens(_ text: String) -> [String] { text.split(separator: " ").map(String.init) }

/// Stored only when it took at least a second: never, here.
@Memoized(storage: StoragePolicy(minimumDuration: .seconds(1)))
func quickSum(_ values: [Int]) -> Int { values.reduce(0, +) }

/// A step of a pipeline with lazy results: `Lazy` as argument and result.
@Memoized
func smooth(_ signal: Lazy<[Double]>, pass: Int) throws -> Lazy<[Double]> {
  Lazy(try signal.value.map { $0 / 2 + Double(pass) })
}

/// Several outputs, as a labelled tuple: each element is an output.
@Memoized
func normalize(_ samples: [Double]) throws -> (scaled: [Double], peak: Double) {
  guard let peak = samples.map(abs).max(), peak > 0 else {
    throw ParseError(input: "\(samples.count) samples, all zero")
  }
  return (samples.map { $0 / peak }, peak)
}

/// Takes one output of `normalize`.
@Memoized
func energy(_ scaled: [Double]) -> Double {
  scaled.reduce(0) { $0 + $1 * $1 }
}

/// A private function returning a tuple of outputs (its outputs' struct is
/// private, its members seen by the function).
@Memoized
private func bounds(_ values: [Double]) -> (low: Double, high: Double) {
  (values.min() ?? 0, values.max() ?? 0)
}

/// `bounds`, for the tests.
func boundsOf(_ values: [Double]) -> (low: Double, high: Double) { bounds(values) }

/// A method, asynchronous and throwing, returning a tuple of outputs.
struct Shift: Codable, Sendable {
  var offset: Double

  @Memoized
  func shifted(_ values: [Double]) async throws -> (values: [Double], count: Int) {
    try await Task.sleep(for: .milliseconds(1))
    return (values.map { $0 + offset }, values.count)
  }
}

/// A public type whose public extension has a method returning a tuple of
/// outputs (its outputs' struct and members are public).
public struct Scale: Codable, Sendable {
  public var factor: Double
  public init(factor: Double) { self.factor = factor }
}

extension Scale {
  @Memoized
  public func applied(_ values: [Double]) -> (scaled: [Double], total: Double) {
    let scaled = values.map { $0 * factor }
    return (scaled, scaled.reduce(0, +))
  }
}

// Users write `public extension`; the macro must follow it.
// swift-format-ignore: NoAccessLevelOnExtensionDeclaration
public extension Scale {
  @Memoized
  func halved(_ values: [Double]) -> (halves: [Double], count: Int) {
    (values.map { $0 / 2 }, values.count)
  }
}
