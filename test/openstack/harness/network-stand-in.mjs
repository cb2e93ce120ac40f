#!/usr/bin/env node
// The smallest network service Nova is content with, for servers booted with "networks": "none".
// Nova still asks the network API on boot, evacuate and cache healing; every collection it asks
// for is empty, a single resource is 404. Each request is logged, so a new call shows up in the log.
import { createServer } from 'node:http';

const [addr = '127.0.0.1', port = '9696'] = process.argv.slice(2);
const send = (res, code, body) => {
  res.writeHead(code, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
};

createServer((req, res) => {
  const path = new URL(req.url, 'http://x').pathname.replace(/\/+$/, '').replace(/\.json$/, '');
  console.log(`${new Date().toISOString()} ${req.method} ${req.url}`);
  req.resume();
  if (path === '' || path === '/') {
    return send(res, 200, {
      versions: [{ id: 'v2.0', status: 'CURRENT', links: [{ rel: 'self', href: `http://${addr}:${port}/v2.0/` }] }],
    });
  }
  const m = /^\/v2\.0\/([a-z0-9_-]+)(?:\/([^/]+))?/.exec(path);
  if (!m) return send(res, 404, { NeutronError: { type: 'HTTPNotFound', message: 'not found', detail: '' } });
  const [, collection, id] = m;
  if (collection === 'quotas' && id)
    return send(res, 200, { quota: { port: -1, network: -1, subnet: -1, floatingip: -1, security_group: -1 } });
  if (id) return send(res, 404, { NeutronError: { type: `${collection}NotFound`, message: `${collection} ${id} not found`, detail: '' } });
  if (req.method === 'GET') return send(res, 200, { [collection]: [] });
  return send(res, 501, {
    NeutronError: { type: 'NotImplemented', message: `${req.method} ${collection} is not served here`, detail: '' },
  });
}).listen(Number(port), addr);
