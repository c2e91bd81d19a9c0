import SwiftSyntax

/// The code fingerprint of a declaration: SHA-256 over its tokens, without
/// whitespace or comments.
///
/// The macro and the build plugin's tool both compute fingerprints through this
/// type, so the same declaration always gets the same fingerprint in both.
/// Reformatting code or editing a comment leaves the fingerprint unchanged; any
/// change to a token changes it.
public struct Fingerprint: Hashable, Sendable, CustomStringConvertible {
  /// The normalized source the fingerprint hashes: the declaration's tokens
  /// separated by single spaces.
  public let normalizedSource: String

  /// The lowercase hexadecimal SHA-256 of ``normalizedSource``.
  public let hex: String

  /// Creates the fingerprint of already-normalized source.
  public init(normalizedSource: String) {
    self.normalizedSource = normalizedSource
    self.hex = SHA256.hex(normalizedSource)
  }

  /// Creates the fingerprint of a syntax node.
  ///
  /// Attributes named in `excludingAttributes` (for example `Memoized`) are left
  /// out: their arguments reach the runtime by other means, and leaving them out
  /// keeps a declaration's fingerprint the same whether it is seen by the macro
  /// or by the build plugin.
  public init(of node: some SyntaxProtocol, excludingAttributes: Set<String> = []) {
    self.init(
      normalizedSource: Fingerprint.normalize(node, excludingAttributes: excludingAttributes))
  }

  public var description: String { hex }

  /// Returns a node's tokens joined by single spaces: no whitespace, no comments.
  ///
  /// - Parameters:
  ///   - node: The node.
  ///   - excludingAttributes: Names of attributes to leave out.
  ///   - skipping: Source ranges whose tokens are left out (such as member
  ///     bodies, which are components of their own).
  public static func normalize(
    _ node: some SyntaxProtocol, excludingAttributes: Set<String> = [],
    skipping: [Range<AbsolutePosition>] = []
  ) -> String {
    var skipped = skipping
    if !excludingAttributes.isEmpty {
      for attribute in node.tokens(viewMode: .sourceAccurate)
        .compactMap({ $0.parent?.as(AttributeSyntax.self) })
      where excludingAttributes.contains(attribute.attributeName.trimmedDescription) {
        skipped.append(attribute.position..<attribute.endPosition)
      }
    }
    var out = ""
    for token in node.tokens(viewMode: .sourceAccurate) {
      if case .endOfFile = token.tokenKind { continue }
      if skipped.contains(where: { $0.contains(token.positionAfterSkippingLeadingTrivia) }) {
        continue
      }
      if !out.isEmpty { out.append(" ") }
      out.append(token.text)
    }
    return out
  }
}
