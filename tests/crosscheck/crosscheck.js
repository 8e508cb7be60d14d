#!/usr/bin/env node
'use strict'
// crosscheck.js - the codec against mqtt-packet, both ways (docs/crosscheck.md).
//
//   node crosscheck.js --gen PATH/crosscheck-gen [--seed N] [--count N]
//                      [--versions 3,4,5] [--show N]
//
// c2js: the C generator makes random valid packets with the codec's encoder;
//       mqtt-packet parses each one and its view is compared with the codec's.
// js2c: random packet objects go through mqtt-packet's generate(); the codec
//       decodes each one and its view is compared with the object.
// Exit status: 0 all agree (or only allowlisted deviations), 1 mismatches,
// 2 usage or setup error, 77 skipped (mqtt-packet not installed).

const path = require('path')
const fs = require('fs')
const { spawnSync } = require('child_process')
const { fromC, fromJs, stable, SNAKE_IDS } = require('./normalise')
const { ALLOWLIST, explain } = require('./allowlist')
const jsgen = require('./jsgen')

function parseArgs (argv) {
  const o = { seed: 1, count: 2000, versions: [3, 4, 5], show: 10 }
  for (let i = 2; i < argv.length; i++) {
    const a = argv[i]
    const next = () => argv[++i]
    if (a === '--gen') o.gen = next()
    else if (a === '--seed') o.seed = Number(next())
    else if (a === '--count') o.count = Number(next())
    else if (a === '--versions') o.versions = next().split(',').map(Number)
    else if (a === '--show') o.show = Number(next())
    else throw new Error('unknown argument ' + a)
  }
  if (!o.gen) throw new Error('--gen PATH is required')
  return o
}

function findMqttPacket () {
  const dirs = [process.env.MQTT_PACKET_DIR,
    path.join(__dirname, '..', '..', 'ci', 'npm', 'node_modules', 'mqtt-packet')].filter(Boolean)
  for (const d of dirs) if (fs.existsSync(path.join(d, 'package.json'))) return d
  return null
}

// Buffers print as hex in diagnostics.
function show (x) {
  return JSON.stringify(x, (k, v) =>
    v && v.type === 'Buffer' && Array.isArray(v.data) ? 'buf:' + Buffer.from(v.data).toString('hex') : v)
}

// Parses one packet with a fresh parser (the parser keeps the version of the
// last CONNECT it saw, and its CONNACK/DISCONNECT code reads the whole
// buffered stream, so packets are never batched).
function mpParse (mqtt, buf, version) {
  const parser = mqtt.parser({ protocolVersion: version })
  const packets = []
  let error = null
  parser.on('packet', p => packets.push(p))
  parser.on('error', e => { error = error || e.message })
  const left = parser.parse(buf)
  if (error) return { error }
  if (packets.length !== 1 || left !== 0) {
    return { error: `parsed ${packets.length} packets, ${left} bytes left over` }
  }
  return { packet: packets[0] }
}

function runGen (gen, args, input) {
  const r = spawnSync(gen, args, { input, maxBuffer: 1 << 30, encoding: 'utf8' })
  if (r.error) throw r.error
  if (r.status !== 0) {
    throw new Error(`${path.basename(gen)} ${args.join(' ')} exited ${r.status}:\n${r.stderr}`)
  }
  return r.stdout.split('\n').filter(Boolean)
}

function main () {
  let o
  try {
    o = parseArgs(process.argv)
  } catch (e) {
    console.error('crosscheck: ' + e.message)
    return 2
  }
  const mpDir = findMqttPacket()
  if (!mpDir) {
    console.log('crosscheck: SKIP: mqtt-packet is not installed (ci/npm/node_modules/mqtt-packet); ' +
      'run ci/bootstrap test')
    return 77
  }
  const mqtt = require(mpDir)
  const camelIds = require(path.join(mpDir, 'constants')).properties
  const mpVersion = require(path.join(mpDir, 'package.json')).version
  console.log(`crosscheck: codec vs mqtt-packet ${mpVersion} (node ${process.version}), seed ${o.seed}, ` +
    `${o.count} packets each way per version`)

  const known = new Map(ALLOWLIST.map(e => [e.id, 0]))
  const propsSeen = { c2js: new Set(), js2c: new Set() }
  const notice = (way, view) => {
    for (const props of [view.props, view.will && view.will.props]) {
      for (const name of Object.keys(props || {})) propsSeen[way].add(name)
    }
  }
  let failures = 0
  let shown = 0

  function report (c) {
    const entry = explain(c)
    if (entry) {
      known.set(entry.id, known.get(entry.id) + 1)
      return
    }
    failures++
    if (shown++ >= o.show) return
    console.log(`MISMATCH ${c.way} v${c.version} dir=${c.dir} ${c.type} hex=${c.hex}`)
    if (c.error) console.log(`  rejected by ${c.way === 'c2js' ? 'mqtt-packet' : 'the codec'}: ${c.error}`)
    console.log('  codec       : ' + (c.cView ? stable(c.cView) : '-'))
    console.log('  mqtt-packet : ' + (c.jsView ? stable(c.jsView) : '-'))
    if (c.rawC) console.log('  codec JSON  : ' + c.rawC)
    if (c.rawJs) console.log('  mqtt-packet object: ' + show(c.rawJs))
  }

  for (const v of o.versions) {
    const byType = {}
    const count = t => { byType[t] = (byType[t] || 0) + 1 }

    // c2js: codec encodes, mqtt-packet parses.
    const lines = runGen(o.gen, ['gen', String(o.seed), String(o.count), String(v)])
    if (lines.length !== o.count) throw new Error(`expected ${o.count} packets, got ${lines.length}`)
    for (const line of lines) {
      const sp1 = line.indexOf(' ')
      const sp2 = line.indexOf(' ', sp1 + 1)
      const sp3 = line.indexOf(' ', sp2 + 1)
      const dir = line.slice(sp1 + 1, sp2)
      const hex = line.slice(sp2 + 1, sp3)
      const rawC = line.slice(sp3 + 1)
      const cView = fromC(JSON.parse(rawC), v)
      count('c2js ' + cView.type)
      notice('c2js', cView)
      const got = mpParse(mqtt, Buffer.from(hex, 'hex'), v)
      const c = { way: 'c2js', version: v, dir, hex, type: cView.type, cView, rawC }
      if (got.error) {
        report({ ...c, error: got.error })
        continue
      }
      const jsView = fromJs(got.packet, v, camelIds)
      if (stable(jsView) !== stable(cView)) report({ ...c, jsView, rawJs: got.packet })
    }

    // js2c: mqtt-packet generates, the codec decodes.
    const r = jsgen.rng(o.seed * 1000003 + v)
    const cases = []
    for (let i = 0; i < o.count; i++) {
      const g = jsgen.packet(r, v)
      let buf
      try {
        buf = mqtt.generate(g.packet, { protocolVersion: v })
      } catch (e) {
        // A packet generate() refuses is a bug in jsgen, not a finding.
        console.error(`crosscheck: mqtt-packet generate() refused ${show(g.packet)}: ${e.message}`)
        return 2
      }
      cases.push({ ...g, hex: buf.toString('hex') })
    }
    const verdicts = runGen(o.gen, ['decode'], cases.map(c => `${v} ${c.dir} ${c.hex}\n`).join(''))
    if (verdicts.length !== cases.length) throw new Error('decoder answered ' + verdicts.length + ' lines')
    cases.forEach((g, i) => {
      const jsView = fromJs(g.packet, v, camelIds)
      count('js2c ' + jsView.type)
      notice('js2c', jsView)
      const verdict = verdicts[i]
      const c = { way: 'js2c', version: v, dir: g.dir, hex: g.hex, type: jsView.type, jsView, rawJs: g.packet }
      const body = verdict.slice(verdict.indexOf(' ') + 1)
      if (verdict.startsWith('err ')) {
        report({ ...c, error: body })
        return
      }
      const cView = fromC(JSON.parse(body), v)
      if (stable(cView) !== stable(jsView)) report({ ...c, cView, rawC: body })
    })

    for (const way of ['c2js', 'js2c']) {
      const summary = Object.keys(byType).filter(k => k.startsWith(way)).sort()
        .map(k => `${k.split(' ')[1]}=${byType[k]}`)
      console.log(`v${v} ${way}: ${o.count} packets: ${summary.join(' ')}`)
    }
    if (v === 5) {
      // A generator that silently stopped producing some property would make
      // the check weaker without failing it; insist on all of them both ways.
      for (const way of ['c2js', 'js2c']) {
        const missing = Object.keys(SNAKE_IDS).filter(n => !propsSeen[way].has(n))
        if (missing.length) {
          console.log(`COVERAGE ${way} v5: properties never generated: ${missing.join(' ')}`)
          failures++
        }
      }
    }
  }

  for (const entry of ALLOWLIST) {
    const n = known.get(entry.id)
    console.log(`known deviation ${entry.id}: ${n} packet(s)${n ? '' : ' (not hit with this seed)'}`)
  }
  if (failures) {
    console.log(`crosscheck: FAIL: ${failures} mismatch(es) outside the allowlist` +
      (shown > o.show ? ` (first ${o.show} shown; --show N for more)` : ''))
    return 1
  }
  console.log('crosscheck: PASS')
  return 0
}

try {
  process.exitCode = main()
} catch (e) {
  console.error('crosscheck: ' + (e.stack || e.message))
  process.exitCode = 2
}
