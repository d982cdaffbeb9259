// The console's in-browser verifier (crates/comity-server/console/verify.js), run in Node on
// published known answers:
// - RFC 6962 leaves, roots and inclusion proofs of the Certificate Transparency reference
//   vectors, transparency-dev/merkle `testonly/constants.go` and `testonly/reference_test.go`
//   (the same vectors crates/comity-ledger/tests/vectors.rs checks the Rust side against);
// - the signed note and verifier key of golang.org/x/mod/sumdb/note `note_test.go`.
// Tampered proofs, signatures and keys must be refused.

import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { dirname, join } from "node:path";

const here = dirname(fileURLToPath(import.meta.url));
new Function(readFileSync(join(here, "../../crates/comity-server/console/verify.js"), "utf8"))();
const v = globalThis.comityVerify;

let failures = 0;
function check(ok, what) {
  console.log((ok ? "ok   " : "FAIL ") + what);
  if (!ok) failures++;
}
async function refused(promise) {
  try { await promise; return false; } catch { return true; }
}

const LEAVES = ["", "00", "10", "2021", "3031", "40414243", "5051525354555657", "606162636465666768696a6b6c6d6e6f"];
const ROOTS = {
  1: "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
  2: "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
  3: "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
  5: "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
  8: "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
};
const INCLUSION = [
  [0, 1, []],
  [0, 2, ["96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7"]],
  [1, 2, ["6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"]],
  [2, 3, ["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"]],
  [1, 5, ["6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
          "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
          "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"]],
  [0, 8, ["96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
          "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
          "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"]],
  [5, 8, ["bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
          "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
          "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"]],
];

check(v.toHex(await v.leafHash(new Uint8Array())) === ROOTS[1], "the leaf hash of the empty leaf");
for (const [index, size, path] of INCLUSION) {
  const leaf = await v.leafHash(v.fromHex(LEAVES[index]));
  const proof = path.map(v.fromHex);
  const root = v.toHex(await v.rootFromInclusion(index, size, leaf, proof));
  check(root === ROOTS[size], `leaf ${index} of ${size}: the proof leads to the published root`);
  if (proof.length) {
    const bent = proof.map((h) => h.slice());
    bent[0][0] ^= 1;
    check(v.toHex(await v.rootFromInclusion(index, size, leaf, bent)) !== ROOTS[size], `leaf ${index} of ${size}: a changed hash leads elsewhere`);
    check(await refused(v.rootFromInclusion(index, size, leaf, proof.slice(1))), `leaf ${index} of ${size}: a short proof is refused`);
  }
  check(await refused(v.rootFromInclusion(index, size, leaf, [...proof, proof[0] || leaf])), `leaf ${index} of ${size}: a long proof is refused`);
  check(await refused(v.rootFromInclusion(size, size, leaf, proof)), `leaf ${size} is not in a tree of ${size}`);
}

// golang.org/x/mod/sumdb/note: PeterNeumann's key and signed note.
const PETER = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW";
const TEXT = "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n";
const SIG = "\u2014 PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n";
const ENOCH_SIG = "\u2014 EnochRoot rwz+eBzmZa0SO3NbfRGzPCpDckykFXSdeX+MNtCOXm2/5n2tiOHp+vAF1aGrQ5ovTG01oOTGwnWLox33WWd1RvMc+QQ=\n";
const peter = await v.parseVerifierKey(PETER);
check(await v.openNote(TEXT + "\n" + SIG, peter) === TEXT, "the published note opens with its key");
check(await v.openNote(TEXT + "\n" + ENOCH_SIG + SIG, peter) === TEXT, "another key's signature line is skipped");
check(await refused(v.openNote(TEXT.replace("answer", "Answer") + "\n" + SIG, peter)), "a changed text is refused");
check(await refused(v.openNote(TEXT + "\n" + SIG.replace("x08go", "x08gp"), peter)), "a changed signature is refused");
check(await refused(v.openNote(TEXT + "\n" + ENOCH_SIG, peter)), "a note without the pinned key's signature is refused");
check(await refused(v.parseVerifierKey(PETER.replace("c74f20a3", "c74f20a4"))), "a key whose ID does not match is refused");
check(await refused(v.parseVerifierKey("PeterNeumann+c74f20a3")), "a key without its key is refused");
// A key whose base64 holds "+" (about one key in four): made here with Node's own Ed25519,
// its note signed the way comity-ledger signs, and verified by the browser's code.
{
  const { generateKeyPairSync, sign, createHash } = await import("node:crypto");
  let vkey, privateKey;
  do {
    const pair = generateKeyPairSync("ed25519");
    privateKey = pair.privateKey;
    const raw = pair.publicKey.export({ format: "der", type: "spki" }).subarray(-32);
    const id = createHash("sha256").update(Buffer.concat([Buffer.from("plus.example/log\n"), Buffer.of(1), raw])).digest().subarray(0, 4);
    vkey = "plus.example/log+" + id.toString("hex") + "+" + Buffer.concat([Buffer.of(1), raw]).toString("base64");
    var blobId = id;
  } while (!vkey.split("+").slice(2).join("+").includes("+"));
  const body = "plus.example/log\n1\n" + Buffer.from(v.fromHex(ROOTS[1])).toString("base64") + "\n";
  const signature = sign(null, Buffer.from(body), privateKey);
  const note = body + "\n\u2014 plus.example/log " + Buffer.concat([blobId, signature]).toString("base64") + "\n";
  const head = await v.verifyCheckpoint(note, await v.parseVerifierKey(vkey));
  check(head.size === 1 && v.toHex(head.root) === ROOTS[1], "a key whose base64 holds + parses and verifies its checkpoint");
}

// A checkpoint: exactly origin, size and root.
const cp = v.parseCheckpoint("example.com/log\n8\n" + Buffer.from(v.fromHex(ROOTS[8])).toString("base64") + "\n");
check(cp.size === 8 && v.toHex(cp.root) === ROOTS[8], "a checkpoint's body parses");
check(await refused(Promise.resolve().then(() => v.parseCheckpoint("example.com/log\n08\nAAAA\n"))), "a malformed checkpoint is refused");

console.log(failures ? failures + " check(s) failed" : "every check passed");
process.exit(failures ? 1 : 0);
