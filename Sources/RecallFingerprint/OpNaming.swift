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
  ///
  /// Parameters listed in `@Memoized(addedParameters:)` are left out, so that
  /// adding one keeps the op's identity (and its results).
  public static func name(of function: FunctionDeclSyntax, typePath: [String]) -> String {
    let added = addedParameters(of: function)
    let labels = function.signature.parameterClause.parameters
      .filter { !added.contains(($0.secondName ?? $0.firstName).text) }
      .map { "\($0.firstName.text):" }
    return (typePath + ["\(function.name.text)(\(labels.joined()))"]).joined(separator: ".")
  }

  /// The name a memoized function's op is identified by: its enclosing types,
  /// its name, and its parameters with their labels and types, such as
  /// `Trainer.fit(_: Dataset, epochs: Int)`, so that overloads with the same
  /// labels are different ops. Parameters listed in
  /// `@Memoized(addedParameters:)` are left out, as in ``name(of:typePath:)``.
  /// Types are written from their tokens (comments and spacing do not
  /// matter), as written in the declaration: a type alias is not resolved.
  public static func typedName(of function: FunctionDeclSyntax, typePath: [String]) -> String {
    let added = addedParameters(of: function)
    let parameters = function.signature.parameterClause.parameters
      .filter { !added.contains(($0.secondName ?? $0.firstName).text) }
      .map { "\($0.firstName.text): \(typeText($0.type))\($0.ellipsis == nil ? "" : "...")" }
    return (typePath + ["\(function.name.text)(\(parameters.joined(separator: ", ")))"]).joined(
      separator: ".")
  }

  /// A type's tokens, spaced canonically: `[String: Int]`, `(Int) -> Double`,
  /// `some Collection<Int>`.
  static func typeText(_ type: TypeSyntax) -> String {
    var text = ""
    var previous: TokenSyntax?
    for token in type.tokens(viewMode: .sourceAccurate) {
      let piece = token.text
      if let previous {
        let wordBefore = previous.text.last.map { $0.isLetter || $0.isNumber || $0 == "_" } ?? false
        let wordNow =
          piece.first.map { $0.isLetter || $0.isNumber || $0 == "_" || $0 == "@" } ?? false
        if (wordBefore && wordNow) || piece == "->" || previous.text == "->" || previous.text == ":"
          || previous.text == "," || piece == "&" || previous.text == "&"
        {
          text += " "
        }
      }
      text += piece
      previous = token
    }
    return text
  }

  /// A parameter's name inside the function: its second name, else its
  /// first (`x` for `_ x: Int` and for `x: Int`).
  public static func parameterName(_ parameter: FunctionParameterSyntax) -> String {
    (parameter.secondName ?? parameter.firstName).text
  }

  /// The text of a string literal without interpolation, as written (escape
  /// sequences kept), or `nil` for any other expression.
  public static func literalText(_ expression: ExprSyntax) -> String? {
    guard let literal = expression.as(StringLiteralExprSyntax.self) else { return nil }
    var value = ""
    for segment in literal.segments {
      guard let text = segment.as(StringSegmentSyntax.self) else { return nil }
      value += text.content.text
    }
    return value
  }

  /// The version written by hand in a function's `@Memoized(version:)`, as
  /// the macro passes it to the runtime, or `nil` without one.
  public static func manualVersion(of function: FunctionDeclSyntax) -> String? {
    memoizedArguments(of: function, labelled: "version").first.flatMap {
      literalText($0.expression)
    }
  }

  /// The arguments of a function's `@Memoized(...)` with a label.
  private static func memoizedArguments(of function: FunctionDeclSyntax, labelled label: String)
    -> [LabeledExprSyntax]
  {
    function.attributes.flatMap { element -> [LabeledExprSyntax] in
      guard let attribute = element.as(AttributeSyntax.self),
        attribute.attributeName.trimmedDescription == "Memoized",
        case .argumentList(let arguments) = attribute.arguments
      else { return [] }
      return arguments.filter { $0.label?.text == label }
    }
  }

  /// The parameter names listed in a function's `@Memoized(addedParameters:)`.
  public static func addedParameters(of function: FunctionDeclSyntax) -> Set<String> {
    var names: Set<String> = []
    for argument in memoizedArguments(of: function, labelled: "addedParameters") {
      for item in argument.expression.as(ArrayExprSyntax.self)?.elements ?? [] {
        guard let literal = item.expression.as(StringLiteralExprSyntax.self) else { continue }
        names.insert(
          literal.segments.compactMap { $0.as(StringSegmentSyntax.self)?.content.text }.joined())
      }
    }
    return names
  }

  /// The name a type or extension declaration contributes to the names of the
  /// functions inside it, or `nil` for other declarations.
  public static func typeName(of syntax: some SyntaxProtocol) -> String? {
    if let decl = syntax.as(StructDeclSyntax.self) { return decl.name.text }
    if let decl = syntax.as(ClassDeclSyntax.self) { return decl.name.text }
    if let decl = syntax.as(EnumDeclSyntax.self) { return decl.name.text }
    if let decl = syntax.as(ActorDeclSyntax.self) { return decl.name.text }
    if let decl = syntax.as(ProtocolDeclSyntax.self) { return decl.name.text }
    if let decl = syntax.as(ExtensionDeclSyntax.self) {
      return decl.extendedType.trimmedDescription
    }
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
