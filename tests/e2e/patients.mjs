// The e2e tests' synthetic PHI, written by the project's own generator (`phigate synth`,
// docs/synth.md), never invented by hand: whole labelled notes (synthNotes) and patients
// read from the labelled spans of registration face sheets, which carry every identifier
// field (synthPatients).
import { execFileSync } from 'node:child_process';
import path from 'node:path';

// The labelled notes of `phigate synth <args>` (JSONL), parsed. The generator reads the
// repository's data/ (PHIGATE_SOURCE_DIR, set by ctest) unless PHIGATE_DATA_DIR says otherwise.
export function synthNotes(bin, args) {
  if (!bin) throw new Error('set PHIGATE_BIN to the phigate binary');
  const src = process.env.PHIGATE_SOURCE_DIR;
  const env = { ...process.env,
                PHIGATE_DATA_DIR: src ? path.join(src, 'data') : (process.env.PHIGATE_DATA_DIR || '') };
  return execFileSync(bin, ['synth', ...args], { encoding: 'utf8', maxBuffer: 256 << 20, env })
    .split('\n').filter(Boolean).map((l) => JSON.parse(l));
}

// `count` distinct synthetic patients {name, mrn, dob, phone, ssn, email} from
// `phigate synth --style facesheet --seed <seed>`: the first value of each class
// in one face sheet per patient. Notes the generator re-cased wholesale (all
// lower or upper case) are skipped so that the names read as names.
export function synthPatients(bin, seed, count) {
  const notes = synthNotes(bin, ['--seed', String(seed), '--notes', String(count * 8),
                                 '--style', 'facesheet']);
  const patients = [];
  const seen = new Set();
  for (const note of notes) {
    const text = note.text;
    if (seen.has(note.patient_id) || text === text.toLowerCase() || text === text.toUpperCase()) {
      continue;
    }
    const first = (category) => note.spans.find((s) => s.phi && s.category === category)?.text;
    const p = { name: first('NAME'), mrn: first('MRN'), dob: first('DATE'), phone: first('PHONE'),
                ssn: first('SSN'), email: first('EMAIL') };
    if (Object.values(p).some((v) => !v)) continue;
    seen.add(note.patient_id);
    patients.push(p);
    if (patients.length === count) return patients;
  }
  throw new Error(`phigate synth --seed ${seed}: fewer than ${count} patients with every field`);
}
