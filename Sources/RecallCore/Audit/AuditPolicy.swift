import Foundation

/// How a store audits its hits: a fraction of them is run again with the
/// current code, and the result's content id compared with the stored one.
///
/// An audit catches what memoization cannot see: a result that depends on
/// more than its inputs and code (the clock, an unseeded generator, a data
/// race, a floating-point reduction whose order depends on the thread count),
/// and a change the code analysis missed. Findings are recorded in the store
/// (``Store/audits(of:)``, `recall audit`); the stored result is kept unless
/// ``replacesDifferingResults``.
///
/// ```swift
/// var configuration = Store.Configuration()
/// configuration.audit = AuditPolicy(fraction: 0.1)   // one hit in ten
/// ```
///
/// Or, for any program, from the environment: `RECALL_AUDIT=0.1` (and
/// `RECALL_AUDIT_REPLACE=1` to replace differing results), which is the
/// default configuration's policy.
public struct AuditPolicy: Sendable, Hashable {
  /// The fraction of hits audited: 0 (none, the default) to 1 (every hit).
  public var fraction: Double
  /// Whether a result that an audit finds different replaces the stored one
  /// (its call is recorded again). Default: `false`, keep the stored result.
  public var replacesDifferingResults: Bool

  /// Creates a policy.
  ///
  /// - Parameters:
  ///   - fraction: The fraction of hits audited, from 0 to 1.
  ///   - replacesDifferingResults: Whether a differing result replaces the
  ///     stored one.
  public init(fraction: Double = 0, replacesDifferingResults: Bool = false) {
    precondition(
      (0...1).contains(fraction), "an audit fraction is between 0 and 1, not \(fraction)")
    self.fraction = fraction
    self.replacesDifferingResults = replacesDifferingResults
  }

  /// No audits.
  public static let off = AuditPolicy()

  /// The policy the environment asks for: `RECALL_AUDIT` (a fraction from 0
  /// to 1) and `RECALL_AUDIT_REPLACE` (`1` to replace differing results); off
  /// when `RECALL_AUDIT` is unset, and off with a warning at the store's open
  /// when it is not a fraction.
  public static var environment: AuditPolicy { parsed.policy }

  /// What is wrong with `RECALL_AUDIT` or `RECALL_AUDIT_REPLACE`, if anything.
  static var environmentProblem: String? { parsed.problem }

  /// Read through ``ProcessEnvironment`` (`getenv`): `ProcessInfo.environment`
  /// would copy the whole environment for every store's configuration
  /// (scenario C).
  private static let parsed = parse(
    ["RECALL_AUDIT", "RECALL_AUDIT_REPLACE"].reduce(into: [:]) { found, name in
      found[name] = ProcessEnvironment.value(name)
    })

  static func parse(_ environment: [String: String]) -> (policy: AuditPolicy, problem: String?) {
    var problems: [String] = []
    var fraction = 0.0
    if let text = environment["RECALL_AUDIT"]?.trimmingCharacters(in: .whitespaces),
      !text.isEmpty
    {
      if let value = Double(text), (0...1).contains(value) {
        fraction = value
      } else {
        problems.append(
          "RECALL_AUDIT='\(text)' is not a fraction of hits to audit; give one from 0 to 1 "
            + "(0.1 audits one hit in ten, 1 every hit). Auditing is off.")
      }
    }
    var replaces = false
    if let text = environment["RECALL_AUDIT_REPLACE"], !text.isEmpty {
      switch text.lowercased() {
      case "1", "true", "yes": replaces = true
      case "0", "false", "no": replaces = false
      default:
        problems.append(
          "RECALL_AUDIT_REPLACE='\(text)' is neither 1 nor 0; differing results are kept.")
      }
    }
    let policy = AuditPolicy(fraction: fraction, replacesDifferingResults: replaces)
    return (policy, problems.isEmpty ? nil : problems.joined(separator: " "))
  }
}
