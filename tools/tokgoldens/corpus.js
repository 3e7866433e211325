// corpus.js writes gocore/tokenizer/testdata/corpus.json: the strings the
// tokenizer goldens are computed on. It is deterministic (no clock, a fixed
// pseudo-random generator), so rerunning it reproduces the committed file.
//
//   node tools/tokgoldens/corpus.js [out.json]
'use strict';
const fs = require('fs');
const path = require('path');

const base = [
  // empty and tiny
  '', ' ', '  ', 'a', 'A', '0', '.', '\n', '\t', '\r\n', '\r', '\v', '\f',
  // whitespace runs and the \s+(?!\S) rule
  'a b', 'a  b', 'a   b', 'a    b', 'a\tb', 'a\t\tb', 'a \tb', 'a\t b', 'hello world  ', '   leading', 'trailing   ',
  '  two leading', '\n\n  0.', '\n\n  x', 'x\n\n  ', ' \n foo', '\n  foo', 'a\n\nb', 'a\n\n\nb', 'a\r\nb', 'a\r\n\r\nb',
  'a \r\n b', 'a\n \n b', '    \n', '\t\n\t', 'line1\nline2\nline3', 'end with newline\n', 'end with crlf\r\n',
  ' \t \n \t ', '\u00a0\u00a0x', 'a\u00a0b', 'a\u3000b', '\u3000\u3000テスト', 'a\u2028b', 'a\u2029b', 'a\u0085b',
  'a\u0085\u0085 b', 'a\ufeffb', '\ufeffBOM at start', 'a\u200bb', 'a\u2003\u2003b', 'x\u1680y', 'x\u202fy', 'x\u205fy',
  'a\vb', 'a\fb', 'a\v\vb', 'a \v b', '\x1c\x1d\x1e\x1f', 'a\x1fb', 'tab\tseparated\tvalues\t1\t2',
  // contractions, both cases
  "don't", "DON'T", "I'm", "I'M", "you're", "YOU'RE", "we've", "WE'VE", "she'll", "SHE'LL", "he'd", "HE'D", "it's",
  "IT'S", "It'S", "'s", "'sup", "'Ll", "'lL", "'re'", "''s", "rock 'n' roll", "O'Neil's", "'tis", "y'all'd've",
  "it\u017fs", "'\u017f", "can't won't shan't", "l'homme d'état", "dog's dogs' dogs's",
  // digits
  '1', '12', '123', '1234', '12345', '1234567890', '3.14159', '1,000,000', '2026-11-27', '0x1F', '1e-10', 'v1.2.3',
  'abc123def', '١٢٣٤٥', '一二三', '½ ¾ ⅓', '²³', 'Ⅻ', '০১২৩', '१२३४', 'x² + y² = z²', '99 bottles', 'port 8080',
  // punctuation runs
  '!!!', '???', '...', '…', '---', '===', '<<>>', '!?!?', 'a, b; c: d.', '(a)', '[b]', '{c}', '"quoted"', "'single'",
  '```', '```bash', '```go\nfunc main() {}\n```', '~~~', '#!/bin/sh', '// comment', '/* block */', '<!-- html -->',
  'a?.b ?? \'x\'', 'x => y', 'a != b', 'a == b', 'i++', 'i += 1', '->', '::', '@@', '$$', '%%', '^^', '&&', '||',
  '.\n', '!\n\n', ' !\n', '.\r\n', ';\r\n\r\n', ' ...\n', ' ."\n',
  // code
  'func main() {\n\tfmt.Println("hello")\n}\n', 'if err != nil {\n\t\treturn fmt.Errorf("x: %w", err)\n\t}',
  'for i := 0; i < n; i++ {', 'def f(x):\n    return x * 2\n', 'class A:\n    pass', 'const x = { a: 1, b: [2, 3] };',
  '#include <stdio.h>\nint main(void) { return 0; }', 'SELECT * FROM t WHERE id = 42;', '<div class="a">b</div>',
  '{"key": "value", "n": 1}', 'x = y if z else w', '    indented four', '\t\tindented two tabs', 'a\t\t\t\tb',
  'snake_case_name', 'camelCaseName', 'PascalCaseName', 'SCREAMING_CASE', 'kebab-case-name', 'path/to/file.go',
  'https://example.com/a?b=c&d=e#f', 'user@example.com', 'C:\\Windows\\System32', '$HOME/.cache', '~/go/pkg/mod',
  // prose
  'The quick brown fox jumps over the lazy dog.', 'Hello, world!', 'Hello World', 'hello world', 'HELLO WORLD',
  'It was the best of times, it was the worst of times.', 'Mr. Smith went to Washington.', 'e.g. i.e. etc.',
  // Latin with diacritics, NFC/NFD
  'café', 'cafe\u0301', 'naïve', 'nai\u0308ve', 'Å', 'A\u030a', '\u212b', 'Ω', '\u2126', 'ﬁ', 'ﬀ', 'ǅ', 'ß', 'ẞ',
  'e\u0301\u0301', 'a\u0323\u0302', 'a\u0302\u0323', 'o\u0308\u0304', 'ñ', 'n\u0303', 'Z\u0327\u030c', '\u0301start',
  'soubor', ' soubor', ' všechny', 'Příliš žluťoučký kůň úpěl ďábelské ódy.', 'Zażółć gęślą jaźń.', 'Ærøskøbing',
  'İstanbul', 'ıi', 'Straße', 'Ελληνικά γράμματα', 'Привет, мир!', 'Съешь же ещё этих мягких французских булок.',
  // Hangul jamo (NFC composes)
  '\u1100\u1161', '\u1100\u1161\u11a8', '한국어', '\u1112\u1161\u11ab\u1100\u1173\u11af',
  // CJK and other scripts
  '你好，世界！', '日本語のテキストです。', 'カタカナ', 'ひらがな', '中文字符和English混合', '漢字かな交じり文',
  'ภาษาไทย', 'हिन्दी भाषा', 'বাংলা', 'தமிழ்', 'ქართული', 'Հայերեն', 'አማርኛ', 'ᠮᠣᠩᠭᠣᠯ',
  // RTL
  'مرحبا بالعالم', 'שלום עולם', 'العربية 123 نص', 'עברית\u200fטקסט', 'abc \u202eRTL override\u202c def', 'فارسی',
  // emoji
  '😀', '😀😀😀', '👍🏽', '👨‍👩‍👧‍👦', '🏳️‍🌈', '🇫🇷🇩🇪', '1️⃣', '❤️', 'a😀b', ' 😀 ', '🤖 robot', '🧑🏿‍💻',
  // invalid-looking but valid UTF-8, rare planes
  '\ufffd', '\ufffd\ufffd', '\u{10ffff}', '\u{e000}', '\u{f0000}', '𝔘𝔫𝔦𝔠𝔬𝔡𝔢', '𓀀', '\u{1d11e}', 'Ā\u0100',
  '\u0000', 'a\u0000b', '\u0001\u0002\u0003', '\u007f', '\u0080\u0081', '\u00ad', 'ÿ', '\u0100\u0101\u0120\u0121',
  'Ġ', 'Ċ', 'ĠĠ', '▁', '▁▁', 'a▁b', ' ▁ ', '<0x0A>', '<0x00>', '<unk>', '<s>', '</s>',
  // long repeats
  'a'.repeat(100), 'ab'.repeat(60), ' '.repeat(100), '\n'.repeat(50), '\t'.repeat(40), '!'.repeat(70), '0'.repeat(40),
  'aaaa', 'aaaaa', '````````', '.'.repeat(33), '-'.repeat(80), '='.repeat(64), 'ha'.repeat(30), '😀'.repeat(20),
  ' \n'.repeat(20), '\r\n'.repeat(20), 'x '.repeat(50), 'supercalifragilisticexpialidocious',
  'pneumonoultramicroscopicsilicovolcanoconiosis', 'Donaudampfschifffahrtsgesellschaftskapitän',
  // combining marks
  'e' + '\u0301'.repeat(35), 'a' + '\u0301'.repeat(31), 'a' + '\u0316\u0301'.repeat(20), '\u0301'.repeat(40),
  'Z̴̧̛͓̟a̶̛͔l̵̨̛g̷̢̛o̴̧̕', 'x\u034fy', 'e\u034f\u0301',
];

// Special tokens of the three models and the tiny tokenizer, written literally.
const specials = [
  '<|begin_of_text|>', '<|end_of_text|>', '<|eot_id|>', '<|start_header_id|>', '<|end_header_id|>',
  '<|reserved_special_token_0|>', '<|reserved_special_token_250|>', '<|pad|>',
  '<|endoftext|>', '<|im_start|>', '<|im_end|>', '<think>', '</think>', '<tool_call>', '<|fim_prefix|>',
  '<bos>', '<eos>', '<pad>', '<start_of_turn>', '<end_of_turn>', '<unused0>', '<unused99>', '<mask>',
  '[multimodal]', '<image_soft_token>', '<start_of_image>', '<h1>', '</table>',
];
const withSpecials = [];
for (const s of specials) {
  withSpecials.push(s, s + 'Hello', 'Hello' + s, ' ' + s + ' ', s + s, s + '\n', '!' + s, s + ' world', 'a' + s + 'b');
}
withSpecials.push(
  '<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nHi there<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n',
  '<|im_start|>user\nWhat is 2+2?<|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\n4<|im_end|>',
  '<bos><start_of_turn>user\nHello!<end_of_turn>\n<start_of_turn>model\n',
  '<bos><bos>text', '<|begin_of_text|><|begin_of_text|>x', '<|im_start|', '<|im_end', '<|eot_id', '<think', '<bo', '<<bos>>',
  '<|<|eot_id|>|>', '\n\n\n', '\n\n\n\n', '\t\t\t', '\n\t\n', '\n \n', '<unused6241>', '<unused6242>',
);
// Added-token options (lstrip, rstrip, single_word, normalized) of the
// variant tokenizers, and overlapping matches after stripping.
withSpecials.push(
  '<mask>  x', 'a  <mask>  b', 'foo  <mask>', '   <mask>x  y', '<s>   z', 'a </s>', '  </s>', 'a\t\n</s>', '<mask>\n\n',
  'foo', ' foo ', 'afoo', 'foo1', 'foo.', '1foo', 'foo foo', 'foofoo', '\u00e9foo', 'foo\u00e9', 'ab', ' ab ', 'xab', 'ab1',
  'A\u030aB', '\u00c5B', '\u212bB', '\u00c5 B', '<mask><mask>', '<mask>x<mask>', '<s><s>', '\u3000<mask>\u3000',
);

// Variants of the base strings that move them next to other text.
const variants = [];
for (const s of base) {
  if (s.length > 0 && s.length < 60) {
    variants.push(' ' + s, s + ' ', 'x' + s + 'y');
  }
}

// Deterministic pseudo-random strings over interesting code point ranges.
let state = 0x2545F491;
function rnd(n) {
  state ^= state << 13; state >>>= 0;
  state ^= state >>> 17;
  state ^= state << 5; state >>>= 0;
  return state % n;
}
const ranges = [
  [0x20, 0x7e], [0x20, 0x7e], [0x20, 0x7e], [0x09, 0x0d], [0x00, 0x1f], [0x80, 0xff], [0x100, 0x17f],
  [0x300, 0x36f], [0x370, 0x3ff], [0x400, 0x4ff], [0x590, 0x6ff], [0x900, 0x97f], [0x1100, 0x11ff],
  [0x2000, 0x206f], [0x3000, 0x30ff], [0x4e00, 0x4fff], [0xac00, 0xad00], [0xfe00, 0xfeff], [0x1f300, 0x1f6ff],
  [0x1d400, 0x1d4ff], [0x10000, 0x1007f],
];
const fuzz = [];
for (let k = 0; k < 700; k++) {
  const len = 1 + rnd(24);
  let s = '';
  for (let i = 0; i < len; i++) {
    const [lo, hi] = ranges[rnd(ranges.length)];
    let cp = lo + rnd(hi - lo + 1);
    if (cp >= 0xd800 && cp <= 0xdfff) cp = 0x41;
    s += String.fromCodePoint(cp);
    if (rnd(5) === 0) s += ' ';
  }
  fuzz.push(s);
}

// Pseudo-random mixes of corpus fragments, separators and special tokens.
const seps = [' ', '  ', '\n', '\r\n', '\t', '', '\u00a0', '\u3000', '.', ', ', "'", '\n\n', ' \n', '\u0301', '\u200d'];
for (let k = 0; k < 700; k++) {
  const n = 1 + rnd(6);
  let s = '';
  for (let i = 0; i < n; i++) {
    const p = rnd(10);
    let frag;
    if (p < 6) frag = base[rnd(base.length)];
    else if (p < 8) frag = specials[rnd(specials.length)];
    else frag = fuzz[rnd(fuzz.length)];
    if (frag.length > 40) frag = frag.slice(0, 40);
    s += frag + seps[rnd(seps.length)];
  }
  fuzz.push(s.replace(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, '?'));
}

// Lines of Go source (BSD licence) with their tabs.
const goFiles = ['src/fmt/print.go', 'src/strings/strings.go', 'src/unicode/utf8/utf8.go'];
const goroot = process.env.GOROOT || '/usr/local/go';
const codeLines = [];
for (const f of goFiles) {
  const lines = fs.readFileSync(path.join(goroot, f), 'utf8').split('\n');
  for (let i = 20; i < lines.length && codeLines.length < 60 * (goFiles.indexOf(f) + 1); i += 7) {
    codeLines.push(lines.slice(i, i + 1 + (i % 3)).join('\n'));
  }
}

const all = [...base, ...withSpecials, ...variants, ...fuzz, ...codeLines];
const seen = new Set();
const corpus = all.filter((s) => (seen.has(s) ? false : (seen.add(s), true)));
const out = process.argv[2] || path.join(__dirname, '../../gocore/tokenizer/testdata/corpus.json');
fs.writeFileSync(out, '[\n' + corpus.map((s) => JSON.stringify(s)).join(',\n') + '\n]\n');
console.log(`${corpus.length} strings -> ${out}`);
