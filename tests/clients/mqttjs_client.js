// mqttjs_client.js ROLE HOST PORT VERSION QOS COUNT TOPIC PAYLOAD ID SESSION -
// MQTT.js (ci/npm) as a client-check program. pub: publish COUNT messages and
// exit; sub: subscribe and print each payload, exit after COUNT. SESSION 1:
// keep a session (clean false, Session Expiry 300) and reconnect after 200 ms.
const path = require('path');
const mqtt = require(path.join(__dirname, '../../ci/npm/node_modules/mqtt'));
const [role, host, port, version, qos, count, topic, payload, id, session] = process.argv.slice(2);
const v5 = version === '5';
const keep = session === '1';
const opts = {
  protocolVersion: v5 ? 5 : 4, clientId: id, clean: !keep, reconnectPeriod: keep ? 200 : 0,
  connectTimeout: 5000, keepalive: 60,
};
if (v5) opts.properties = { topicAliasMaximum: 10 }; // let the server use aliases
if (v5 && keep) opts.properties.sessionExpiryInterval = 300;
const c = mqtt.connect(`mqtt://${host}:${port}`, opts);
const n = Number(count);
let got = 0;
const finish = (code) => { c.end(true, () => process.exit(code)); setTimeout(() => process.exit(code), 500); };
setTimeout(() => finish(1), 10000);
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
    for (let i = 0; i < n; i++) await c.publishAsync(topic, payload, { qos: Number(qos) });
    c.end(false, () => process.exit(0));
  } catch (e) {
    console.log('publish failed: ' + e.message);
    finish(1);
  }
});
