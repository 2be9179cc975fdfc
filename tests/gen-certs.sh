#!/bin/sh
# gen-certs.sh DIR - make the TLS material the tests use, fresh each
# time: a test CA, and a server certificate for mx.fake.test (also
# localhost, 127.0.0.1 and ::1) signed by it, a client certificate
# (client.pem) and a server certificate valid for 13 days only
# (soon.pem) signed by it, a self-signed one, and a
# hostile self-signed one (hostile.pem) whose subject (so also issuer)
# and SAN carry what a terminal must never receive raw: ESC/OSC and CSI
# sequences, BEL, the C1 control U+0085, U+202E (right-to-left
# override), and in one SAN bytes that are not UTF-8. Nothing here is
# secret.
set -eu
dir=${1:?usage: gen-certs.sh DIR}
mkdir -p "$dir"
cd "$dir"
days=365
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
# a client certificate from the test CA (--tls-cert, fakemx -C)
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	-keyout client.key -out client.csr \
	-subj "/O=smtprobe tests/CN=client.fake.test" 2>/dev/null
printf '%s\n' "basicConstraints=CA:FALSE" "extendedKeyUsage=clientAuth" \
	> client.ext
openssl x509 -req -in client.csr -CA ca.pem -CAkey ca.key \
	-CAcreateserial -out client.pem -days $days -extfile client.ext \
	2>/dev/null
# a server certificate that expires in 13 days, within --tls-expiry-warn's
# default 14 from the start
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	-keyout soon.key -out soon.csr \
	-subj "/O=smtprobe tests/CN=soon.fake.test" 2>/dev/null
printf '%s\n' "subjectAltName=DNS:soon.fake.test,IP:127.0.0.1" \
	"basicConstraints=CA:FALSE" "extendedKeyUsage=serverAuth" > soon.ext
openssl x509 -req -in soon.csr -CA ca.pem -CAkey ca.key \
	-CAcreateserial -out soon.pem -days 13 -extfile soon.ext 2>/dev/null
# a self-signed certificate that no CA vouches for
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	-keyout self.key -out self.pem -days $days \
	-subj "/CN=self.fake.test" \
	-addext subjectAltName=DNS:self.fake.test 2>/dev/null
# the hostile one: printf makes the bytes, -utf8 keeps them as they are
esc=$(printf '\033') bel=$(printf '\007') nel=$(printf '\302\205')
rlo=$(printf '\342\200\256') bad=$(printf '\377\376')
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	-keyout hostile.key -out hostile.pem -days $days -utf8 \
	-subj "/O=evil${esc}]0;pwned-title${bel}org${nel}x/CN=hostile${rlo}gpj.exe${esc}[31m" \
	-addext "subjectAltName=DNS:san${esc}]0;san-title${bel}.fake.test,DNS:bad${bad}utf8.fake.test,DNS:rlo${rlo}x${nel}.fake.test,DNS:mx.fake.test,IP:127.0.0.1" \
	2>/dev/null
rm -f server.csr server.ext client.csr client.ext soon.csr soon.ext ca.srl
