import SwiftSyntax

/// One piece of a package's code as the build plugin sees it: a function,
/// method, initializer, subscript, property or global, a type (its stored
/// properties, cases and member signatures, without member bodies), or a
/// `#memoized` block.
public struct Component: Codable, Hashable, Sendable {
  /// What kind of declaration a component is.
  public enum Kind: String, Codable, Sendable, CaseIterable {
    case function, initializer, `subscript`, variable, type, block
  }

  /// The kind of declaration.
  public var kind: Kind
  /// The name references resolve to: a function's or property's base name,
  /// `init` or `subscript`, a type's name, a block's op name.
  public var name: String
  /// The enclosing type, if any.
  public var owner: String?
  /// A readable, qualified identity, such as `func Trainer.fit(_:epochs:)`.
  public var identity: String
  /// The component's code fingerprint.
  public var fingerprint: String
  /// Where the component's source lies in its file (see ``DisplaySource``).
  public var span: SourceSpan
  /// The names the component's tokens mention, sorted.
  public var references: [String]
  /// The op name, for `@Memoized` functions and `#memoized` blocks.
  public var op: String?
  /// The first 256 bits of SHA-256 of the identity and the fingerprint, as four
  /// words: what op versions combine.
  public var key: [UInt64]

  /// Creates a component whose key was computed before (read from a cache).
  public init(
    kind: Kind, name: String, owner: String?, identity: String, fingerprint: String,
    span: SourceSpan, references: [String], op: String?, key: [UInt64]
  ) {
    self.kind = kind
    self.name = name
    self.owner = owner
    self.identity = identity
    self.fingerprint = fingerprint
    self.span = span
    self.references = references
    self.op = op
    self.key = key
  }

  /// Creates a component, computing its key.
  public init(
    kind: Kind, name: String, owner: String?, identity: String, fingerprint: String,
    span: SourceSpan, references: [String], op: String?
  ) {
    var hasher = SHA256()
    hasher.update(identity + "\u{0}" + fingerprint)
    let digest = hasher.finalize()
    let key = (0..<4).map { lane in
      digest[(lane * 8)..<(lane * 8 + 8)].reduce(0) { $0 << 8 | UInt64($1) }
    }
    self.init(
      kind: kind, name: name, owner: owner, identity: identity, fingerprint: fingerprint,
      span: span, references: references, op: op, key: key)
  }
}

/// The components of one source file.
public struct FileSummary: Codable, Hashable, Sendable {
  /// The file's components, in source order.
  public var components: [Component]

  /// Creates a summary from components (for caches of summaries).
  public init(components: [Component]) { self.components = components }

  /// Summarizes a parsed source file.
  public init(_ file: SourceFileSyntax) {
    let visitor = ComponentCollector(viewMode: .sourceAccurate)
    visitor.walk(file)
    components = visitor.components
  }
}

/// Walks a file, collecting components.
final class ComponentCollector: SyntaxVisitor {
  var components: [Component] = []
  private var typePath: [String] = []

  /// Whether a declaration is a component: a member of a type or extension, or
  /// a top-level declaration of the file (inside `#if` too). Declarations inside
  /// bodies and closures are part of the component around them.
  private func isComponent(_ node: some SyntaxProtocol) -> Bool {
    var current = node.parent
    while let syntax = current {
      if syntax.is(MemberBlockItemSyntax.self) || syntax.is(SourceFileSyntax.self) { return true }
      guard
        syntax.is(CodeBlockItemSyntax.self) || syntax.is(CodeBlockItemListSyntax.self)
          || syntax.is(IfConfigClauseSyntax.self) || syntax.is(IfConfigClauseListSyntax.self)
          || syntax.is(IfConfigDeclSyntax.self) || syntax.is(MemberBlockItemListSyntax.self)
      else { return false }
      current = syntax.parent
    }
    return false
  }

  private var qualifier: String { typePath.isEmpty ? "" : typePath.joined(separator: ".") + "." }

  private func add(
    _ kind: Component.Kind, name: String, identity: String, node: some SyntaxProtocol,
    skipping: [Range<AbsolutePosition>] = [], op: String? = nil
  ) {
    let source = Fingerprint.normalize(node, excludingAttributes: ["Memoized"], skipping: skipping)
    components.append(
      Component(
        kind: kind, name: name, owner: typePath.last, identity: identity,
        fingerprint: SHA256.hex(source), span: SourceSpan(of: node, skipping: skipping),
        references: references(in: node, skipping: skipping), op: op))
  }

  private func references(in node: some SyntaxProtocol, skipping: [Range<AbsolutePosition>]) -> [String] {
    var names: Set<String> = []
    for token in node.tokens(viewMode: .sourceAccurate) {
      if skipping.contains(where: { $0.contains(token.position) }) { continue }
      switch token.tokenKind {
      case .identifier(let name):
        if !isDeclaredName(token) { names.insert(name) }
      case .binaryOperator(let name), .prefixOperator(let name), .postfixOperator(let name):
        names.insert(name)
      default: break
      }
    }
    return names.sorted()
  }

  /// Whether an identifier names something being declared or labelled (an
  /// argument label, a parameter, a local binding) rather than referring to a
  /// declaration elsewhere.
  private func isDeclaredName(_ token: TokenSyntax) -> Bool {
    guard let parent = token.parent else { return false }
    if let labeled = parent.as(LabeledExprSyntax.self) { return labeled.label == token }
    if let function = parent.as(FunctionDeclSyntax.self) { return function.name == token }
    return parent.is(FunctionParameterSyntax.self) || parent.is(ClosureParameterSyntax.self)
      || parent.is(ClosureShorthandParameterSyntax.self)
      || parent.is(EnumCaseParameterSyntax.self) || parent.is(IdentifierPatternSyntax.self)
  }

  // MARK: Types

  private func visitType(_ node: some DeclSyntaxProtocol, name: String, members: MemberBlockSyntax)
    -> SyntaxVisitorContinueKind
  {
    if isComponent(node) {
      // A type's own component: member bodies and nested types are separate.
      var skipping: [Range<AbsolutePosition>] = []
      for member in members.members {
        let decl = member.decl
        if OpNaming.typeName(of: decl) != nil {
          skipping.append(member.position..<member.endPosition)
        } else if let body = decl.asProtocol((any WithOptionalCodeBlockSyntax).self)?.body {
          skipping.append(body.position..<body.endPosition)
        } else if let variable = decl.as(VariableDeclSyntax.self) {
          for binding in variable.bindings {
            if let accessors = binding.accessorBlock {
              skipping.append(accessors.position..<accessors.endPosition)
            }
          }
        } else if let subscriptDecl = decl.as(SubscriptDeclSyntax.self),
          let accessors = subscriptDecl.accessorBlock
        {
          skipping.append(accessors.position..<accessors.endPosition)
        }
      }
      add(.type, name: name, identity: "type \(qualifier)\(name)", node: node, skipping: skipping)
    }
    typePath.append(name)
    return .visitChildren
  }

  override func visit(_ node: StructDeclSyntax) -> SyntaxVisitorContinueKind {
    visitType(node, name: node.name.text, members: node.memberBlock)
  }
  override func visitPost(_ node: StructDeclSyntax) { typePath.removeLast() }
  override func visit(_ node: ClassDeclSyntax) -> SyntaxVisitorContinueKind {
    visitType(node, name: node.name.text, members: node.memberBlock)
  }
  override func visitPost(_ node: ClassDeclSyntax) { typePath.removeLast() }
  override func visit(_ node: EnumDeclSyntax) -> SyntaxVisitorContinueKind {
    visitType(node, name: node.name.text, members: node.memberBlock)
  }
  override func visitPost(_ node: EnumDeclSyntax) { typePath.removeLast() }
  override func visit(_ node: ActorDeclSyntax) -> SyntaxVisitorContinueKind {
    visitType(node, name: node.name.text, members: node.memberBlock)
  }
  override func visitPost(_ node: ActorDeclSyntax) { typePath.removeLast() }
  override func visit(_ node: ProtocolDeclSyntax) -> SyntaxVisitorContinueKind {
    visitType(node, name: node.name.text, members: node.memberBlock)
  }
  override func visitPost(_ node: ProtocolDeclSyntax) { typePath.removeLast() }
  override func visit(_ node: ExtensionDeclSyntax) -> SyntaxVisitorContinueKind {
    typePath.append(node.extendedType.trimmedDescription)
    return .visitChildren
  }
  override func visitPost(_ node: ExtensionDeclSyntax) { typePath.removeLast() }

  // MARK: Functions, initializers, subscripts, properties

  override func visit(_ node: FunctionDeclSyntax) -> SyntaxVisitorContinueKind {
    if isComponent(node) {
      let name = OpNaming.name(of: node, typePath: typePath)
      let isMemoized = node.attributes.contains {
        $0.as(AttributeSyntax.self)?.attributeName.trimmedDescription == "Memoized"
      }
      add(.function, name: node.name.text, identity: "func \(name)", node: node, op: isMemoized ? name : nil)
    }
    return .visitChildren
  }

  override func visit(_ node: InitializerDeclSyntax) -> SyntaxVisitorContinueKind {
    if isComponent(node) {
      let labels = node.signature.parameterClause.parameters.map { "\($0.firstName.text):" }.joined()
      add(.initializer, name: "init", identity: "init \(qualifier)init(\(labels))", node: node)
    }
    return .visitChildren
  }

  override func visit(_ node: SubscriptDeclSyntax) -> SyntaxVisitorContinueKind {
    if isComponent(node) {
      add(
        .subscript, name: "subscript",
        identity: "subscript \(qualifier)\(node.parameterClause.trimmedDescription)", node: node)
    }
    return .visitChildren
  }

  override func visit(_ node: VariableDeclSyntax) -> SyntaxVisitorContinueKind {
    if isComponent(node) {
      for binding in node.bindings {
        guard let name = binding.pattern.as(IdentifierPatternSyntax.self)?.identifier.text else {
          continue
        }
        add(.variable, name: name, identity: "var \(qualifier)\(name)", node: node)
      }
    }
    return .visitChildren
  }

  // MARK: Blocks

  override func visit(_ node: MacroExpansionExprSyntax) -> SyntaxVisitorContinueKind {
    if node.macroName.text == "memoized", let name = OpNaming.blockName(of: node) {
      let fingerprint = Fingerprint(of: node)
      components.append(
        Component(
          kind: .block, name: "#memoized(\(name))", owner: typePath.last,
          identity: "#memoized(\"\(name)\")", fingerprint: fingerprint.hex,
          span: SourceSpan(of: node), references: references(in: node, skipping: []),
          op: name))
    }
    return .visitChildren
  }
}
