// aedes-node.js PORT REDIS_PORT - one node of a two-node aedes cluster on
// 127.0.0.1:PORT: messages travel between nodes through mqemitter-redis,
// sessions, subscriptions and retained messages live in
// aedes-persistence-redis, both on the redis-server at REDIS_PORT
// (tests/cluster/cluster.sh). Prints "listening" when ready.
'use strict'
const path = require('path')
const modules = path.join(__dirname, '..', '..', 'ci', 'npm', 'node_modules')
const aedesMod = require(path.join(modules, 'aedes'))
const mqemitterRedis = require(path.join(modules, 'mqemitter-redis'))
const persistenceRedis = require(path.join(modules, 'aedes-persistence-redis'))
const net = require('net')
const port = parseInt(process.argv[2], 10)
const redis = { host: '127.0.0.1', port: parseInt(process.argv[3], 10) }
const opts = { mq: mqemitterRedis(redis), persistence: persistenceRedis(redis) }
const broker = typeof aedesMod.createBroker === 'function' ? aedesMod.createBroker(opts) : aedesMod(opts)
const server = net.createServer(broker.handle)
server.listen(port, '127.0.0.1', () => console.log('listening'))
// the redis connections would keep a graceful close waiting: a test node just ends
process.on('SIGTERM', () => process.exit(0))
