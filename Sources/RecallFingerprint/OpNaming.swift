import SwiftSyntax

/// How ops are named within their module, shared by the macros and the build
/// plugin's tool so that both name the same declaration the same way.
public enum OpNaming {
  /// The name of a memoized function: its enclosing types, its name and its
  /// argument labels, such as `Trainer.fit(_:epochs:)`.
  ///
  /// - Parameters:
  ///   - function: The function declaration.
  ///   - typePath: The names of the enclosing types and extensions, outermost
  ///     first (an extension contributes its extended type's name).
  public static func name(of function: FunctionDeclSyntax, typePath: [String]) -> String {
    let labels = function.signature.parameterClause.parameters.map { "\($0.firstName.text):" }
    return (typePath + ["\(function.name.text)(\(labels.joined()))"]).joined(separator: ".")
  }

  /// The name a type or extension declaration contributes to the names of the
  /// functions inside it, or `nil` for other declarations.
  public static func typeName(of syntax: some SyntaxProtocol) -> String? {
    if let decl = syntax.as(StructDeclSyntax.self) { return decl.name.text }
    if let decl = syntax.as(ClassDeclSyntax.self) { return decl.name.text }
    if let decl = syntax.as(EnumDeclSyntax.self) { return decl.name.text }
    if let decl = syntax.as(ActorDeclSyntax.self) { return decl.name.text }
    if let decl = syntax.as(ProtocolDeclSyntax.self) { return decl.name.text }
    if let decl = syntax.as(ExtensionDeclSyntax.self) { return decl.extendedType.trimmedDescription }
    return nil
  }

  /// The name of a `#memoized` block: its string literal, or `nil` when the
  /// first argument is not a plain string literal.
  public static func blockName(of node: some FreestandingMacroExpansionSyntax) -> String? {
    guard let first = node.arguments.first,
      let literal = first.expression.as(StringLiteralExprSyntax.self)
    else { return nil }
    var value = ""
    for segment in literal.segments {
      guard let text = segment.as(StringSegmentSyntax.self) else { return nil }
      value += text.content.text
    }
    return value
  }
}
