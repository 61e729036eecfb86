// The e2e tests' patients: identifiers written by the project's own generator
// (`phigate synth`, docs/synth.md), never invented by hand. Registration face
// sheets carry every identifier field; the generator labels each value, so the
// tests read them from its spans instead of parsing the text.
import { execFileSync } from 'node:child_process';

// `count` distinct synthetic patients {name, mrn, dob, phone, ssn, email} from
// `phigate synth --style facesheet --seed <seed>`: the first value of each class
// in one face sheet per patient. Notes the generator re-cased wholesale (all
// lower or upper case) are skipped so that the names read as names.
export function synthPatients(bin, seed, count) {
  if (!bin) throw new Error('set PHIGATE_BIN to the phigate binary');
  const out = execFileSync(bin, ['synth', '--seed', String(seed), '--notes', String(count * 8),
                                 '--style', 'facesheet'],
                           { encoding: 'utf8', maxBuffer: 64 << 20 });
  const patients = [];
  const seen = new Set();
  for (const line of out.split('\n')) {
    if (!line) continue;
    const note = JSON.parse(line);
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
