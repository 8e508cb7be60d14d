// serve_js_client.js URL MODE TOPIC MESSAGE [CAFILE] - MQTT.js client for
// tests/net/serve_tls_ws.sh against `mqcheck serve`.
//   MODE pub: connect, publish MESSAGE to TOPIC at QoS 1, exit 0 once acked.
//   MODE sub: connect, subscribe to TOPIC, print "ready", exit 0 when MESSAGE
//             arrives (exit 1 on error or after 10 s).
// CAFILE, when given, is the only trust anchor for wss:// (verification on).
const fs = require('fs');
const mqtt = require('mqtt');
const [url, mode, topic, message, cafile] = process.argv.slice(2);
const opts = { protocolVersion: 5, reconnectPeriod: 0, connectTimeout: 5000,
               clientId: `js-${mode}-${process.pid}` };
if (cafile) { opts.ca = fs.readFileSync(cafile); opts.rejectUnauthorized = true; }
let done = false; // the close race after success (EPIPE, reset) is not a failure
const fail = (why) => { if (done) return; console.error(`${mode} ${url}: ${why}`); process.exit(1); };
const finish = () => { done = true; process.exit(0); };
setTimeout(() => fail('timeout'), 10000);
const c = mqtt.connect(url, opts);
c.on('error', (e) => fail(String(e)));
c.on('connect', () => {
  if (mode === 'pub') {
    c.publish(topic, message, { qos: 1 }, (err) => {
      if (err) fail(String(err));
      done = true;
      c.end(false, finish);
    });
    return;
  }
  c.subscribe(topic, { qos: 1 }, (err) => {
    if (err) fail(String(err));
    console.log('ready');
  });
});
c.on('message', (t, p) => {
  if (mode === 'sub' && p.toString() === message) {
    console.log(`got ${t} ${p}`);
    done = true;
    c.end(false, finish);
  }
});
