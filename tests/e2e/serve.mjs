// Starts `phigate serve` for the end-to-end tests: `proc` at once, and `port`,
// a promise of the port it listens on (from its "listening on" line), rejected
// with its stderr when it exits first or does not start within two minutes.
//   const { proc, port } = startServe(BIN, ['--config', cfg, '--listen', '127.0.0.1:0'], env);
import { spawn } from 'node:child_process';

export function startServe(bin, args, env) {
  const proc = spawn(bin, ['serve', ...args], { env, stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  const port = new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('phigate serve did not start: ' + err)), 120000);
    proc.stderr.on('data', (d) => {
      err += d.toString();
      const m = err.match(/listening on [^:]+:(\d+)/);
      if (m) { clearTimeout(timer); resolve(Number(m[1])); }
    });
    proc.on('exit', (code) => { clearTimeout(timer); reject(new Error(`phigate serve exited ${code}: ${err}`)); });
  });
  return { proc, port };
}
