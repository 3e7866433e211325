// benchtext.js writes gocore/tokenizer/testdata/bench.txt.gz: about 1 MB of
// mixed prose, HTML and Go code (with its tabs and some non-ASCII text),
// taken from the Go distribution (BSD licence) in a fixed order and cut at
// the last line break before 1,000,000 bytes.
//
//   node tools/tokgoldens/benchtext.js [out.txt.gz]
'use strict';
const fs = require('fs');
const path = require('path');
const zlib = require('zlib');

const goroot = process.env.GOROOT || '/usr/local/go';
const files = [
  'doc/go_spec.html',
  'src/strings/strings_test.go',
  'doc/go_mem.html',
  'src/unicode/utf8/utf8_test.go',
  'src/fmt/print.go',
  'src/text/tabwriter/tabwriter_test.go',
  'src/net/http/server.go',
  'src/strings/example_test.go',
  'src/sort/sort.go',
  'src/html/template/exec_test.go',
  'src/bufio/bufio.go',
  'src/encoding/json/decode.go',
  'src/runtime/string_test.go',
  'src/net/url/url.go',
  'src/go/ast/ast.go',
  'src/time/format.go',
  'src/regexp/syntax/parse.go',
  'src/math/big/nat.go',
  'src/os/file.go',
  'src/crypto/tls/conn.go',
];
const limit = 1000000;
let text = '';
for (const f of files) {
  if (Buffer.byteLength(text) >= limit) break;
  text += fs.readFileSync(path.join(goroot, f), 'utf8') + '\n';
}
let buf = Buffer.from(text, 'utf8');
if (buf.length < limit) throw new Error(`only ${buf.length} bytes of text`);
buf = buf.subarray(0, buf.lastIndexOf(10, limit - 1) + 1);
const out = process.argv[2] || path.join(__dirname, '../../gocore/tokenizer/testdata/bench.txt.gz');
fs.writeFileSync(out, zlib.gzipSync(buf, { level: 9, mtime: 0 }));
console.log(`${buf.length} bytes from ${goroot} (${require('child_process').execSync(goroot + '/bin/go version').toString().trim()}) -> ${out}`);
