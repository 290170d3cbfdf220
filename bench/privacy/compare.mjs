// compare.mjs — reference filters on the same corpora as bench_privacy:
// redact-pii (PII) and secretlint with its recommended preset (secrets).
//
//   node bench/privacy/compare.mjs CORPUS.jsonl...
//
// Recall counts a gold span as found when the tool touched it: for secretlint
// a reported range overlaps it; redact-pii reports no offsets, so a span
// counts as found when its text no longer appears in the redacted output.
// Precision is the share of clean lines that a tool leaves alone.  Speed is
// MB/s over a ~2 MiB buffer of corpus text and filler prose (one thread).
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { lintSource } from '@secretlint/core';
import { creator as presetRecommend } from '@secretlint/secretlint-rule-preset-recommend';

const require = createRequire(import.meta.url);
const { SyncRedactor } = require('redact-pii');

const PII = new Set(['email', 'phone', 'us_ssn', 'credit_card', 'iban', 'ipv4', 'ipv6',
  'mac_address', 'passport', 'drivers_licence', 'bank_account', 'date_of_birth',
  'street_address', 'zip_code']);

const redactor = new SyncRedactor();
const config = { rules: [{ id: '@secretlint/secretlint-rule-preset-recommend', rule: presetRecommend }] };

async function secretRanges(text) {
  const res = await lintSource({
    source: { filePath: '/corpus.txt', content: text, contentType: 'text' },
    options: { config },
  });
  return res.messages.map((m) => m.range);
}

// Unicode code point offset -> UTF-16 index (what JS ranges use).
function utf16Index(text, cp) {
  let i = 0;
  for (let c = 0; c < cp && i < text.length; c++) {
    const code = text.codePointAt(i);
    i += code > 0xffff ? 2 : 1;
  }
  return i;
}

function newScore() {
  return { piiGold: 0, piiFound: 0, secGold: 0, secFound: 0, clean: 0, cleanOk: 0 };
}

const tools = { 'redact-pii': newScore(), secretlint: newScore(), 'both (union)': newScore() };
const texts = [];

for (const path of process.argv.slice(2)) {
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    if (!line.trim()) continue;
    const o = JSON.parse(line);
    texts.push(o.text);
    const redacted = redactor.redact(o.text);
    const ranges = await secretRanges(o.text);
    const touched = { 'redact-pii': redacted !== o.text, secretlint: ranges.length > 0 };
    touched['both (union)'] = touched['redact-pii'] || touched.secretlint;
    if (o.kind === 'clean') {
      for (const [name, s] of Object.entries(tools)) {
        s.clean++;
        if (!touched[name]) s.cleanOk++;
      }
    }
    (o.spans || []).forEach(([a, b], i) => {
      const type = (o.span_types && o.span_types[i]) || o.type;
      const gold = o.text.slice(utf16Index(o.text, a), utf16Index(o.text, b));
      const ua = utf16Index(o.text, a), ub = utf16Index(o.text, b);
      const hit = {
        'redact-pii': gold.length > 0 && !redacted.includes(gold),
        secretlint: ranges.some(([s, e]) => s < ub && ua < e),
      };
      hit['both (union)'] = hit['redact-pii'] || hit.secretlint;
      for (const [name, s] of Object.entries(tools)) {
        if (PII.has(type)) { s.piiGold++; if (hit[name]) s.piiFound++; }
        else { s.secGold++; if (hit[name]) s.secFound++; }
      }
    });
  }
}

const pct = (a, b) => (b ? (100 * a / b).toFixed(2) + '%' : 'n/a');
for (const [name, s] of Object.entries(tools)) {
  console.log(`${name}: PII recall ${s.piiFound}/${s.piiGold} = ${pct(s.piiFound, s.piiGold)}, ` +
    `secret recall ${s.secFound}/${s.secGold} = ${pct(s.secFound, s.secGold)}, ` +
    `clean lines untouched ${s.cleanOk}/${s.clean} = ${pct(s.cleanOk, s.clean)}`);
}

// Speed: corpus text plus four times as much filler prose, ~2 MiB.
const filler = 'The quarterly report was reviewed by the team on Tuesday and the results ' +
  'were shared with every department before the planning meeting. Nothing in this ' +
  'paragraph is personal data; it is ordinary prose used as filler so that the ' +
  'benchmark resembles tool output: logs, JSON, code and text.\n' +
  '{"status": "ok", "items": [1, 2, 3], "elapsed_ms": 42, "version": "1.2.3"}\n' +
  'for (int i = 0; i < n; i++) { total += values[i] * weight; }\n';
const corpusText = texts.join('\n') + '\n';
let big = '';
while (Buffer.byteLength(big) < 2 * 1024 * 1024)
  big += corpusText + filler.repeat(Math.ceil(corpusText.length * 4 / filler.length));
const mb = Buffer.byteLength(big) / 1e6;
let t0 = performance.now();
redactor.redact(big);
const tRedact = (performance.now() - t0) / 1000;
t0 = performance.now();
await secretRanges(big);
const tLint = (performance.now() - t0) / 1000;
console.log(`speed on ${mb.toFixed(1)} MB: redact-pii ${(mb / tRedact).toFixed(1)} MB/s, ` +
  `secretlint ${(mb / tLint).toFixed(1)} MB/s`);
