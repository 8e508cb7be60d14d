// ws_peer.js MODE [ARGS] - independent WebSocket peers for test_net.
// Server modes listen on 127.0.0.1 (free port) and print "port N" first:
//   refuse      answers the upgrade with 403 Forbidden
//   wrongproto  completes the upgrade but selects subprotocol "chat"
//   noproto     completes the upgrade without selecting a subprotocol
//   frag        `ws` server speaking MQTT-ish: answers the first message with
//               a CONNACK split over two continuation frames, pings the
//               client, sends PINGRESP after the pong, then closes (1000).
// Client mode (MQTT.js over ws/wss):
//   client URL [CAFILE]  connects, prints "connack", disconnects, exits 0.
'use strict';
const path = require('path');
const nm = path.join(process.env.MQC_SOURCE_DIR || path.join(__dirname, '..', '..'),
                     'ci', 'npm', 'node_modules');
const req = (m) => require(path.join(nm, m));
const net = require('net');
const crypto = require('crypto');
const fs = require('fs');

const mode = process.argv[2];
const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';
// Never outlive the test that started us.
setTimeout(() => process.exit(3), 20000).unref();

function rawServer(answer) {
  const srv = net.createServer((sock) => {
    let buf = '';
    sock.on('data', (d) => {
      buf += d.toString('latin1');
      if (!buf.includes('\r\n\r\n')) return;
      const m = /sec-websocket-key:\s*(\S+)/i.exec(buf);
      const acc = m ? crypto.createHash('sha1').update(m[1] + GUID).digest('base64') : '';
      sock.end(answer(acc));
    });
    sock.on('error', () => {});
  });
  srv.listen(0, '127.0.0.1', () => console.log('port ' + srv.address().port));
}

const up = (acc) => 'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n' +
  'Connection: Upgrade\r\nSec-WebSocket-Accept: ' + acc + '\r\n';

if (mode === 'refuse') {
  rawServer(() => 'HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n');
} else if (mode === 'wrongproto') {
  rawServer((acc) => up(acc) + 'Sec-WebSocket-Protocol: chat\r\n\r\n');
} else if (mode === 'noproto') {
  rawServer((acc) => up(acc) + '\r\n');
} else if (mode === 'frag') {
  const { WebSocketServer } = req('ws');
  const wss = new WebSocketServer({
    host: '127.0.0.1', port: 0,
    handleProtocols: (protos) => (protos.has('mqtt') ? 'mqtt' : false),
  });
  wss.on('listening', () => console.log('port ' + wss.address().port));
  wss.on('connection', (ws) => {
    let first = true;
    ws.on('message', () => {
      if (!first) return;
      first = false;
      ws.send(Buffer.from([0x20, 0x02]), { binary: true, fin: false });
      ws.send(Buffer.from([0x00, 0x00]), { binary: true, fin: true });
      ws.ping(Buffer.from('hi'));
    });
    ws.on('pong', (d) => {
      console.log('pong ' + d.toString());
      ws.send(Buffer.from([0xd0, 0x00]), { binary: true });
      ws.close(1000);
    });
    ws.on('close', (code) => {
      console.log('closed ' + code);
      wss.close();
      process.exit(0);
    });
  });
} else if (mode === 'client') {
  const mqtt = req('mqtt');
  const opts = { protocolVersion: 4, reconnectPeriod: 0, connectTimeout: 5000 };
  if (process.argv[4]) opts.ca = fs.readFileSync(process.argv[4]);
  const c = mqtt.connect(process.argv[3], opts);
  c.on('connect', () => {
    console.log('connack');
    c.publish('mqcheck/ws', 'hello', { qos: 0 }, () => c.end(false, () => process.exit(0)));
  });
  c.on('error', (e) => { console.log('error ' + e.message); process.exit(1); });
} else {
  console.error('usage: ws_peer.js refuse|wrongproto|noproto|frag|client URL [CA]');
  process.exit(2);
}
