// mqttjs_client.js ROLE HOST PORT VERSION QOS COUNT TOPIC PAYLOAD ID SESSION [AUTH [KEEPALIVE [RETAIN]]] -
// MQTT.js (ci/npm) as a client-check program. pub: publish COUNT messages and
// exit; sub: subscribe and print each payload, exit after COUNT. SESSION 1:
// keep a session (clean false, Session Expiry 300) and reconnect after 200 ms.
// AUTH "mqcheck-challenge:SECRET" (5.0): enhanced authentication through
// MQTT.js's handleAuth hook, answering the nonce with FNV-1a-64 of
// secret || nonce || secret (docs/engine.md, "Enhanced authentication").
const path = require('path');
const mqtt = require(path.join(__dirname, '../../ci/npm/node_modules/mqtt'));
const [role, host, port, version, qos, count, topic, payload, id, session, auth, ka, retain] =
  process.argv.slice(2);
const v5 = version === '5';
const keep = session === '1';
const opts = {
  protocolVersion: v5 ? 5 : 4, clientId: id, clean: !keep, reconnectPeriod: keep ? 200 : 0,
  connectTimeout: 5000, keepalive: Number(ka || 60),
};
if (v5) opts.properties = { topicAliasMaximum: 10 }; // let the server use aliases
if (v5 && keep) opts.properties.sessionExpiryInterval = 300;
let method = null, secret = null;
if (v5 && auth && auth !== '-') {
  [method, secret] = auth.split(':');
  opts.properties = { ...(opts.properties || {}), authenticationMethod: method };
}
function fnv(bytes) {
  let h = 0xcbf29ce484222325n;
  for (const b of bytes) h = ((h ^ BigInt(b)) * 0x100000001b3n) & 0xffffffffffffffffn;
  const out = Buffer.alloc(8);
  out.writeBigUInt64BE(h);
  return out;
}
const c = mqtt.connect(`mqtt://${host}:${port}`, opts);
if (method) {
  c.handleAuth = (packet, cb) => {
    const nonce = packet.properties.authenticationData || Buffer.alloc(0);
    const s = Buffer.from(secret);
    cb(null, {
      cmd: 'auth', reasonCode: 0x18,
      properties: { authenticationMethod: method, authenticationData: fnv(Buffer.concat([s, nonce, s])) },
    });
  };
}
const n = Number(count);
let got = 0;
const finish = (code) => { c.end(true, () => process.exit(code)); setTimeout(() => process.exit(code), 500); };
setTimeout(() => finish(1), 12000);
c.on('error', (e) => { console.log('error: ' + e.message); if (!keep) finish(1); });
// the acknowledgement goes out after this handler: end gracefully, a tick later
c.on('message', (t, m) => {
  console.log(m.toString());
  if (++got >= n) setTimeout(() => c.end(false, () => process.exit(0)), 50);
});
c.once('connect', async () => {
  if (role === 'sub') {
    c.subscribe(topic, { qos: Number(qos) });
    return;
  }
  try {
    for (let i = 0; i < n; i++) await c.publishAsync(topic, payload, { qos: Number(qos), retain: retain === '1' });
    c.end(false, () => process.exit(0));
  } catch (e) {
    console.log('publish failed: ' + e.message);
    finish(1);
  }
});
