// Type-checks TypeScript files as tslab's compiler does (tslab 1.0.22: its own TypeScript 5.0 fork,
// @tslab/typescript-for-tslab, and the options of its dist/converter.js, which reads no tsconfig), so that the
// suite catches notebook code that Deno's newer TypeScript accepts and tslab does not.
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
console.log(JSON.stringify({ typescript: ts.version, errors }));
