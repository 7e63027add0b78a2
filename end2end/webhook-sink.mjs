// A webhook receiver for the browser tests: appends every POST (authorization, content
// type, body) as one JSON line to the file named by argv[3]. Started and stopped by
// scripts/e2e-run, inside the tests' network namespace.
import { appendFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';

const [port, log] = [Number(process.argv[2]), process.argv[3]];
writeFileSync(log, '');
createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    const entry = {
      authorization: req.headers.authorization ?? '',
      contentType: req.headers['content-type'] ?? '',
      body: Buffer.concat(chunks).toString('utf8'),
    };
    appendFileSync(log, `${JSON.stringify(entry)}\n`);
    res.end('ok');
  });
}).listen(port, '127.0.0.1');
