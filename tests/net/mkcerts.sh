#!/bin/sh
# mkcerts.sh DIR - test PKI for test_net and bench transport, made fresh at
# test time with the openssl CLI (nothing secret is committed).
#   ca.{key,crt}          the trusted test CA
#   other-ca.{key,crt}    an unrelated CA ("wrong CA")
#   server.{key,crt}      CN=localhost, SAN localhost + 127.0.0.1, by ca
#   expired.crt           same key and names, by ca, valid only in 2020
#   wrongname.crt         same key, SAN wrong.example only, by ca
#   selfsigned.crt        same key and names, self-signed ("bad certificate")
#   client.{key,crt}      client certificate by ca
#   badclient.{key,crt}   client certificate by other-ca
set -eu
d=$1
mkdir -p "$d"
cd "$d"
q() { "$@" >/dev/null 2>&1 || { echo "mkcerts: failed: $*" >&2; "$@"; exit 1; }; }

key() { q openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1"; }

ca() { # name cn
  key "$1.key"
  q openssl req -x509 -new -key "$1.key" -sha256 -days 30 -subj "/CN=$2" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
    -out "$1.crt"
}

ca ca "mqcheck test CA"
ca other-ca "mqcheck other CA"
key server.key
key client.key
key badclient.key

printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n' > server.ext
printf 'subjectAltName=DNS:wrong.example\nextendedKeyUsage=serverAuth\n' > wrongname.ext
printf 'extendedKeyUsage=clientAuth\n' > client.ext

q openssl req -new -key server.key -subj "/CN=localhost" -out server.csr
q openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 30 \
  -sha256 -extfile server.ext -out server.crt
q openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 30 \
  -sha256 -extfile wrongname.ext -out wrongname.crt
q openssl x509 -req -in server.csr -signkey server.key -days 30 -sha256 -extfile server.ext \
  -out selfsigned.crt

q openssl req -new -key client.key -subj "/CN=mqcheck client" -out client.csr
q openssl x509 -req -in client.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 30 \
  -sha256 -extfile client.ext -out client.crt
q openssl req -new -key badclient.key -subj "/CN=mqcheck bad client" -out badclient.csr
q openssl x509 -req -in badclient.csr -CA other-ca.crt -CAkey other-ca.key -CAcreateserial \
  -days 30 -sha256 -extfile client.ext -out badclient.crt

# OpenSSL 3.0's x509 has no -not_before/-not_after, but `openssl ca` takes
# explicit -startdate/-enddate, which gives a certificate that expired long ago.
mkdir -p ca-db
: > ca-db/index.txt
echo 1000 > ca-db/serial
cat > ca-db/ca.cnf <<CNF
[ca]
default_ca = test
[test]
dir = ca-db
database = ca-db/index.txt
serial = ca-db/serial
new_certs_dir = ca-db
default_md = sha256
policy = any
copy_extensions = none
unique_subject = no
[any]
commonName = supplied
[ext]
subjectAltName = DNS:localhost,IP:127.0.0.1
extendedKeyUsage = serverAuth
CNF
q openssl ca -batch -config ca-db/ca.cnf -cert ca.crt -keyfile ca.key -in server.csr \
  -startdate 20200101000000Z -enddate 20200201000000Z -extensions ext -notext \
  -out expired.crt
echo ok
