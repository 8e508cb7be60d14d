#!/usr/bin/env node
'use strict'
// mqtt-packet-bench.js - times mqtt-packet's parser on given packets, for
// `mqcheck bench codec` (bench/bench_codec.c), which passes the same bytes its
// own decoder is timed on.
//
//   node bench/mqtt-packet-bench.js --version 5 [--seconds 1] [--repeat 1] HEX...
//
// Prints one JSON line: {"mqtt_packet": version, "ns_per_packet": n, ...}.
// Each packet is handed to one long-lived parser as its own chunk, the way a
// socket delivers it; the parser is set to the mix's protocol version. A
// warm-up lets the JIT settle before timing.

const path = require('path')

function main () {
  const args = process.argv.slice(2)
  let version = 4
  let seconds = 1
  let repeat = 1
  const hex = []
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '--version') version = Number(args[++i])
    else if (args[i] === '--seconds') seconds = Number(args[++i])
    else if (args[i] === '--repeat') repeat = Number(args[++i])
    else hex.push(args[i])
  }
  if (!hex.length) throw new Error('no packets given')
  const dir = process.env.MQTT_PACKET_DIR ||
    path.join(__dirname, '..', 'ci', 'npm', 'node_modules', 'mqtt-packet')
  let mqtt
  try {
    mqtt = require(dir)
  } catch (e) {
    throw new Error('mqtt-packet not installed in ' + dir + ' (run ci/bootstrap test)')
  }
  const packets = hex.map(h => Buffer.from(h, 'hex'))
  const parser = mqtt.parser({ protocolVersion: version })
  let parsed = 0
  let sink = 0
  parser.on('packet', p => { parsed++; sink += p.length })
  parser.on('error', e => { throw e })

  const run = rounds => {
    const t0 = process.hrtime.bigint()
    for (let i = 0; i < rounds; i++) {
      for (let k = 0; k < packets.length; k++) parser.parse(packets[k])
    }
    return Number(process.hrtime.bigint() - t0) / 1e9
  }
  // Warm up, then calibrate to a tenth of the target and scale.
  run(20000)
  let rounds = 1000
  let dt
  while ((dt = run(rounds)) < seconds / 10) rounds *= 2
  rounds = Math.ceil(rounds * seconds / dt)
  // Best of 'repeat' runs, as the C side does.
  let best = Infinity
  for (let r = 0; r < repeat; r++) {
    const before = parsed
    dt = run(rounds)
    if (parsed - before !== rounds * packets.length) throw new Error('parser did not emit every packet')
    best = Math.min(best, dt)
  }
  dt = best
  const version_ = require(path.join(dir, 'package.json')).version
  console.log(JSON.stringify({
    mqtt_packet: version_,
    node: process.version,
    protocol_version: version,
    packets: rounds * packets.length,
    seconds: dt,
    ns_per_packet: dt * 1e9 / (rounds * packets.length),
    sink: sink > 0
  }))
}

try {
  main()
} catch (e) {
  console.log(JSON.stringify({ error: e.message }))
  process.exitCode = 1
}
