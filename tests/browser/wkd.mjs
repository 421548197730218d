// wkd.mjs: OpenPGP.js's WKD client (@openpgp/wkd-client, pinned in
// package-lock.json) looks up WKD_EMAIL over real https (the namespace
// of tests/e2e/lib.sh's wkd_front; NODE_EXTRA_CA_CERTS names the test
// CA) and prints the primary fingerprint of the key it gets: the SHA-1
// of 0x99, the key packet's length in two bytes and its body (v4).
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const WKD = require('@openpgp/wkd-client');

// the first packet of b: [tag, body]
function firstPacket(b) {
	const c = b[0];
	if (!(c & 0x80)) throw new Error('not OpenPGP');
	if (c & 0x40) {
		const l = b[1];
		if (l < 192) return [c & 0x3f, b.subarray(2, 2 + l)];
		if (l < 224) {
			const n = ((l - 192) << 8) + b[2] + 192;
			return [c & 0x3f, b.subarray(3, 3 + n)];
		}
		const n = (b[2] << 24) | (b[3] << 16) | (b[4] << 8) | b[5];
		return [c & 0x3f, b.subarray(6, 6 + n)];
	}
	const lt = c & 3, tag = (c >> 2) & 0x0f;
	const n = lt === 0 ? b[1] : lt === 1 ? (b[1] << 8) | b[2] :
	    (b[1] << 24) | (b[2] << 16) | (b[3] << 8) | b[4];
	const off = lt === 0 ? 2 : lt === 1 ? 3 : 5;
	return [tag, b.subarray(off, off + n)];
}

const key = await new WKD().lookup({ email: process.env.WKD_EMAIL });
const [tag, body] = firstPacket(key);
if (tag !== 6) throw new Error(`the first packet is tag ${tag}, not a key`);
const h = createHash('sha1');
h.update(Buffer.from([0x99, body.length >> 8, body.length & 0xff]));
h.update(body);
console.log(h.digest('hex').toUpperCase());
