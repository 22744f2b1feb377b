// Type-checks TypeScript files as tslab's compiler does (tslab 1.0.22: its own TypeScript 5.0 fork,
// @tslab/typescript-for-tslab, and the options of its dist/converter.js, which reads no tsconfig), so that the
// suite catches notebook code that Deno's newer TypeScript accepts and tslab does not.
// It also reports what tslab's compiler accepts but its run fails on: a shorthand property (`{ tokens }`) naming a
// top-level binding of an earlier cell is a ReferenceError in tslab 1.0.22 (its rewrite of earlier cells'
// bindings misses shorthand properties). Cells are found by the "// cell N" lines tools/check_notebooks.ts writes.
// Usage: node tools/tslab_check.cjs <tslab package folder> <file.ts>...
// Prints one JSON line: { typescript: version, errors: [{ file, line, column, code, message }] } (1-based line and
// column). Files are checked together, as one program.
"use strict";
const path = require("node:path");
const fs = require("node:fs");
const { createRequire } = require("node:module");

const [tslabArg, ...files] = process.argv.slice(2);
const tslabDir = tslabArg && path.resolve(tslabArg);
if (!tslabDir || files.length === 0) {
  console.error("usage: node tools/tslab_check.cjs <tslab package folder> <file.ts>...");
  process.exit(2);
}
const ts = createRequire(path.join(tslabDir, "package.json"))("@tslab/typescript-for-tslab");

// tslab's getTranspileTargets(): ES2022 and lib es2022 (no DOM) on Node 18 and newer.
const major = Number(process.versions.node.split(".")[0]);
const [target, lib] = major >= 18
  ? [ts.ScriptTarget.ES2022, "es2022"]
  : major >= 16
  ? [ts.ScriptTarget.ES2021, "es2021"]
  : [ts.ScriptTarget.ES2020, "es2020"];

// tslab's getTypeRoots(): the default roots from the notebook's folder, plus tslab's own @types when none of them
// holds @types/node.
const cwd = path.dirname(path.resolve(files[0]));
const typeRoots = ts.getDefaultTypeRoots(cwd, { directoryExists: ts.sys.directoryExists }) || [];
if (!typeRoots.some((root) => fs.existsSync(path.join(root, "node", "package.json")))) {
  typeRoots.push(path.join(tslabDir, "node_modules", "@types"));
}

const options = {
  module: ts.ModuleKind.ESNext,
  moduleResolution: ts.ModuleResolutionKind.Node10,
  esModuleInterop: true,
  target,
  lib: [`lib.${lib}.d.ts`],
  declaration: true,
  noImplicitUseStrict: true,
  experimentalDecorators: true,
  resolveJsonModule: true,
  jsx: ts.JsxEmit.React,
  typeRoots,
  disableTopLevelAwait: true,
  skipLibCheck: true,
  noEmit: true,
};
const program = ts.createProgram(files.map((f) => path.resolve(f)), options);

// tslab's isTopLevelAwaitDiagnostic(): "await only in async functions" (1308) on an await outside any function or
// class is a top-level await, which tslab runs.
function isTopLevelAwait(d) {
  if (d.code !== 1308 || !d.file) return false;
  const token = ts.findPrecedingToken(d.start + d.length, d.file);
  if (!token || token.kind !== ts.SyntaxKind.AwaitKeyword) return false;
  const scopes = [
    ts.SyntaxKind.ArrowFunction,
    ts.SyntaxKind.FunctionExpression,
    ts.SyntaxKind.FunctionDeclaration,
    ts.SyntaxKind.ClassDeclaration,
    ts.SyntaxKind.ModuleDeclaration,
  ];
  for (let node = token.parent; node && node !== d.file; node = node.parent) {
    if (scopes.includes(node.kind)) return false;
  }
  return true;
}

const wanted = new Set(files.map((f) => path.resolve(f)));
const errors = ts.getPreEmitDiagnostics(program)
  .filter((d) => d.category === ts.DiagnosticCategory.Error)
  // tslab shows errors of the cell only: none without a file (options), none from .d.ts files, no top-level await.
  .filter((d) => d.file && wanted.has(path.resolve(d.file.fileName)) && !isTopLevelAwait(d))
  .map((d) => {
    const pos = d.file && d.start !== undefined ? d.file.getLineAndCharacterOfPosition(d.start) : null;
    return {
      file: path.resolve(d.file.fileName),
      line: pos ? pos.line + 1 : 1,
      column: pos ? pos.character + 1 : 1,
      code: d.code,
      message: ts.flattenDiagnosticMessageText(d.messageText, "\n"),
    };
  });

/** The cell of each line (0-based) of a notebook twin, from its "// cell N" lines. */
function cellsOf(sourceFile) {
  let cell = null;
  return sourceFile.text.split("\n").map((line) => {
    const m = /^\/\/ cell (\d+)$/.exec(line);
    if (m) cell = Number(m[1]);
    return cell;
  });
}

/** The statement directly in the file that declares `node`, if it is a top-level declaration. */
function topLevelStatement(node) {
  let n = node;
  while (n.parent && !ts.isSourceFile(n.parent)) n = n.parent;
  return n.parent && ts.isSourceFile(n.parent) ? n : undefined;
}

const checker = program.getTypeChecker();
for (const sourceFile of program.getSourceFiles()) {
  if (!wanted.has(path.resolve(sourceFile.fileName))) continue;
  const cells = cellsOf(sourceFile);
  const cellAt = (pos) => cells[sourceFile.getLineAndCharacterOfPosition(pos).line];
  const visit = (node) => {
    if (ts.isShorthandPropertyAssignment(node)) {
      const symbol = checker.getShorthandAssignmentValueSymbol(node);
      const declaration = symbol?.declarations?.find((d) => d.getSourceFile() === sourceFile);
      const statement = declaration && topLevelStatement(declaration);
      const used = cellAt(node.getStart(sourceFile));
      if (statement && used !== null && cellAt(statement.getStart(sourceFile)) !== used) {
        const pos = sourceFile.getLineAndCharacterOfPosition(node.getStart(sourceFile));
        const name = node.name.text;
        errors.push({
          file: path.resolve(sourceFile.fileName),
          line: pos.line + 1,
          column: pos.character + 1,
          code: 0,
          message: `{ ${name} } names ${name} of an earlier cell: tslab 1.0.22 runs this as a ReferenceError ` +
            `(it misses shorthand properties when it rewrites earlier cells' names); write { ${name}: ${name} }`,
        });
      }
    }
    ts.forEachChild(node, visit);
  };
  visit(sourceFile);
}
console.log(JSON.stringify({ typescript: ts.version, errors }));
