// tests/probe/html-check.js CHROMIUM PAGE.html OUT_DIR MODE
// Opens an mqcheck HTML page in headless chromium over the DevTools
// protocol (the `ws` client from ci/npm, found through NODE_PATH), and checks
// that it renders offline, that the verdict filter reacts to a real mouse
// click and the section filter to a change, then saves screenshots in
// OUT_DIR. MODE is `report` (mqcheck run --html) or `compare` (mqcheck
// report --compare --html). Exit 0 when every check passed.
'use strict';
const { spawn } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');
const WebSocket = require('ws');

const [chromium, page, outDir, mode] = process.argv.slice(2);
let failures = 0;
function check(ok, what) {
  console.log(`${ok ? 'ok' : 'FAIL'}: ${what}`);
  if (!ok) failures++;
}

const userDir = fs.mkdtempSync(path.join(os.tmpdir(), 'mqc-chromium-'));
const browser = spawn(chromium, [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
  '--disable-component-update', '--disable-sync', '--no-first-run',
  `--user-data-dir=${userDir}`, '--remote-debugging-port=0', '--window-size=1280,1000',
  'about:blank',
], { stdio: ['ignore', 'ignore', 'pipe'], detached: true });
let stderr = '';
browser.stderr.on('data', (d) => { stderr += d; });

const killer = setTimeout(() => {
  console.log('FAIL: timed out after 60 s');
  finish(1);
}, 60000);

// Stops chromium's whole process group (its helpers write into the profile
// folder too), then removes that folder.
function finish(code) {
  clearTimeout(killer);
  const done = () => {
    try {
      fs.rmSync(userDir, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 });
    } catch (e) {
      console.log(`note: could not remove ${userDir}: ${e.code}`);
    }
    process.exit(code);
  };
  if (browser.exitCode !== null || browser.signalCode !== null) return done();
  browser.on('exit', () => setTimeout(done, 100));
  try { process.kill(-browser.pid, 'SIGKILL'); } catch (e) { done(); }
}

async function devtoolsEndpoint() {
  const file = path.join(userDir, 'DevToolsActivePort');
  for (let i = 0; i < 200; i++) {
    if (fs.existsSync(file)) {
      const [port, p] = fs.readFileSync(file, 'utf8').split('\n');
      if (port && p) return `ws://127.0.0.1:${port}${p}`;
    }
    if (browser.exitCode !== null) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`chromium did not start: ${stderr.slice(0, 2000)}`);
}

async function main() {
  const ws = new WebSocket(await devtoolsEndpoint());
  await new Promise((res, rej) => { ws.on('open', res); ws.on('error', rej); });
  let id = 0;
  const pending = new Map();
  const events = [];
  ws.on('message', (m) => {
    const msg = JSON.parse(m);
    if (msg.id && pending.has(msg.id)) {
      const { res, rej } = pending.get(msg.id);
      pending.delete(msg.id);
      if (msg.error) rej(new Error(JSON.stringify(msg.error))); else res(msg.result);
    } else if (msg.method) {
      events.push(msg);
    }
  });
  const send = (method, params = {}, sessionId) => new Promise((res, rej) => {
    const mid = ++id;
    pending.set(mid, { res, rej });
    ws.send(JSON.stringify({ id: mid, method, params, sessionId }));
  });
  const { targetId } = await send('Target.createTarget', { url: 'about:blank' });
  const { sessionId } = await send('Target.attachToTarget', { targetId, flatten: true });
  const s = (method, params) => send(method, params, sessionId);
  const evaluate = async (expr) => {
    const r = await s('Runtime.evaluate', { expression: expr, returnByValue: true });
    if (r.exceptionDetails) throw new Error(`${expr}: ${JSON.stringify(r.exceptionDetails)}`);
    return r.result.value;
  };
  await s('Page.enable');
  await s('Network.enable');
  const url = `file://${path.resolve(page)}`;
  await s('Page.navigate', { url });
  for (let i = 0; i < 200 && !events.some((e) => e.method === 'Page.loadEventFired'); i++)
    await new Promise((r) => setTimeout(r, 50));
  check(events.some((e) => e.method === 'Page.loadEventFired'), 'the page loads');
  const requests = events.filter((e) => e.method === 'Network.requestWillBeSent')
    .map((e) => e.params.request.url).filter((u) => u !== url && !u.startsWith('data:'));
  check(requests.length === 0, `no request beyond the file itself (${requests.join(' ')})`);
  check(await evaluate("document.querySelectorAll('[src],link[href]').length === 0"),
    'no external asset referenced');

  const shot = async (name) => {
    const { data } = await s('Page.captureScreenshot', { format: 'png' });
    fs.writeFileSync(path.join(outDir, name), Buffer.from(data, 'base64'));
    console.log(`screenshot: ${path.join(outDir, name)}`);
  };
  const visible = (sel) => `[].filter.call(document.querySelectorAll('${sel}'),
      function(e){return !e.hidden && e.getClientRects().length > 0;})`;
  const counts = async () => evaluate(`({
    st: ${visible('tr.st')}.length,
    stPass: ${visible('tr.st')}.filter(function(e){
      return e.getAttribute('data-verdict').split(' ').every(function(v){return v==='pass';});}).length,
    cases: ${visible('tr.case')}.length,
    shown: (document.getElementById('shown')||{}).textContent,
    hash: location.hash})`);

  const before = await counts();
  check(before.st > 0 && before.cases > 0, `rows shown at first: ${before.st} statements, ${before.cases} cases`);
  check(before.stPass > 0, `some all-pass statement rows to filter away (${before.stPass})`);
  check(/^\d+ of \d+ statements, \d+ of \d+ cases shown$/.test(before.shown), `counter: ${before.shown}`);
  if (mode === 'report') {
    check(await evaluate("document.querySelectorAll('#summary span').length === 5"), 'summary boxes');
    check(await evaluate("!!document.getElementById('matrix-311') && !!document.getElementById('matrix-5')"),
      'a statement matrix per version');
    const f = await evaluate(`(function(){var f=document.querySelector('.failure');
      return f ? f.textContent : '';})()`);
    check(/report-fixture\/deliberate-failure/.test(f) && /deliberate-failure\.yaml:\d+/.test(f),
      'a failure with its case and step (file:line)');
    check(/CONNACK/.test(f), 'the failure shows the packets (expected against received, transcript)');
    check(await evaluate("(document.getElementById('profile-text')||{textContent:''}).textContent.length > 0"),
      'the profile is included');
  } else {
    check(await evaluate("document.querySelectorAll('#compare-cases tr:first-child th').length") >= 3,
      'one column per broker');
  }
  // numeric order of statement IDs in the first table that has both
  // every statement table is in numeric order (3.1.1 rows only: one version)
  const ids = await evaluate(`[].filter.call(document.querySelectorAll('tr.st'),function(r){
      return r.closest('table').id === 'matrix-311' || r.cells[1].textContent === '3.1.1';})
    .map(function(r){return r.cells[0].textContent;})`);
  const key = (x) => x.replace(/^MQTT-/, '').split(/[.-]/).map(Number);
  const cmp = (a, b) => {
    const x = key(a), y = key(b);
    for (let i = 0; i < Math.max(x.length, y.length); i++)
      if ((x[i] || 0) !== (y[i] || 0)) return (x[i] || 0) - (y[i] || 0);
    return 0;
  };
  const sorted = ids.every((x, i) => i === 0 || cmp(ids[i - 1], x) < 0);
  check(ids.length > 10 && sorted, `${ids.length} statement IDs in numeric order`);
  // ...and that order is not the text order: some -N comes before a -1N
  const textOrder = ids.some((x, i) => i > 0 && ids[i - 1] > x);
  check(textOrder, 'the table has IDs that text order would place differently');
  await shot(`${mode}.png`);

  // a real mouse click on the "pass" checkbox of the verdict filter
  const box = await evaluate(`(function(){var r=document.getElementById('f-pass').getBoundingClientRect();
    return [r.left + r.width / 2, r.top + r.height / 2];})()`);
  for (const type of ['mousePressed', 'mouseReleased'])
    await s('Input.dispatchMouseEvent', { type, x: box[0], y: box[1], button: 'left', clickCount: 1 });
  const after = await counts();
  check(await evaluate("document.getElementById('f-pass').checked === false"), 'the click unticked "pass"');
  check(after.stPass === 0, `no all-pass statement row left after the click (${after.stPass})`);
  check(after.st < before.st, `fewer statement rows (${before.st} -> ${after.st})`);
  check(/verdict=fail,error,skip,not-reached,not-checked$/.test(after.hash), `the view is in the URL: ${after.hash}`);
  await shot(`${mode}-filtered.png`);

  // the section filter: pick 3.1 as a user would (select, then change event)
  await evaluate(`(function(){var s=document.getElementById('f-section');s.value='3.1';
    s.dispatchEvent(new Event('change'));})()`);
  const sec = await evaluate(`${visible('[data-verdict]')}.map(function(e){
    return e.getAttribute('data-section');})`);
  check(sec.length > 0 && sec.every((x) => x.split(' ').indexOf('3.1') >= 0),
    `section 3.1 only (${sec.length} rows)`);
  // reopening the linked view restores it
  await s('Page.navigate', { url: `${url}#section=3.1&verdict=fail` });
  await s('Page.reload', {});
  await new Promise((r) => setTimeout(r, 500));
  const linked = await evaluate(`({fail: document.getElementById('f-fail').checked,
    pass: document.getElementById('f-pass').checked, sec: document.getElementById('f-section').value})`);
  check(linked.fail && !linked.pass && linked.sec === '3.1', `a linked view restores the filters (${JSON.stringify(linked)})`);
  ws.close();
}

main().then(() => finish(failures ? 1 : 0), (e) => {
  console.log(`FAIL: ${e.stack || e}`);
  finish(1);
});
