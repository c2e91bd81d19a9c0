import RecallCodeTable
import SwiftSyntax

/// One piece of a package's code as the build plugin sees it: a function,
/// method, initializer, deinitializer, subscript, property or global, a type
/// (its stored properties, cases and member signatures, without member
/// bodies), an extension's header, a type alias, an operator or precedence
/// group declaration, or a `#memoized` block.
public struct Component: Codable, Hashable, Sendable {
  /// What kind of declaration a component is.
  ///
  /// New kinds are added at the end: the build plugin's cache stores a kind
  /// as its index in `allCases`.
  public enum Kind: String, Codable, Sendable, CaseIterable {
    case function, initializer, `subscript`, variable, type, block
    /// An extension's header: its attributes, extended type, conformances and
    /// `where` clause (its members are components of their own).
    case `extension`
    /// A `typealias`.
    case typeAlias
    /// An `operator` or `precedencegroup` declaration.
    case `operator`
  }

  /// The kind of declaration.
  public var kind: Kind
  /// The name references resolve to: a function's or property's base name,
  /// `init`, `deinit` or `subscript`, a type's, alias's, operator's or
  /// precedence group's name, the extended type's name for an extension (the
  /// last part, as in `Inner` for `Outer.Inner`, and `Array`, `Dictionary` or
  /// `Optional` for `[T]`, `[K: V]` or `T?`), a block's op name. Backticks are
  /// left out: `` `default` `` is `default`.
  public var name: String
  /// The name of the enclosing type or extended type, if any, as ``name``
  /// gives a type's name.
  public var owner: String?
  /// A readable, qualified identity, such as `func Trainer.fit(_:epochs:)`.
  public var identity: String
  /// The component's code fingerprint.
  public var fingerprint: String
  /// Where the component's source lies in its file (see ``DisplaySource``).
  public var span: SourceSpan
  /// What the component's tokens refer to, sorted: the names they mention
  /// (identifiers without backticks, and operators), and markers for what
  /// they reach without naming it (see ``CallGraph`` for what each reaches):
  ///
  /// - `:P`: the type or extension declares conformance to `P` (or inherits
  ///   from the class `P`);
  /// - `@T`: the type alias stands for `T` (each type of a composition);
  /// - `#T`: a type's stored property or case holds a value of type `T`;
  /// - `Self`: the code uses its enclosing type itself (`self`, `Self` or
  ///   `super` other than as the base of a named member, as in `print(self)`,
  ///   `Self(x)`, `super.init()`);
  /// - `.init`: an initializer called without naming its type, `.init(…)`;
  /// - `[]`: a subscript, `x[…]`;
  /// - `()`: a call, which may call a value's `callAsFunction`.
  ///
  /// String interpolation mentions `appendInterpolation`, a `case` or `catch`
  /// pattern mentions `~=`, and `$x` and `_x` (a property wrapper's projected
  /// value and storage) mention `x` too.
  public var references: [String]
  /// The op name, for `@Memoized` functions and `#memoized` blocks.
  public var op: String?
  /// What a `@Memoized` function's declaration says of its op, besides its
  /// name.
  public var declaration: OpDeclaration?
  /// The first 256 bits of SHA-256 of the identity and the fingerprint, as four
  /// words: what op versions combine.
  public var key: [UInt64]

  /// Creates a component whose key was computed before (read from a cache).
  public init(
    kind: Kind, name: String, owner: String?, identity: String, fingerprint: String,
    span: SourceSpan, references: [String], op: String?, declaration: OpDeclaration? = nil,
    key: [UInt64]
  ) {
    self.declaration = declaration
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
    span: SourceSpan, references: [String], op: String?, declaration: OpDeclaration? = nil
  ) {
    var hasher = SHA256()
    hasher.update(identity + "\u{0}" + fingerprint)
    let digest = hasher.finalize()
    let key = (0..<4).map { lane in
      digest[(lane * 8)..<(lane * 8 + 8)].reduce(0) { $0 << 8 | UInt64($1) }
    }
    self.init(
      kind: kind, name: name, owner: owner, identity: identity, fingerprint: fingerprint,
      span: span, references: references, op: op, declaration: declaration, key: key)
  }
}

/// What a `@Memoized` function's declaration says of its op, as its macro
/// reads it: for the build plugin's version file.
public struct OpDeclaration: Codable, Hashable, Sendable {
  /// The name with parameter types (``OpNaming/typedName(of:typePath:)``).
  public var typedName: String
  /// The parameters' names, in order (``OpNaming/parameterName(_:)``).
  public var parameters: [String]
  /// The parameters listed in `@Memoized(addedParameters:)`, in order.
  public var addedParameters: [String]
  /// `@Memoized(version:)`'s text (``OpNaming/manualVersion(of:)``).
  public var manualVersion: String?

  /// Creates a declaration from its fields (for caches of summaries).
  public init(
    typedName: String, parameters: [String], addedParameters: [String], manualVersion: String?
  ) {
    self.typedName = typedName
    self.parameters = parameters
    self.addedParameters = addedParameters
    self.manualVersion = manualVersion
  }

  /// Reads a memoized function's declaration.
  public init(_ function: FunctionDeclSyntax, typePath: [String]) {
    typedName = OpNaming.typedName(of: function, typePath: typePath)
    parameters = function.signature.parameterClause.parameters.map(OpNaming.parameterName)
    let added = OpNaming.addedParameters(of: function)
    addedParameters = parameters.filter(added.contains)
    manualVersion = OpNaming.manualVersion(of: function)
  }
}

/// The components of one source file.
public struct FileSummary: Codable, Hashable, Sendable {
  /// The file's components, in source order.
  public var components: [Component]
  /// The modules the file imports, sorted (`import Numerics`, `import struct
  /// GRDB.Row` and `@testable import X` each name their module once).
  public var imports: [String]
  /// Where the file's top-level items begin, then where the last one ends,
  /// as UTF-8 offsets; empty when the file has syntax errors. An edit inside
  /// one item is summarized by parsing that item alone
  /// (``updated(from:to:)``).
  public var items: [Int]

  /// Creates a summary from components (for caches of summaries).
  public init(components: [Component], imports: [String] = [], items: [Int] = []) {
    self.components = components
    self.imports = imports
    self.items = items
  }

  /// Summarizes a parsed source file.
  public init(_ file: SourceFileSyntax) {
    let visitor = ComponentCollector(viewMode: .sourceAccurate)
    visitor.walk(file)
    components = visitor.components
    imports = Set(visitor.imports).sorted()
    items = Self.itemBoundaries(of: file)
  }
}

/// Walks a file, collecting components.
final class ComponentCollector: SyntaxVisitor {
  var components: [Component] = []
  /// The modules the file's `import` declarations name (inside `#if` too).
  var imports: [String] = []
  /// The enclosing types and extended types as written, outermost first.
  private var typePath: [String] = []
  /// Their names as components name them (``Component/owner``).
  private var ownerPath: [String] = []

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
    skipping: [Range<AbsolutePosition>] = [], data: [Range<AbsolutePosition>] = [],
    extraReferences: [String] = [], op: String? = nil, declaration: OpDeclaration? = nil
  ) {
    let source = Fingerprint.normalize(node, excludingAttributes: ["Memoized"], skipping: skipping)
    components.append(
      Component(
        kind: kind, name: Self.plainName(name), owner: ownerPath.last, identity: identity,
        fingerprint: SHA256.hex(source), span: SourceSpan(of: node, skipping: skipping),
        references: references(in: node, skipping: skipping, data: data, adding: extraReferences),
        op: op, declaration: declaration))
  }

  /// The references of a node's tokens outside `skipping`; a name within
  /// `data` (the types of a type's stored properties and associated values)
  /// is also marked `#`.
  private func references(
    in node: some SyntaxProtocol, skipping: [Range<AbsolutePosition>],
    data: [Range<AbsolutePosition>] = [], adding extra: [String] = []
  ) -> [String] {
    var names = Set(extra)
    for token in node.tokens(viewMode: .sourceAccurate) {
      if skipping.contains(where: { $0.contains(token.position) }) { continue }
      switch token.tokenKind {
      case .identifier(let text):
        if isDeclaredName(token) { continue }
        let name = Self.plainName(text)
        if let conformance = Self.conformance(named: token) {
          names.insert(":" + conformance)
          continue
        }
        names.insert(name)
        if data.contains(where: { $0.contains(token.position) }) { names.insert("#" + name) }
        if name.count > 1, name.first == "$" || name.first == "_" {
          names.insert(String(name.dropFirst()))
        }
      case .binaryOperator(let name), .prefixOperator(let name), .postfixOperator(let name):
        names.insert(name)
      case .keyword(.self), .keyword(.Self), .keyword(.super):
        if Self.usesEnclosingType(token) { names.insert("Self") }
      case .keyword(.`init`):
        if token.parent?.parent?.is(MemberAccessExprSyntax.self) == true { names.insert(".init") }
      case .keyword(.case), .keyword(.catch):
        if token.parent?.is(EnumCaseDeclSyntax.self) != true { names.insert("~=") }
      case .leftSquare:
        if token.parent?.is(SubscriptCallExprSyntax.self) == true
          || token.parent?.is(KeyPathSubscriptComponentSyntax.self) == true
        {
          names.insert("[]")
        }
      case .leftParen:
        if token.parent?.is(FunctionCallExprSyntax.self) == true { names.insert("()") }
      case .leftBrace:
        // A trailing closure is a call too, `value { … }`.
        if let closure = token.parent?.as(ClosureExprSyntax.self),
          closure.parent?.is(FunctionCallExprSyntax.self) == true
            || closure.parent?.is(MultipleTrailingClosureElementSyntax.self) == true
        {
          names.insert("()")
        }
      case .backslash:
        if token.parent?.is(ExpressionSegmentSyntax.self) == true {
          names.insert("appendInterpolation")
        }
      default: break
      }
    }
    return names.sorted()
  }

  /// Whether an identifier names something being declared or labelled (an
  /// argument label, a parameter, a local binding, a type, a case, a generic
  /// parameter) rather than referring to a declaration elsewhere.
  private func isDeclaredName(_ token: TokenSyntax) -> Bool {
    guard let parent = token.parent else { return false }
    if let labeled = parent.as(LabeledExprSyntax.self) { return labeled.label == token }
    if let decl = parent.asProtocol((any NamedDeclSyntax).self) { return decl.name == token }
    return parent.is(FunctionParameterSyntax.self) || parent.is(ClosureParameterSyntax.self)
      || parent.is(ClosureShorthandParameterSyntax.self)
      || parent.is(EnumCaseParameterSyntax.self) || parent.is(IdentifierPatternSyntax.self)
      || parent.is(EnumCaseElementSyntax.self) || parent.is(GenericParameterSyntax.self)
  }

  /// The name a type declaration or extension declares conformance to (or
  /// inherits from), when `token` is that name in its inheritance clause, as
  /// `P` in `struct S: P`, `Bar` in `extension S: Foo.Bar`.
  private static func conformance(named token: TokenSyntax) -> String? {
    guard let type = token.parent,
      type.as(IdentifierTypeSyntax.self)?.name == token
        || type.as(MemberTypeSyntax.self)?.name == token
    else { return nil }
    var current = type.parent
    while let syntax = current,
      syntax.is(AttributedTypeSyntax.self) || syntax.is(CompositionTypeElementSyntax.self)
        || syntax.is(CompositionTypeElementListSyntax.self) || syntax.is(CompositionTypeSyntax.self)
    {
      current = syntax.parent
    }
    guard let inherited = current?.as(InheritedTypeSyntax.self),
      let clause = inherited.parent?.parent?.as(InheritanceClauseSyntax.self),
      let decl = clause.parent,
      decl.is(StructDeclSyntax.self) || decl.is(ClassDeclSyntax.self)
        || decl.is(EnumDeclSyntax.self)
        || decl.is(ActorDeclSyntax.self) || decl.is(ProtocolDeclSyntax.self)
        || decl.is(ExtensionDeclSyntax.self)
    else { return nil }
    return plainName(token.text)
  }

  /// Whether a `self`, `Self` or `super` token stands for the enclosing type
  /// itself, rather than being the base of a named member (`self.rate`,
  /// `Self.zero`, `super.fit()`, which reach the member by its name) or a
  /// metatype (`Int.self`).
  private static func usesEnclosingType(_ token: TokenSyntax) -> Bool {
    guard let base = token.parent else { return true }
    if let access = base.parent?.as(MemberAccessExprSyntax.self) {
      if access.declName.id == base.id { return false }
      if access.base?.id == base.id, case .identifier = access.declName.baseName.tokenKind {
        return false
      }
    }
    if let member = base.parent?.as(MemberTypeSyntax.self), member.baseType.id == base.id {
      return false
    }
    return true
  }

  /// An identifier without its backticks.
  static func plainName(_ text: String) -> String {
    text.first == "`" ? text.filter { $0 != "`" } : text
  }

  /// The names a type is reached by: the last part of a qualified name,
  /// without generic arguments; `Array`, `Dictionary` and `Optional` for the
  /// sugared forms; each type of a composition; none for function and tuple
  /// types.
  static func baseNames(of type: TypeSyntax) -> [String] {
    if let type = type.as(IdentifierTypeSyntax.self) { return [plainName(type.name.text)] }
    if let type = type.as(MemberTypeSyntax.self) { return [plainName(type.name.text)] }
    if type.is(ArrayTypeSyntax.self) { return ["Array"] }
    if type.is(DictionaryTypeSyntax.self) { return ["Dictionary"] }
    if type.is(OptionalTypeSyntax.self) || type.is(ImplicitlyUnwrappedOptionalTypeSyntax.self) {
      return ["Optional"]
    }
    if let type = type.as(AttributedTypeSyntax.self) { return baseNames(of: type.baseType) }
    if let type = type.as(SomeOrAnyTypeSyntax.self) { return baseNames(of: type.constraint) }
    if let type = type.as(CompositionTypeSyntax.self) {
      return type.elements.flatMap { baseNames(of: $0.type) }
    }
    return []
  }

  // MARK: Types

  private func visitType(_ node: some DeclSyntaxProtocol, name: String, members: MemberBlockSyntax)
    -> SyntaxVisitorContinueKind
  {
    if isComponent(node) {
      // A type's own component: member bodies and nested types are separate.
      var skipping: [Range<AbsolutePosition>] = []
      var data: [Range<AbsolutePosition>] = []
      for member in members.members where !node.is(ProtocolDeclSyntax.self) {
        data += Self.storedTypes(of: member.decl)
      }
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
      add(
        .type, name: name, identity: "type \(qualifier)\(name)", node: node, skipping: skipping,
        data: data)
    }
    typePath.append(name)
    ownerPath.append(Self.plainName(name))
    return .visitChildren
  }

  /// Where a member declares the types of the values an instance holds: the
  /// type annotations of stored instance properties, and the associated
  /// values of cases.
  private static func storedTypes(of decl: DeclSyntax) -> [Range<AbsolutePosition>] {
    if let cases = decl.as(EnumCaseDeclSyntax.self) {
      return cases.elements.compactMap(\.parameterClause).map { $0.position..<$0.endPosition }
    }
    guard let variable = decl.as(VariableDeclSyntax.self),
      !variable.modifiers.contains(where: {
        $0.name.tokenKind == .keyword(.static) || $0.name.tokenKind == .keyword(.class)
      })
    else { return [] }
    return variable.bindings.compactMap { binding in
      guard let annotation = binding.typeAnnotation else { return nil }
      // Stored: no accessors, or only observers.
      switch binding.accessorBlock?.accessors {
      case .getter: return nil
      case .accessors(let accessors)
      where accessors.contains(where: {
        $0.accessorSpecifier.tokenKind != .keyword(.willSet)
          && $0.accessorSpecifier.tokenKind != .keyword(.didSet)
      }):
        return nil
      default: return annotation.position..<annotation.endPosition
      }
    }
  }

  private func leaveType() {
    typePath.removeLast()
    ownerPath.removeLast()
  }

  override func visit(_ node: ImportDeclSyntax) -> SyntaxVisitorContinueKind {
    if let module = node.path.first?.name.text { imports.append(module) }
    return .skipChildren
  }

  override func visit(_ node: StructDeclSyntax) -> SyntaxVisitorContinueKind {
    visitType(node, name: node.name.text, members: node.memberBlock)
  }
  override func visitPost(_ node: StructDeclSyntax) { leaveType() }
  override func visit(_ node: ClassDeclSyntax) -> SyntaxVisitorContinueKind {
    visitType(node, name: node.name.text, members: node.memberBlock)
  }
  override func visitPost(_ node: ClassDeclSyntax) { leaveType() }
  override func visit(_ node: EnumDeclSyntax) -> SyntaxVisitorContinueKind {
    visitType(node, name: node.name.text, members: node.memberBlock)
  }
  override func visitPost(_ node: EnumDeclSyntax) { leaveType() }
  override func visit(_ node: ActorDeclSyntax) -> SyntaxVisitorContinueKind {
    visitType(node, name: node.name.text, members: node.memberBlock)
  }
  override func visitPost(_ node: ActorDeclSyntax) { leaveType() }
  override func visit(_ node: ProtocolDeclSyntax) -> SyntaxVisitorContinueKind {
    visitType(node, name: node.name.text, members: node.memberBlock)
  }
  override func visitPost(_ node: ProtocolDeclSyntax) { leaveType() }

  override func visit(_ node: ExtensionDeclSyntax) -> SyntaxVisitorContinueKind {
    let written = node.extendedType.trimmedDescription
    let name = Self.baseNames(of: node.extendedType).first ?? written
    if isComponent(node) {
      // The header only (conformances, `where` clause): the members are
      // components of their own.
      let members = node.memberBlock.members
      let conformances = node.inheritanceClause.map {
        ": " + $0.inheritedTypes.map(\.type.trimmedDescription).joined(separator: ", ")
      }
      add(
        .extension, name: name, identity: "extension \(written)\(conformances ?? "")", node: node,
        skipping: members.isEmpty ? [] : [members.position..<members.endPosition])
    }
    typePath.append(written)
    ownerPath.append(name)
    return .visitChildren
  }
  override func visitPost(_ node: ExtensionDeclSyntax) { leaveType() }

  override func visit(_ node: TypeAliasDeclSyntax) -> SyntaxVisitorContinueKind {
    if isComponent(node) {
      add(
        .typeAlias, name: node.name.text, identity: "typealias \(qualifier)\(node.name.text)",
        node: node,
        extraReferences: Self.baseNames(of: node.initializer.value).map { "@" + $0 })
    }
    return .visitChildren
  }

  override func visit(_ node: OperatorDeclSyntax) -> SyntaxVisitorContinueKind {
    if isComponent(node) {
      add(
        .operator, name: node.name.text,
        identity: "\(node.fixitySpecifier.text) operator \(node.name.text)", node: node)
    }
    return .visitChildren
  }

  override func visit(_ node: PrecedenceGroupDeclSyntax) -> SyntaxVisitorContinueKind {
    if isComponent(node) {
      add(
        .operator, name: node.name.text, identity: "precedencegroup \(node.name.text)", node: node)
    }
    return .visitChildren
  }

  // MARK: Functions, initializers, subscripts, properties

  override func visit(_ node: FunctionDeclSyntax) -> SyntaxVisitorContinueKind {
    if isComponent(node) {
      let name = OpNaming.name(of: node, typePath: typePath)
      let isMemoized = node.attributes.contains {
        $0.as(AttributeSyntax.self)?.attributeName.trimmedDescription == "Memoized"
      }
      add(
        .function, name: node.name.text, identity: "func \(name)", node: node,
        op: isMemoized ? name : nil,
        declaration: isMemoized ? OpDeclaration(node, typePath: typePath) : nil)
    }
    return .visitChildren
  }

  override func visit(_ node: InitializerDeclSyntax) -> SyntaxVisitorContinueKind {
    if isComponent(node) {
      let labels = node.signature.parameterClause.parameters.map { "\($0.firstName.text):" }
        .joined()
      add(.initializer, name: "init", identity: "init \(qualifier)init(\(labels))", node: node)
    }
    return .visitChildren
  }

  override func visit(_ node: DeinitializerDeclSyntax) -> SyntaxVisitorContinueKind {
    if isComponent(node) {
      add(.function, name: "deinit", identity: "deinit \(qualifier)deinit", node: node)
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
          kind: .block, name: "#memoized(\(name))", owner: ownerPath.last,
          identity: CodeTable.blockIdentity(name), fingerprint: fingerprint.hex,
          span: SourceSpan(of: node), references: references(in: node, skipping: []),
          op: name))
    }
    return .visitChildren
  }
}
