// mqttjs_check.js HOST PORT - MQTT.js against mqcheck serve: QoS 0/1/2 and a
// retained message, protocol versions 4 (3.1.1) and 5. Exit 0 on success.
const mqtt = require('mqtt');
const [host, port] = process.argv.slice(2);

function run(version) {
  return new Promise((resolve, reject) => {
    const tag = 'v' + version;
    const url = `mqtt://${host}:${port}`;
    const want = ['q0', 'q1', 'q2', 'retained'];
    const got = [];
    const timer = setTimeout(() => reject(new Error(`${tag}: timeout, got ${JSON.stringify(got)}`)), 8000);
    const sub = mqtt.connect(url, { protocolVersion: version, clientId: 'js-sub-' + tag, reconnectPeriod: 0 });
    sub.on('error', reject);
    sub.on('message', (topic, payload) => {
      got.push(payload.toString());
      if (got.length === want.length) {
        if (JSON.stringify(got.slice().sort()) !== JSON.stringify(want.slice().sort()))
          return reject(new Error(`${tag}: got ${JSON.stringify(got)}`));
        const late = mqtt.connect(url, { protocolVersion: version, clientId: 'js-late-' + tag, reconnectPeriod: 0 });
        late.on('message', (t, p, packet) => {
          if (packet.retain && p.toString() === 'retained') {
            clearTimeout(timer);
            late.end(); sub.end();
            resolve();
          }
        });
        late.subscribe(`js/${tag}/r`, { qos: 1 });
      }
    });
    sub.subscribe(`js/${tag}/#`, { qos: 2 }, (err) => {
      if (err) return reject(err);
      const pub = mqtt.connect(url, { protocolVersion: version, clientId: 'js-pub-' + tag, reconnectPeriod: 0 });
      pub.on('error', reject);
      pub.on('connect', async () => {
        for (const q of [0, 1, 2]) await pub.publishAsync(`js/${tag}/x`, 'q' + q, { qos: q });
        await pub.publishAsync(`js/${tag}/r`, 'retained', { qos: 1, retain: true });
        pub.end();
      });
    });
  });
}

(async () => {
  try {
    await run(4);
    console.log('MQTT.js v4: ok');
    await run(5);
    console.log('MQTT.js v5: ok');
    process.exit(0);
  } catch (e) {
    console.error(String(e));
    process.exit(1);
  }
})();
