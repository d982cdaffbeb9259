// The console's in-browser verifier (crates/comity-server/console/verify.js), run in Node 20 on
// published known answers, and on a ledger comity itself writes when its binary is built:
// - RFC 6962 leaves, roots and inclusion proofs of the Certificate Transparency reference
//   vectors, github.com/transparency-dev/merkle `testonly/constants.go` (LeafInputs,
//   RootHashes), `testonly/reference_test.go` (TestRefInclusionProof) and
//   `proof/verify_test.go` (inclusionProofs, and the tampering of corruptInclusionProof) —
//   the same vectors crates/comity-ledger/tests/vectors.rs checks the Rust side against;
// - the signed note and keys of golang.org/x/mod/sumdb/note (package documentation and
//   note_test.go: PeterNeumann, EnochRoot), and the sum.golang.org verifier key (cmd/go);
// - the checkpoint of the C2SP tlog-checkpoint specification.
// Tampered proofs, notes, keys and checkpoints must be refused.
//
//   node tests/browser/verify-vectors.mjs      (exit 1 on any failure)

import { readFileSync, existsSync, mkdtempSync, rmSync } from "node:fs";
import { execFileSync } from "node:child_process";
import { createHash, generateKeyPairSync, sign } from "node:crypto";
import { tmpdir } from "node:os";
import { fileURLToPath } from "node:url";
import { dirname, join } from "node:path";

const here = dirname(fileURLToPath(import.meta.url));
const repo = join(here, "../..");
new Function(readFileSync(join(repo, "crates/comity-server/console/verify.js"), "utf8"))();
const v = globalThis.comityVerify;

let failures = 0;
function check(ok, what) {
  console.log((ok ? "ok   " : "FAIL ") + what);
  if (!ok) failures++;
}
/** The error a promise (or function) ends in, or null when it succeeds. */
async function errorOf(f) {
  try { await f(); return null; } catch (e) { return e; }
}
const refused = async (f) => (await errorOf(f)) !== null;
const b64 = (bytes) => Buffer.from(bytes).toString("base64");
const EM = "\u2014";

// ---- RFC 6962 inclusion proofs ------------------------------------------------------------

// transparency-dev/merkle testonly/constants.go: LeafInputs() and RootHashes() (by size).
const LEAVES = ["", "00", "10", "2021", "3031", "40414243", "5051525354555657", "606162636465666768696a6b6c6d6e6f"];
const ROOTS = [
  "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
  "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
  "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
  "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
  "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
  "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
  "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
  "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
  "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
];
// testonly/reference_test.go TestRefInclusionProof: [index, size, PATH(index, D[size])]. The four
// inclusionProofs of proof/verify_test.go ({1, 8}, {6, 8}, {3, 3}, {2, 5}, leaves counted from 1)
// are among them.
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
// proof/verify_test.go sha256SomeHash: a hash that is nothing in particular.
const SOME_HASH = v.fromHex("abacaba000000000000000000000000000000000000000000060061e00123456");

/** Whether (index, size, leaf, proof) leads to `root`: false when refused or elsewhere. */
async function proves(index, size, leaf, proof, root) {
  try { return v.toHex(await v.rootFromInclusion(index, size, leaf, proof)) === v.toHex(root); } catch { return false; }
}

check(v.toHex(await v.leafHash(new Uint8Array())) === ROOTS[1], "the leaf hash of the empty leaf is the root of size 1");
for (const [index, size, path] of INCLUSION) {
  const name = `leaf ${index} of ${size}`;
  const leaf = await v.leafHash(v.fromHex(LEAVES[index]));
  const proof = path.map(v.fromHex);
  const root = v.fromHex(ROOTS[size]);
  check(await proves(index, size, leaf, proof, root), `${name}: the published proof leads to the published root`);
  // corruptInclusionProof: each of these must not prove the leaf.
  const probes = [
    ["index - 1", index - 1, size, leaf, proof, root],
    ["index + 1", index + 1, size, leaf, proof, root],
    ["index ^ 2", index ^ 2, size, leaf, proof, root],
    ["size * 2", index, size * 2, leaf, proof, root],
    ["size / 2", index, Math.floor(size / 2), leaf, proof, root],
    ["wrong leaf", index, size, await v.leafHash(new TextEncoder().encode("WrongLeaf")), proof, root],
    ["empty root", index, size, leaf, proof, v.fromHex(ROOTS[0])],
    ["random root", index, size, leaf, proof, SOME_HASH],
    ["trailing garbage", index, size, leaf, [...proof, new Uint8Array()], root],
    ["trailing root", index, size, leaf, [...proof, root], root],
    ["preceding garbage", index, size, leaf, [new Uint8Array(), ...proof], root],
    ["preceding root", index, size, leaf, [root, ...proof], root],
  ];
  proof.forEach((_, i) => {
    const bent = proof.map((h) => h.slice());
    bent[i][0] ^= 8;
    probes.push([`proof[${i}] bit 3 flipped`, index, size, leaf, bent, root]);
  });
  if (proof.length > 0) probes.push(["removed component", index, size, leaf, proof.slice(0, -1), root]);
  if (proof.length > 1) probes.push(["inserted component", index, size, leaf, [proof[0], SOME_HASH, ...proof.slice(1)], root]);
  const wrong = [];
  for (const [what, ...args] of probes) if (await proves(...args)) wrong.push(what);
  check(wrong.length === 0, `${name}: ${probes.length} tampered proofs refused` + (wrong.length ? " (accepted: " + wrong.join(", ") + ")" : ""));
}
// Malformed proofs throw a reason, rather than return a root.
{
  const leaf = await v.leafHash(v.fromHex(LEAVES[5]));
  const proof = INCLUSION[6][2].map(v.fromHex);
  const e1 = await errorOf(() => v.rootFromInclusion(8, 8, leaf, proof));
  check(/leaf 8 is not in a tree of 8/.test(e1?.message), "index >= size throws: " + e1?.message);
  const e2 = await errorOf(() => v.rootFromInclusion(5, 8, leaf, proof.slice(1)));
  check(/has 2 hashes.*has 3/.test(e2?.message), "a short proof throws: " + e2?.message);
  const e3 = await errorOf(() => v.rootFromInclusion(0, 0, leaf, []));
  check(e3 !== null, "nothing is in an empty tree: " + e3?.message);
  const e4 = await errorOf(() => v.rootFromInclusion(5, 8, leaf, [proof[0].slice(1), proof[1], proof[2]]));
  check(/32 bytes/.test(e4?.message), "a 31-byte hash throws: " + e4?.message);
}

// ---- Signed notes: golang.org/x/mod/sumdb/note --------------------------------------------

// The package documentation's example, and note_test.go's second key (TestOpen).
const PETER = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW";
const ENOCH = "EnochRoot+af0cfe78+ATtqJ7zOtqQtYqOo0CpvDXNlMhV3HeJDpjrASKGLWdop";
const TEXT = "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n";
const PETER_SIG = "x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=";
const ENOCH_SIG = "rwz+eBzmZa0SO3NbfRGzPCpDckykFXSdeX+MNtCOXm2/5n2tiOHp+vAF1aGrQ5ovTG01oOTGwnWLox33WWd1RvMc+QQ=";
const line = (name, sig) => `${EM} ${name} ${sig}\n`;
const NOTE = TEXT + "\n" + line("PeterNeumann", PETER_SIG);
/** The signature base64 with byte `at` of (key ID || signature) flipped. */
const flip = (sig, at) => { const b = Buffer.from(sig, "base64"); b[at] ^= 1; return b.toString("base64"); };

const peter = await v.parseVerifierKey(PETER);
const enoch = await v.parseVerifierKey(ENOCH);
check(peter.name === "PeterNeumann" && v.toHex(peter.id) === "c74f20a3", "the published key parses: name and key ID");
check(await v.openNote(NOTE, peter) === TEXT, "the published note's signature verifies; its text is returned with its final newline");
const both = TEXT + "\n" + line("PeterNeumann", PETER_SIG) + line("EnochRoot", ENOCH_SIG);
check(await v.openNote(both, peter) === TEXT && await v.openNote(both, enoch) === TEXT, "a doubly signed note opens with either key; the other line is skipped");
check(await refused(() => v.openNote(NOTE.replace("answer", "Answer"), peter)), "a text with one byte changed is refused");
check(await refused(() => v.openNote(NOTE.replace("problem is.", "problem is!"), peter)), "a text with its last line changed is refused");
check(await refused(() => v.openNote(TEXT + "\n" + line("PeterNeumann", flip(PETER_SIG, 4)), peter)), "a signature with its first byte flipped is refused");
check(await refused(() => v.openNote(TEXT + "\n" + line("PeterNeumann", flip(PETER_SIG, 67)), peter)), "a signature with its last byte flipped is refused");
const noSig = await errorOf(() => v.openNote(TEXT + "\n" + line("PeterNeumann", flip(PETER_SIG, 0)), peter));
check(/no signature by PeterNeumann\+c74f20a3/.test(noSig?.message), "a line whose key ID differs is no signature by the key: " + noSig?.message);
check(await refused(() => v.openNote(TEXT + "\n" + line("EnochRoot", ENOCH_SIG), peter)), "a note without the pinned key's signature is refused");
check(await refused(() => v.openNote(TEXT + "\n" + line("PeterNeumann2", PETER_SIG), peter)), "the right key ID and signature under another name are no signature by the key");
check(await refused(() => v.openNote(TEXT + "\n" + line("PeterNeumann", PETER_SIG) + line("PeterNeumann", flip(PETER_SIG, 30)), peter)),
  "every line by the pinned key must verify, not only the first (as open_note)");
for (const [what, note] of [
  ["no blank line", TEXT + line("PeterNeumann", PETER_SIG)],
  ["no final newline", NOTE.slice(0, -1)],
  ["no signature lines", TEXT + "\n"],
  ["a control character", "\t" + NOTE],
  ["a line that is not a signature", NOTE + "unexpected line\n"],
  ["a hyphen for the em dash", TEXT + "\n- PeterNeumann " + PETER_SIG + "\n"],
  ["a signature not in base64", TEXT + "\n" + line("PeterNeumann", "not*base64")],
  ["a signature of 3 bytes", TEXT + "\n" + line("PeterNeumann", "AAAA")],
  ["unpadded base64", TEXT + "\n" + line("PeterNeumann", PETER_SIG.slice(0, -1))],
  ["101 signature lines", TEXT + "\n" + line("PeterNeumann", PETER_SIG).repeat(101)],
]) {
  check(await refused(() => v.openNote(note, peter)), "a malformed note is refused: " + what);
}
check(await v.openNote(TEXT + "\n" + line("PeterNeumann", PETER_SIG).repeat(100), peter) === TEXT, "100 signature lines are still a note");
// The note verifies, but it is no checkpoint: verifyNote says so, after the signature.
const notCp = await errorOf(() => v.verifyNote(NOTE, peter));
check(/not a checkpoint/.test(notCp?.message), "verifyNote: a signed text that is no checkpoint is refused as such: " + notCp?.message);

// Keys.
for (const [what, key] of [
  ["a key ID that does not match", PETER.replace("c74f20a3", "c74f20a4")],
  ["an upper-case key ID", PETER.replace("c74f20a3", "C74F20A3")],
  ["another name", PETER.replace("PeterNeumann", "PeterNeuman")],
  ["no key", "PeterNeumann+c74f20a3"],
  ["an empty name", PETER.replace("PeterNeumann", "")],
  ["a name with a space", "Peter Neumann" + PETER.slice(12)],
  ["a signature type other than Ed25519", "PeterNeumann+c74f20a3+" + b64(Buffer.concat([Buffer.of(2), Buffer.from(PETER.split("+")[2], "base64").subarray(1)]))],
  ["a key of 31 bytes", "PeterNeumann+c74f20a3+" + b64(Buffer.from(PETER.split("+")[2], "base64").subarray(0, 32))],
  ["a private key", "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"],
]) {
  check(await refused(() => v.parseVerifierKey(key)), "a bad verifier key is refused: " + what);
}
// cmd/go's key for sum.golang.org: its base64 holds "+", which is no field separator.
const sumdb = await v.parseVerifierKey("sum.golang.org+033de0ae+Ac4zctda0e5eza+HJyk9SxEdh+s3Ux18htTTAD8OuAn8");
check(sumdb.name === "sum.golang.org" && v.toHex(sumdb.id) === "033de0ae", "a published key whose base64 holds + parses (sum.golang.org)");

// Keys of small order: WebCrypto imports them and lets anyone forge (R = identity, S = 0
// verifies for some messages); comity refuses them (ed25519-dalek `is_weak`), and so must this.
{
  const forged = new Uint8Array(64);
  forged[0] = 1;
  const ys = ["00".repeat(32), "01" + "00".repeat(31), "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05",
    "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a",
    ...["ec", "ed", "ee"].map((b) => b + "ff".repeat(30) + "7f")];
  let forgeable = 0, accepted = [];
  for (const y of ys) for (const sign of [0, 0x80]) {
    const key = Buffer.from(y, "hex");
    key[31] |= sign;
    const k = await crypto.subtle.importKey("raw", key, { name: "Ed25519" }, false, ["verify"]).catch(() => null);
    for (let i = 0; k && i < 64; i++) {
      if (await crypto.subtle.verify({ name: "Ed25519" }, k, forged, Buffer.from("message " + i))) { forgeable++; break; }
    }
    const id = createHash("sha256").update(Buffer.concat([Buffer.from("weak\n"), Buffer.of(1), key])).digest().subarray(0, 4);
    if (!(await refused(() => v.parseVerifierKey("weak+" + id.toString("hex") + "+" + b64(Buffer.concat([Buffer.of(1), key])))))) accepted.push(key.toString("hex"));
  }
  console.log(`     (WebCrypto lets a forged signature through under ${forgeable} of the 14 small-order keys)`);
  check(accepted.length === 0, "every key of small order is refused" + (accepted.length ? ": accepted " + accepted.join(", ") : ""));
  // A 32-byte string that is no point of the curve (y = 2: x² = 3 / (4d + 1) is no square).
  const noPoint = Buffer.alloc(32); noPoint[0] = 2;
  const id = createHash("sha256").update(Buffer.concat([Buffer.from("np\n"), Buffer.of(1), noPoint])).digest().subarray(0, 4);
  const e = await errorOf(() => v.parseVerifierKey("np+" + id.toString("hex") + "+" + b64(Buffer.concat([Buffer.of(1), noPoint]))));
  check(/usable/.test(e?.message), "32 bytes that are no point are refused as a key: " + e?.message);
}

// A signature whose R is the identity (small order), made with the secret scalar: WebCrypto
// accepts it, ed25519-dalek's verify_strict (comity) does not, and neither must this.
{
  const L = 2n ** 252n + 27742317777372353535851937790883648493n;
  const le = (bytes) => [...bytes].reverse().reduce((n, b) => (n << 8n) | BigInt(b), 0n);
  const { publicKey, privateKey } = generateKeyPairSync("ed25519");
  const A = publicKey.export({ format: "der", type: "spki" }).subarray(-32);
  const h = createHash("sha512").update(privateKey.export({ format: "der", type: "pkcs8" }).subarray(-32)).digest();
  h[0] &= 248; h[31] &= 127; h[31] |= 64;
  const a = le(h.subarray(0, 32));
  const R = Buffer.alloc(32); R[0] = 1;
  const body = "weak-r.example/log\n1\n" + b64(v.fromHex(ROOTS[1])) + "\n";
  const k = le(createHash("sha512").update(Buffer.concat([R, A, Buffer.from(body)])).digest()) % L;
  const S = Buffer.from((k * a % L).toString(16).padStart(64, "0"), "hex").reverse();
  const signature = Buffer.concat([R, S]);
  const key = await crypto.subtle.importKey("raw", A, { name: "Ed25519" }, false, ["verify"]);
  const webcrypto = await crypto.subtle.verify({ name: "Ed25519" }, key, signature, Buffer.from(body));
  const id = createHash("sha256").update(Buffer.concat([Buffer.from("weak-r.example/log\n"), Buffer.of(1), A])).digest().subarray(0, 4);
  const vkey = "weak-r.example/log+" + id.toString("hex") + "+" + b64(Buffer.concat([Buffer.of(1), A]));
  const note = body + "\n" + line("weak-r.example/log", b64(Buffer.concat([id, signature])));
  check(webcrypto && await refused(() => v.verifyNote(note, vkey)), `a signature whose R has small order is refused (WebCrypto alone ${webcrypto ? "accepts" : "refuses"} it)`);
}

// ---- Checkpoints (C2SP tlog-checkpoint) ----------------------------------------------------

// The specification's example.
const SPEC = "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n";
const spec = v.parseCheckpoint(SPEC);
check(spec.origin === "example.com/behind-the-sofa" && spec.size === 20852163 &&
  v.toHex(spec.root) === "0ac5186a91863e8e1d90c808014aa89bf5da8e3ee1d9f07630f0378f68f1ab62", "the C2SP specification's checkpoint parses");
const R = "CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=";
for (const text of [SPEC.trimEnd(), "log\n1\n", "log\n", `\n1\n${R}\n`, `log\n01\n${R}\n`, `log\n+1\n${R}\n`, `log\n 1\n${R}\n`,
  `log\n\n${R}\n`, "log\n1\n" + R.slice(0, -1) + "\n", "log\n1\n" + R.slice(0, -2) + "J=\n",
  "log\n1\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxqw==\n", `log\n1\n${R}\nextension\n`]) {
  check(await refused(() => v.parseCheckpoint(text)), "a checkpoint text comity refuses is refused: " + JSON.stringify(text));
}
check(v.parseCheckpoint(`log\n0\n${R}\n`).size === 0, "size 0 is a size");

// ---- verifyEntry, each step, on a ledger signed here the way comity-ledger signs ------------

/** A note key made by Node's Ed25519, as comity-ledger's NoteSigner: {vkey, sign(body) → note}. */
function noteKey(name, wantPlus) {
  for (;;) {
    const { publicKey, privateKey } = generateKeyPairSync("ed25519");
    const raw = publicKey.export({ format: "der", type: "spki" }).subarray(-32);
    const id = createHash("sha256").update(Buffer.concat([Buffer.from(name + "\n"), Buffer.of(1), raw])).digest().subarray(0, 4);
    const vkey = name + "+" + id.toString("hex") + "+" + b64(Buffer.concat([Buffer.of(1), raw]));
    if (wantPlus && !vkey.split("+").slice(2).join("+").includes("+")) continue;
    return { vkey, sign: (body) => body + "\n" + line(name, b64(Buffer.concat([id, sign(null, Buffer.from(body), privateKey)]))) };
  }
}
{
  const log = noteKey("example.com/log", true); // a key whose base64 holds "+" too
  const body = "example.com/log\n8\n" + b64(v.fromHex(ROOTS[8])) + "\n";
  const checkpoint = log.sign(body);
  const entry = "@ABC"; // leaf 5: 40414243
  const proof = { leaf_index: 5, tree_size: 8, leaf_hash: v.toHex(await v.leafHash(v.fromHex(LEAVES[5]))), hashes: INCLUSION[6][2], root: ROOTS[8] };
  const args = { entry, index: 5, proof, checkpoint, vkey: log.vkey };
  const head = await v.verifyNote(checkpoint, await v.parseVerifierKey(log.vkey));
  check(head.text === body && head.origin === "example.com/log" && head.size === 8 && v.toHex(head.root) === ROOTS[8], "verifyNote: {text, origin, size, root} of a signed checkpoint");
  const ok = await v.verifyEntry(args);
  check(ok.ok && ok.size === 8 && ok.root === ROOTS[8] && ok.origin === "example.com/log", "verifyEntry: a true entry, proof and checkpoint hold: " + JSON.stringify(ok));
  const other = noteKey("example.com/log", false);
  for (const [step, change] of [
    ["key", { vkey: log.vkey.replace(/\+[0-9a-f]{8}\+/, "+00000000+") }],
    ["signature", { vkey: other.vkey }],
    ["signature", { checkpoint: checkpoint.replace("\n8\n", "\n9\n") }],
    ["checkpoint", { checkpoint: log.sign(body + "extension\n") }],
    ["size", { proof: { ...proof, tree_size: 7 } }],
    ["index", { index: 4 }],
    ["proof", { proof: { ...proof, hashes: proof.hashes.slice(1) } }],
    ["proof", { proof: { ...proof, hashes: [proof.hashes[0].slice(2), ...proof.hashes.slice(1)] } }],
    ["proof", { proof: { ...proof, extra: 1 } }],
    ["root", { entry: "@ABD" }],
    ["root", { proof: { ...proof, hashes: [flipHex(proof.hashes[0]), ...proof.hashes.slice(1)] } }],
    ["root", { checkpoint: log.sign("example.com/log\n8\n" + b64(v.fromHex(ROOTS[7].replace(/^../, "00"))) + "\n") }],
  ]) {
    const r = await v.verifyEntry({ ...args, ...change });
    check(!r.ok && r.step === step && typeof r.reason === "string", `verifyEntry refuses at step ${step}: ${r.reason}`);
  }
}
function flipHex(hex) { return (parseInt(hex.slice(0, 2), 16) ^ 1).toString(16).padStart(2, "0") + hex.slice(2); }

// ---- A ledger comity wrote (when target/debug/comity is built) ------------------------------

const comity = join(repo, "target/debug/comity");
if (!existsSync(comity)) {
  console.log("skip comity's own ledger: target/debug/comity is not built");
} else {
  const dir = mkdtempSync(join(tmpdir(), "comity-verify-"));
  const env = { ...process.env, COMITY_DB: join(dir, "ledger.db"), COMITY_DATA_DIR: join(dir, "data") };
  const run = (...args) => execFileSync(comity, args, { cwd: repo, env, encoding: "utf8", timeout: 120000, stdio: ["ignore", "pipe", "pipe"] });
  let ledger = null;
  try {
    run("ingest", "examples/nyc-doc-detainer.json", "examples/columbus-sheriff-detainer.json");
    const vkey = run("audit", "key").trim();
    const checkpoint = run("audit", "checkpoint");
    const size = Number(checkpoint.split("\n")[1]);
    const entries = [];
    for (let i = 0; i < size; i++) {
      entries.push({ index: i, entry: run("audit", "entry", "--index", String(i)), proof: JSON.parse(run("audit", "prove", "--index", String(i), "--size", String(size))) });
    }
    ledger = { vkey, checkpoint, size, entries };
  } catch (e) {
    console.log("skip comity's own ledger: running comity failed: " + String(e.stderr || e.message).trim().split("\n")[0]);
  }
  if (ledger) {
    const { vkey, checkpoint, size, entries } = ledger;
    const head = await v.verifyNote(checkpoint, vkey);
    check(head.origin === "comity.local/ledger" && head.size === size && size > 0, `comity's checkpoint verifies against \`comity audit key\` (${vkey}): ${size} entries`);
    let all = true;
    for (const { index, entry, proof } of entries) {
      const r = await v.verifyEntry({ entry, index, proof, checkpoint, vkey });
      const leaf = v.toHex(await v.leafHash(new TextEncoder().encode(entry)));
      if (!r.ok || leaf !== proof.leaf_hash || r.root !== proof.root) {
        all = false;
        console.log(`     entry ${index}: ${JSON.stringify(r)}`);
      }
    }
    check(all, `every entry of comity's ledger verifies with \`comity audit prove\`'s proof, and its leaf hash and root are comity's`);
    const last = entries[entries.length - 1];
    const tampered = await v.verifyEntry({ ...last, entry: last.entry.replace("{", "{ "), checkpoint, vkey });
    check(!tampered.ok && tampered.step === "root", "a comity entry with one space added is refused: " + tampered.reason);
    const impostor = noteKey("comity.local/ledger", false).vkey;
    const forged = await v.verifyEntry({ ...last, checkpoint, vkey: impostor });
    check(!forged.ok && forged.step === "signature", "comity's checkpoint against another key of the same name is refused: " + forged.reason);
  }
  rmSync(dir, { recursive: true, force: true });
}

console.log(failures ? failures + " check(s) FAILED" : "every check passed");
process.exit(failures ? 1 : 0);
