// variants.js builds small tokenizer.json files that exercise the components
// and options the three real files do not use (lstrip/rstrip/single_word/
// normalized added tokens, every Split behaviour, invert, Prepend/Strip
// normalizers, unknown tokens with and without fusing, byte fallback off,
// Strip decoder, no decoder, suffix templates, ByteLevel add_prefix_space).
// gen.js writes them under gocore/tokenizer/testdata/variants/ and computes
// their goldens with the reference.
'use strict';
const fs = require('fs');
const path = require('path');

function tinyDoc(root) {
  return JSON.parse(fs.readFileSync(path.join(root, 'gocore/tokenizer/tiny/tokenizer.json'), 'utf8'));
}

function added(id, content, opts) {
  return Object.assign({ id, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: false }, opts);
}

function template(first, last) {
  const single = [{ SpecialToken: { id: first.content, type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }];
  const special = { [first.content]: { id: first.content, ids: [first.id], tokens: [first.content] } };
  if (last) {
    single.push({ SpecialToken: { id: last.content, type_id: 0 } });
    special[last.content] = { id: last.content, ids: [last.id], tokens: [last.content] };
  }
  return { type: 'TemplateProcessing', single, pair: single, special_tokens: special };
}

// A byte-level variant of the tiny tokenizer with unusual added tokens.
function addedVariant(root) {
  const d = tinyDoc(root);
  const extra = [
    added(512, '<mask>', { lstrip: true, rstrip: true, special: true }),
    added(513, 'foo', { single_word: true }),
    added(514, '\u00c5B', { normalized: true }),
    added(515, '<s>', { rstrip: true, special: true }),
    added(516, '</s>', { lstrip: true }),
    added(517, 'ab', { normalized: true, single_word: true }),
    added(518, '<mask>x', { special: true }),
    added(519, '  ', {}),
  ];
  d.added_tokens.push(...extra);
  d.normalizer = { type: 'NFC' };
  d.pre_tokenizer.pretokenizers[1].add_prefix_space = true;
  d.post_processor = { type: 'Sequence', processors: [{ type: 'ByteLevel', add_prefix_space: true, trim_offsets: false, use_regex: true },
    template(extra[3], d.added_tokens[1])] };
  return d;
}

// A character-level BPE over U+2581-marked words (SentencePiece style).
function charDoc() {
  const vocab = { '<unk>': 0, '<s>': 1, '</s>': 2 };
  for (let b = 0; b < 256; b++) vocab['<0x' + b.toString(16).toUpperCase().padStart(2, '0') + '>'] = 3 + b;
  const chars = '\u2581abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.,!?\'"-:;()\u00e9\u4e16\n';
  for (const c of chars) vocab[c] = Object.keys(vocab).length;
  const pairs = [['\u2581', 't'], ['h', 'e'], ['\u2581t', 'he'], ['i', 'n'], ['\u2581', 'a'], ['e', 'r'], ['\u2581', 'w'],
    ['o', 'r'], ['\u2581w', 'or'], ['l', 'd'], ['\u2581wor', 'ld'], ['l', 'l'], ['e', 'll'], ['h', 'ell'], ['\u2581', 'hell'],
    ['\u2581hell', 'o'], ['o', 'n'], ['\u2581', 'i'], ['\u2581i', 'n'], ['a', 'a'], ['aa', 'aa'], ['\u2581', '\u2581'],
    ['\u2581\u2581', '\u2581\u2581'], ['i', 'ng'], ['n', 'g'], ['\u2581', 's'], ['\u2581s', 't'], ['e', 's'], ['t', 'h']];
  const merges = [];
  for (const [a, b] of pairs) {
    if (!(a in vocab) || !(b in vocab)) continue;
    merges.push([a, b]);
    if (!((a + b) in vocab)) vocab[a + b] = Object.keys(vocab).length;
  }
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: [added(0, '<unk>', { special: true }), added(1, '<s>', { special: true }), added(2, '</s>', { special: true })],
    normalizer: { type: 'Sequence', normalizers: [{ type: 'Prepend', prepend: '\u2581' }, { type: 'Replace', pattern: { String: ' ' }, content: '\u2581' }] },
    pre_tokenizer: { type: 'Split', pattern: { String: '\u2581' }, behavior: 'MergedWithNext', invert: false },
    post_processor: template({ id: 1, content: '<s>' }, { id: 2, content: '</s>' }),
    decoder: { type: 'Sequence', decoders: [{ type: 'Replace', pattern: { String: '\u2581' }, content: ' ' }, { type: 'ByteFallback' }, { type: 'Fuse' }, { type: 'Strip', content: ' ', start: 1, stop: 0 }] },
    model: { type: 'BPE', dropout: null, unk_token: '<unk>', continuing_subword_prefix: null, end_of_word_suffix: null, fuse_unk: false, byte_fallback: true, ignore_merges: false, vocab, merges },
  };
}

function variants(root) {
  const out = { added: addedVariant(root), chars: charDoc() };
  const behaviours = ['Removed', 'Isolated', 'MergedWithPrevious', 'MergedWithNext', 'Contiguous'];
  behaviours.forEach((b, i) => {
    const d = charDoc();
    d.pre_tokenizer = { type: 'Sequence', pretokenizers: [{ type: 'Split', pattern: { String: i % 2 ? '\u2581' : 'e' }, behavior: b, invert: i >= 3 }] };
    d.model.byte_fallback = false;
    d.model.fuse_unk = i % 2 === 0;
    if (i === 2) d.decoder = null;
    if (i === 4) d.normalizer = { type: 'Sequence', normalizers: [{ type: 'Strip', strip_left: true, strip_right: true }, { type: 'Replace', pattern: { String: ' ' }, content: '\u2581' }] };
    out['split_' + b] = d;
  });
  // ByteLevel with GPT-2's split (use_regex), alone and after a Split.
  let d = tinyDoc(root);
  d.pre_tokenizer = { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true };
  out.bytelevel_regex = d;
  d = tinyDoc(root);
  d.pre_tokenizer = { type: 'Sequence', pretokenizers: [{ type: 'Split', pattern: { String: '\n' }, behavior: 'Isolated', invert: false },
    { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true }] };
  out.bytelevel_regex_seq = d;
  for (const form of ['NFD', 'NFKC', 'NFKD']) {
    const d = charDoc();
    d.normalizer = { type: 'Sequence', normalizers: [{ type: form }, { type: 'Replace', pattern: { String: ' ' }, content: '\u2581' }] };
    out['norm_' + form] = d;
  }
  return out;
}

module.exports = { variants };
