#!/bin/sh
# gen-certs.sh DIR - make the TLS material the tests use, fresh each
# time: a test CA, and a server certificate for mx.fake.test (also
# localhost, 127.0.0.1 and ::1) signed by it. Nothing here is secret.
set -eu
dir=${1:?usage: gen-certs.sh DIR}
mkdir -p "$dir"
cd "$dir"
days=30
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	-keyout ca.key -out ca.pem -days $days \
	-subj "/O=smtprobe tests/CN=smtprobe test CA" \
	-addext basicConstraints=critical,CA:TRUE \
	-addext keyUsage=critical,keyCertSign,cRLSign 2>/dev/null
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	-keyout server.key -out server.csr \
	-subj "/O=smtprobe tests/CN=mx.fake.test" 2>/dev/null
printf '%s\n' \
	"subjectAltName=DNS:mx.fake.test,DNS:localhost,IP:127.0.0.1,IP:::1" \
	"basicConstraints=CA:FALSE" \
	"extendedKeyUsage=serverAuth" > server.ext
openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key \
	-CAcreateserial -out server.pem -days $days -extfile server.ext \
	2>/dev/null
# a self-signed certificate that no CA vouches for
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	-keyout self.key -out self.pem -days $days \
	-subj "/CN=self.fake.test" \
	-addext subjectAltName=DNS:self.fake.test 2>/dev/null
rm -f server.csr server.ext ca.srl
